"""A `!` line never fails its cell (IPython does not raise on a non-zero exit), so every
notebook command that changes the cluster or waits goes through `sh`, which raises."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from checker.notebooks.helpers import CommandFailed, sh

ROOT = Path(__file__).resolve().parents[3]
CHANGES_OR_WAITS = re.compile(
    r"^\s*!kubectl\s+(?:-n\s+\S+\s+)?(apply|create|delete|label|annotate|scale|set|rollout|wait|"
    r"patch|cordon|drain|uncordon|expose|run|replace|taint)\b")


def test_no_bang_line_changes_the_cluster_or_waits():
    found = [f"{path.relative_to(ROOT)}: {line.strip()}"
             for folder in ("lessons", "exercises", "solutions")
             for path in sorted((ROOT / folder).glob("*.ipynb"))
             for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"
             for line in "".join(cell["source"]).splitlines() if CHANGES_OR_WAITS.match(line)]
    assert found == [], "use sh(...) or %%bash with set -e:\n" + "\n".join(found)


def test_sh_prints_the_output_and_raises_on_failure(capsys):
    sh("echo made it")
    assert capsys.readouterr().out == "made it\n"
    with pytest.raises(CommandFailed, match="exit status 3"):
        sh("echo partial; exit 3")
    with pytest.raises(CommandFailed):          # pipefail: the failing head of a pipe counts
        sh("false | cat")
