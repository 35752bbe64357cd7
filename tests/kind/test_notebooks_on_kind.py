"""The notebooks on kind: every lesson that has cells only kind runs, and the solutions'
chain followed by `rwk check` of every exercise (each reference solution gets full marks on
kind, with real pods behind it).

One pass each: that a notebook runs twice is the sandbox suite's test (tests/notebooks);
here what matters is that the cells marked for kind run against real containers. The
machinery is the notebook suite's own (papermill's parameterised copy, nbval in this process).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.clusters.kind import Kind

from ..notebooks.test_notebooks import (ROOT, ReferenceCheck, solution_namespace,
                                        _notebooks, check_reference, check_result,
                                        kernel_env, parameterised, run_nbval)
from .conftest import KIND_TEST_COST

pytestmark = [pytest.mark.cluster, pytest.mark.cost(KIND_TEST_COST)]

KIND_MARKERS = ("only_on_kind(", "only_where_ingress_is_served(")


def runs_cells_only_on_kind(notebook: Path) -> bool:
    cells = json.loads((ROOT / notebook).read_text())["cells"]
    return any(marker in "".join(cell["source"]) for cell in cells
               if cell["cell_type"] == "code" for marker in KIND_MARKERS)


LESSON_COSTS = {"10": 200, "06": 145, "07": 140, "02": 100, "09": 90}
"""Seconds the longer lessons took on kind in CI, so they are handed out early; others 50."""
LESSONS = [pytest.param(path, marks=pytest.mark.cost(LESSON_COSTS.get(path.name[:2], 50)),
                        id=path.stem)
           for path in _notebooks("lessons") if runs_cells_only_on_kind(path)]
SOLUTIONS = _notebooks("solutions")


@pytest.fixture(scope="module")
def env(kind_cluster: Kind, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The kernels' environment (the notebook suite's `kernel_env`) on the kind cluster:
    RWK_KIND_NAME makes lesson 00's `rwk up --backend kind` find it, and a state file of its
    own keeps `rwk status` from reading the sandbox workers'."""
    folder = tmp_path_factory.mktemp("kind-bin")
    return kernel_env(kind_cluster.kubeconfig, folder, RWK_KIND_NAME=kind_cluster.name,
                      RWK_STATE_FILE=str(folder / "state.json"))


def run_on_kind(notebook: Path, namespace: str, env: dict[str, str], workdir: Path) -> None:
    copy = parameterised(notebook, workdir, NAMESPACE=namespace, BACKEND="kind")
    check_result(run_nbval(copy, env), f"{notebook} on kind in namespace {namespace}")


def test_the_lessons_with_kind_cells_are_there():
    assert {p.values[0].name[:2] for p in LESSONS} >= {"00", "05", "06", "09"}, LESSONS


@pytest.mark.parametrize("notebook", LESSONS)
def test_lesson_on_kind(notebook: Path, env: dict[str, str], tmp_path: Path) -> None:
    run_on_kind(notebook, f"kind-lesson-{notebook.name[:2]}", env, tmp_path)


@pytest.mark.parametrize("notebook", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_on_kind(notebook: Path, env: dict[str, str], tmp_path: Path) -> None:
    run_on_kind(notebook, solution_namespace(notebook), env, tmp_path)


@pytest.mark.parametrize("notebook", SOLUTIONS, ids=lambda p: p.stem[3:])
def test_reference_gets_full_marks_on_kind(notebook: Path, env: dict[str, str]) -> None:
    check_reference(ReferenceCheck(notebook.stem[3:], "first",
                                   namespace=solution_namespace(notebook)), env)
