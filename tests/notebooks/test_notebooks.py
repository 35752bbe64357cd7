"""Every lesson, exercise and solution notebook runs top to bottom on a fresh sandbox, and
then once more on the same cluster (DESIGN.md: notebooks are idempotent; STYLE 12: examples
are tests). nbval executes them in a subprocess whose kernels inherit the sandbox's
kubeconfig; after each pass the reference solutions must have made their exercises pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from checker.backends.binaries import cached_path
from checker.backends.sandbox import Sandbox
from checker.backends.versions import load

from ..sandboxes import fresh_sandbox

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_NAME = os.environ.get("RWK_NBVAL_SANDBOX", "rwk-nbval")
"""Our own sandbox; another name lets two engineers run this suite on one machine at once."""
EXERCISES = ("namespaces", "configmaps", "secrets", "ingress", "resources", "probes", "autoscaling",
             "rolling-updates", "storage", "disruptions", "capstone")
"""The exercises whose solution notebooks exist; each must pass after the solutions ran."""


def notebooks() -> list[Path]:
    """In running order: exercises first (they must not fail unfilled, on a fresh cluster),
    then the solutions (which build on one another in `production`), then the lessons
    (each in its own namespace)."""
    return [path for folder in ("exercises", "solutions", "lessons")
            for path in sorted((ROOT / folder).glob("[0-9][0-9]-*.ipynb"))]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A private sandbox for the notebooks, with its own kubeconfig file."""
    with fresh_sandbox(SANDBOX_NAME, tmp_path_factory.mktemp("kube") / "config") as box:
        yield box


@pytest.fixture(scope="module")
def env(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment the notebooks' kernels and shell cells run in.

    KUBECONFIG points at the sandbox; RWK_SANDBOX_NAME makes `rwk up` and `rwk status` in
    00-setup find this sandbox, not a learner's; kubectl is the sandbox's own build, whose
    version matches the server, ahead of any other kubectl on PATH.
    """
    bin_dir = tmp_path_factory.mktemp("bin")
    kubectl = cached_path("kubectl", load().kubernetes)
    if kubectl.is_file():
        (bin_dir / "kubectl").symlink_to(kubectl)
    path = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent),
                            os.environ.get("PATH", "")])
    return {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig), "PATH": path,
            "RWK_SANDBOX_NAME": SANDBOX_NAME, "RWK_SANDBOX_PORT": "0"}


def run_nbval(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env",
         "--nbval-cell-timeout=300", "-p", "no:cacheprovider", "-q",
         *(str(path.relative_to(ROOT)) for path in notebooks())],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)


@pytest.mark.parametrize("attempt", ["first run", "second run"])
def test_every_notebook_runs(env: dict[str, str], attempt: str) -> None:
    assert notebooks(), "no notebooks found"
    done = run_nbval(env)
    assert done.returncode == 0, (
        f"nbval failed on the {attempt} (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    rwk = shutil.which("rwk", path=env["PATH"]) or "rwk"
    for exercise in EXERCISES:
        graded = subprocess.run([rwk, "check", exercise, "--namespace", "production"],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert graded.returncode == 0, (
            f"after the {attempt}, the reference solution of {exercise!r} does not pass:\n"
            f"{graded.stdout}\n{graded.stderr}")
