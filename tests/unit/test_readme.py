"""The README stays a front door: short, with the two commands, and no link in it or in
docs/ that leads nowhere (issue 31, item 6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

# At most a third of the 28,800 characters the README had grown to; `wc -c README.md`.
MAX_README_BYTES = 9_600
COMMANDS = ("bash scripts/course.sh", "bash scripts/test.sh")

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _prose(text: str) -> str:
    """The text without fenced blocks and code spans, where a `[x](y)` is not a link."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_anchor(h) for h in _HEADING.findall(_FENCE.sub("", page.read_text()))}


def _relative_links(page: Path) -> list[str]:
    return [
        target
        for target in _LINK.findall(_prose(page.read_text()))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)  # http:, mailto:, ...
    ]


def test_readme_is_at_most_a_third_of_what_it_was() -> None:
    size = len(README.read_bytes())
    assert size <= MAX_README_BYTES, (
        f"README.md is {size} bytes, over {MAX_README_BYTES}: move detail to a page under docs/"
        " and link it"
    )


def test_readme_shows_the_two_commands_in_a_code_block() -> None:
    blocks = "\n".join(m.group(0) for m in _FENCE.finditer(README.read_text()))
    for command in COMMANDS:
        assert command in blocks, f"README.md's code blocks lack `{command}`"
        script = ROOT / command.split()[-1]
        assert script.is_file(), f"README.md names {command}, but {script} does not exist"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_somewhere(page: Path) -> None:
    broken = []
    for target in _relative_links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: there is no {dest}")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target}: no heading of {dest.name} has the anchor #{anchor}")
    assert not broken, f"{page.relative_to(ROOT)} links to what is not there:\n" + "\n".join(broken)


def test_the_link_check_sees_links() -> None:
    """Guards the checker itself: a page with a broken link and a code span that only looks
    like one."""
    text = "[a](docs/a.md#x), `[b](no.md)`, [c](https://example.org)\n```\n[d](e.md)\n```\n"
    assert _LINK.findall(_prose(text)) == ["docs/a.md#x", "https://example.org"]
    assert _anchor("6b. Grade handed-in `notebooks`") == "6b-grade-handed-in-notebooks"
    assert _anchor("One host, many students") == "one-host-many-students"
