"""The import contracts (.importlinter) can fail: each boundary they claim is broken on purpose,
in a scratch copy of the package, and lint-imports must name the contract that breaks.

test_layers.py shows the real tree keeps the contracts; this shows they forbid what
CONTRIBUTING.md says they forbid (issue 31, item 4: `:` and `|` had been read backwards, so two
"must not import each other" pairs were allowed to). The boundaries are written out here, not
read from .importlinter, so a contract loosened there fails here.

Each case copies `checker/` and `.importlinter` into its own tmp_path (about 10 ms; safe under
pytest-xdist), appends one import to a module of the importing side and runs lint-imports there.
The scratch copy is the one analysed, not the editable install of the checkout: lint-imports
puts its working directory first on sys.path (the editable install's finder is asked only after
sys.path), PYTHONPATH names it too, and each case asserts the reported import carries the line
number of the appended line, which the real module does not have.
"""

from __future__ import annotations

import configparser
import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))

REPRESENTATIVE = {
    "checker.gradebook": "checker.gradebook.model",
    "checker.notebooks": "checker.notebooks.helpers",
    "checker.grading": "checker.grading.model",
    "checker.clusters": "checker.clusters.base",
}
"""The module that stands for a package, on either side of an import between siblings."""

GRADING = "checker.grading."
INDEPENDENT = [
    ("layers", ["checker.gradebook", "checker.notebooks"]),
    ("layers", ["checker.grading", "checker.clusters"]),
    ("grading-core", [GRADING + "state", GRADING + "report"]),
    ("grading-core", [GRADING + name for name in ("model", "quantities", "certificates",
                                                    "masking")]),
]
"""Siblings of one layer that must not import each other (`|` in .importlinter)."""

UPWARD = [
    # One import per boundary between adjacent layers, from the lower layer to the upper.
    ("layers", "checker.classroom.roster", "checker.cli"),
    ("layers", "checker.gradebook.model", "checker.classroom.roster"),
    ("layers", "checker.grading.report", "checker.notebooks.panel"),
    ("layers", "checker.kube.reader", "checker.grading.state"),
    ("layers", "checker.errors", "checker.kube.client"),
    ("grading-core", GRADING + "runner", GRADING + "progress"),
    ("grading-core", GRADING + "exercises", GRADING + "runner"),
    ("grading-core", GRADING + "audit", GRADING + "exercises"),
    ("grading-core", GRADING + "checks.common", GRADING + "audit"),
    ("grading-core", GRADING + "state", GRADING + "checks.common"),
    ("grading-core", GRADING + "model", GRADING + "report"),
]

FORBIDDEN = [
    ("grading-reads-only", GRADING + "checks.storage", "checker.clusters.kind"),
    ("grading-reads-only", GRADING + "runner", "checker.classroom.provision"),
    ("grading-never-writes", GRADING + "state", "checker.kube.writer"),
    *[("kubernetes-client", module, "kubernetes")
      for module in ("checker.cli", "checker.classroom.roster", "checker.gradebook.model",
                     "checker.notebooks.live", GRADING + "state", "checker.clusters.base",
                     "checker.errors")],
    ("topics", GRADING + "checks.storage", GRADING + "checks.resources"),
    ("topics", GRADING + "checks.secrets", GRADING + "checks.configmaps"),
]

CASES = [
    *[(contract, REPRESENTATIVE.get(a, a), REPRESENTATIVE.get(b, b))
      for contract, siblings in INDEPENDENT for a, b in itertools.permutations(siblings, 2)],
    *UPWARD,
    *FORBIDDEN,
]


def _short(module: str) -> str:
    return module.removeprefix("checker.")


def _contract_names() -> dict[str, str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    prefix = "importlinter:contract:"
    return {section.removeprefix(prefix): config[section]["name"]
            for section in config.sections() if section.startswith(prefix)}


def _scratch(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "checker", tmp_path / "checker",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def _lint(where: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports in `where`: it reads `where/.importlinter` and analyses `where/checker`.
    COLUMNS keeps each contract's name and verdict on one line."""
    path = [str(where), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path), "COLUMNS": "500"}
    return subprocess.run([LINT, "--no-cache"], cwd=where, env=env, capture_output=True,
                          text=True)


def _analysed(done: subprocess.CompletedProcess[str]) -> str:
    found = re.search(r"Analyzed \d+ files, \d+ dependencies", done.stdout)
    assert found, done.stdout + done.stderr
    return found.group()


def test_the_unmodified_copy_keeps_every_contract_and_is_the_one_analysed(tmp_path):
    """The control: the copy passes, the same files are analysed as in the checkout, and
    `checker` is found in the copy from its working directory, not in the editable install."""
    scratch = _scratch(tmp_path)
    done = _lint(scratch)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
    assert _analysed(done) == _analysed(_lint(ROOT))
    where = "import importlib.util; print(importlib.util.find_spec('checker').origin)"
    spec = subprocess.run([sys.executable, "-c", where], cwd=scratch,
                          env={**os.environ, "PYTHONPATH": str(scratch)},
                          capture_output=True, text=True, check=True)
    assert Path(spec.stdout.strip()) == scratch / "checker" / "__init__.py"


@pytest.mark.parametrize(("contract", "importer", "imported"), CASES,
                         ids=[f"{c}:{_short(a)}->{_short(b)}" for c, a, b in CASES])
def test_an_import_across_a_claimed_boundary_breaks_the_contract(tmp_path, contract,
                                                                   importer, imported):
    scratch = _scratch(tmp_path)
    source = scratch.joinpath(*importer.split("."))
    source = source / "__init__.py" if source.is_dir() else source.with_suffix(".py")
    text = source.read_text()
    text += "" if text.endswith("\n") else "\n"
    line = text.count("\n") + 1
    source.write_text(f"{text}import {imported}  # breaks {contract} on purpose\n")

    done = _lint(scratch)
    output = re.sub(r"\s+", " ", done.stdout + done.stderr)
    assert done.returncode != 0, output
    assert f"{_contract_names()[contract]} BROKEN" in output
    assert f"{importer} -> {imported} (l.{line})" in output
