"""The checker's import contracts (.importlinter) hold: the packages' layers and the grading
core's import only downward, the grading core imports neither the cluster backends nor the
classroom, only checker.kube imports the kubernetes client, and the topic modules of
checker/grading/checks import none of one another."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = {"__init__", "common"}
"""The modules of checker/grading/checks that every topic may import."""


def test_import_contracts_are_kept():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    done = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_every_topic_module_is_in_the_independence_contract():
    """A topic added later is held to the rule too, not left out of the list by accident."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    listed = set(config["importlinter:contract:topics"]["modules"].split())
    topics = {f"checker.grading.checks.{path.stem}"
              for path in (ROOT / "checker/grading/checks").glob("*.py")
              if path.stem not in SHARED}
    assert listed == topics


def test_every_package_of_the_checker_has_its_place_in_the_layers():
    """A package added later is placed in the layers, not left outside every contract."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    layers = config["importlinter:contract:layers"]["layers"].replace(":", " ").replace("|", " ")
    placed = set(layers.split())
    found = {f"checker.{path.parent.name}" for path in (ROOT / "checker").glob("*/__init__.py")}
    found |= {f"checker.{path.stem}" for path in (ROOT / "checker").glob("*.py")
              if path.stem != "__init__"}
    assert placed == found
