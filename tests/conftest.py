"""What every suite shares: one sandbox per test process, and how tests are spread over
pytest-xdist workers.

Each worker starts at most one sandbox (lazily, on the first test that needs a cluster) and
runs its tests one at a time against it; integration tests and notebooks take turns on it,
each in namespaces of its own. The kind suite (tests/kind) shares one kind cluster instead,
across workers, in the groups tests/kind/groups.py gives; this process deletes it at the end
(tests/kind/shared.py). `scripts/test.sh` runs `--dist loadgroup`: a group goes to one
worker as a whole and in order. Notebook runs name their group at the end of their id
(`[...@lessons/08]`: a notebook's two passes; `@solutions`: the solutions' chain); every other
test is grouped by its module, as `--dist loadfile` did. Groups are handed out longest first,
so the long notebook chains do not start last; the kind suite's lifecycle tests go last.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from xdist.scheduler import LoadScopeScheduling

from checker.clusters.sandbox import Sandbox

from .kind import shared as kind_shared
from .kind.groups import LIFECYCLE, SUITE as KIND_SUITE, kind_group
from .sandboxes import fresh_sandbox

CLUSTER_TEST_COST = 4.0
"""Rough seconds an integration test takes; a notebook run declares its own cost."""


def sandbox_name() -> str:
    """$RWK_TEST_SANDBOX (default rwk-test), suffixed by the xdist worker's name."""
    name = os.environ.get("RWK_TEST_SANDBOX", "rwk-test")
    if worker := os.environ.get("PYTEST_XDIST_WORKER"):
        name = f"{name}-{worker}"
    return name


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """This process's running sandbox, with its own kubeconfig; stopped at the end."""
    with fresh_sandbox(sandbox_name(), tmp_path_factory.mktemp("kube") / "config") as box:
        yield box


_KIND_SESSION = pytest.StashKey[bool]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cost(seconds): rough run time of a test, so long groups are scheduled first")
    if not hasattr(config, "workerinput") and kind_shared.open_session():
        config.stash[_KIND_SESSION] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process that started the session, after every worker: the kind cluster goes."""
    if config.stash.get(_KIND_SESSION, False):
        kind_shared.close_session(lambda message: print(f"[kind] {message}", flush=True))


def group_of(nodeid: str) -> str:
    """A test's group: the kind suite's (tests/kind/groups.py); else what follows "@" at the
    end of its parameter id (`test[...@group]`); else its module."""
    if nodeid.startswith(KIND_SUITE):
        return kind_group(nodeid)
    if nodeid.endswith("]") and "@" in nodeid[nodeid.rfind("["):]:
        return nodeid[nodeid.rfind("@") + 1:-1]
    return nodeid.split("::")[0]


class GroupScheduling(LoadScopeScheduling):
    """xdist's scope scheduling with `group_of` as the scope. (xdist's own loadgroup marks
    the group by rewriting test ids, which pytest 9.2 no longer allows.)"""

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> GroupScheduling | None:
    return GroupScheduling(config, log) if config.getvalue("dist") == "loadgroup" else None


def _cost(item: pytest.Item) -> float:
    marker = item.get_closest_marker("cost")
    if marker:
        return float(marker.args[0])
    return CLUSTER_TEST_COST if item.get_closest_marker("cluster") else 0.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    costs: dict[str, float] = {}
    for item in items:
        costs[group_of(item.nodeid)] = costs.get(group_of(item.nodeid), 0.0) + _cost(item)
    # A stable sort: a group's tests keep their order, and groups of equal cost theirs. The
    # kind lifecycle goes last: it waits for every other kind test (tests/kind/groups.py), so
    # no group may be handed out after it to the worker it holds.
    items.sort(key=lambda item: (item.nodeid.startswith(LIFECYCLE),
                                 -costs[group_of(item.nodeid)]))
