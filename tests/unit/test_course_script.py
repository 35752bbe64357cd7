"""scripts/course.sh, with a stub venv: what it asks of pip, rwk and JupyterLab, and that
JupyterLab, which refuses root without --allow-root, gets it exactly when run as root."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "course.sh"
BASH = shutil.which("bash")

pytestmark = pytest.mark.skipif(BASH is None, reason="the course script needs bash")


def stub_venv(tmp_path: Path) -> Path:
    """A venv whose python, rwk and jupyter only append their arguments to calls.log."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for tool in ("python", "rwk", "jupyter"):
        stub = venv / "bin" / tool
        stub.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{tmp_path}/calls.log"\n')
        stub.chmod(0o755)
    return venv


def calls(tmp_path: Path) -> list[str]:
    return (tmp_path / "calls.log").read_text().splitlines()


def open_lab(tmp_path: Path, uid: int) -> subprocess.CompletedProcess:
    """Source the script (which then defines its steps only) and run its launch step.

    RWK_VENV names the stub venv too, so a script that did run its steps when sourced
    would reach only stubs, never pip or a cluster."""
    venv = stub_venv(tmp_path)
    return subprocess.run([BASH, "-c", 'source "$1" && open_lab "$2" "$3"', "course.sh",
                           str(SCRIPT), str(venv), str(uid)],
                          cwd=ROOT, capture_output=True, text=True, timeout=30,
                          env={**os.environ, "RWK_VENV": str(venv)})


def test_as_root_jupyterlab_gets_allow_root_and_the_screen_says_so(tmp_path: Path) -> None:
    done = open_lab(tmp_path, 0)
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path) == ["jupyter lab lessons/ --allow-root"]
    assert "running as root: starting JupyterLab with --allow-root" in done.stdout


def test_as_another_user_jupyterlab_starts_without_it(tmp_path: Path) -> None:
    done = open_lab(tmp_path, 1000)
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path) == ["jupyter lab lessons/"]
    assert "--allow-root" not in done.stdout


def test_sourcing_the_script_runs_nothing(tmp_path: Path) -> None:
    venv = stub_venv(tmp_path)
    done = subprocess.run([BASH, "-c", 'source "$1"', "course.sh", str(SCRIPT)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=30,
                          env={**os.environ, "RWK_VENV": str(venv)})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and not (tmp_path / "calls.log").exists()


def test_the_whole_script_installs_starts_the_cluster_then_opens_the_lab(
        tmp_path: Path) -> None:
    """Run as a user would (`bash scripts/course.sh`), every tool stubbed: no cluster starts.
    The flag follows this process's own uid, so the test holds as root and as anyone else."""
    venv = stub_venv(tmp_path)
    done = subprocess.run([BASH, str(SCRIPT)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=30, env={**os.environ, "RWK_VENV": str(venv),
                                           "RWK_BACKEND": "sandbox"})
    assert done.returncode == 0, done.stdout + done.stderr
    root = os.geteuid() == 0
    assert calls(tmp_path) == [
        "python -m pip install --quiet --disable-pip-version-check -e .[course]",
        "python -m ipykernel install --sys-prefix --name rwk --display-name "
        "Real-World Kubernetes",
        "rwk up --backend sandbox",
        "jupyter lab lessons/" + (" --allow-root" if root else ""),
    ]
    assert ("--allow-root" in done.stdout) == root
