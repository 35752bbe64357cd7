"""The notebooks on kind: every lesson that has cells only kind runs, and the solutions'
chain followed by `rwk check` of every exercise (each reference solution gets full marks on
kind, with real pods behind it).

One pass each: that a notebook runs twice is the sandbox suite's test (tests/notebooks);
here what matters is that the cells marked for kind run against real containers. The
machinery is the notebook suite's own (papermill's parameterised copy, nbval in this process).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import papermill
import pytest

from .conftest import KIND_TEST_COST

from checker.clusters.binaries import cached_path
from checker.clusters.kind import Kind
from checker.clusters.versions import load

from ..notebooks.test_notebooks import (ROOT, SOLUTIONS_NAMESPACE, ReferenceCheck,
                                        _notebooks, check_reference, check_result, run_nbval)
from ..sandboxes import KUBECTL_ENV

pytestmark = [pytest.mark.cluster, pytest.mark.cost(KIND_TEST_COST)]

KIND_MARKERS = ("only_on_kind(", "only_where_ingress_is_served(")


def runs_cells_only_on_kind(notebook: Path) -> bool:
    cells = json.loads((ROOT / notebook).read_text())["cells"]
    return any(marker in "".join(cell["source"]) for cell in cells
               if cell["cell_type"] == "code" for marker in KIND_MARKERS)


LESSONS = [path for path in _notebooks("lessons") if runs_cells_only_on_kind(path)]
SOLUTIONS = _notebooks("solutions")


@pytest.fixture(scope="module")
def env(kind_cluster: Kind, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The kernels' environment: KUBECONFIG and RWK_KIND_NAME name the suite's kind cluster
    (so lesson 00's `rwk up --backend kind` finds it), a state file of its own (so `rwk
    status` does not read the sandbox workers'), and the Kubernetes release's kubectl."""
    folder = tmp_path_factory.mktemp("kind-bin")
    kubectl = cached_path("kubectl", load().kubernetes)
    if kubectl.is_file():
        (folder / "kubectl").symlink_to(kubectl)
    path = os.pathsep.join([str(folder), str(Path(sys.executable).parent),
                            os.environ.get("PATH", "")])
    return {**os.environ, "KUBECONFIG": str(kind_cluster.kubeconfig), "PATH": path,
            "RWK_KIND_NAME": kind_cluster.name, "RWK_STATE_FILE": str(folder / "state.json"),
            **KUBECTL_ENV}


def run_on_kind(notebook: Path, namespace: str, env: dict[str, str], workdir: Path) -> None:
    folder = workdir / notebook.parent
    folder.mkdir(parents=True, exist_ok=True)
    for sibling in (ROOT / notebook.parent).iterdir():
        if sibling.suffix != ".ipynb" and not (folder / sibling.name).exists():
            (folder / sibling.name).symlink_to(sibling)
    copy = folder / notebook.name
    papermill.execute_notebook(str(ROOT / notebook), str(copy), prepare_only=True,
                               parameters={"NAMESPACE": namespace, "BACKEND": "kind"},
                               progress_bar=False, log_output=False)
    check_result(run_nbval(copy, env), f"{notebook} on kind in namespace {namespace}")


def test_the_lessons_with_kind_cells_are_there():
    assert {p.name[:2] for p in LESSONS} >= {"00", "05", "06", "09"}, LESSONS


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda p: p.stem)
def test_lesson_on_kind(notebook: Path, env: dict[str, str], tmp_path: Path) -> None:
    run_on_kind(notebook, f"kind-lesson-{notebook.name[:2]}", env, tmp_path)


@pytest.mark.parametrize("notebook", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_on_kind(notebook: Path, env: dict[str, str], tmp_path: Path) -> None:
    run_on_kind(notebook, SOLUTIONS_NAMESPACE, env, tmp_path)


@pytest.mark.parametrize("exercise", [p.stem[3:] for p in SOLUTIONS])
def test_reference_gets_full_marks_on_kind(exercise: str, env: dict[str, str]) -> None:
    check_reference(ReferenceCheck(exercise, "first"), env)
