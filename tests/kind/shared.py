"""The one kind cluster of a test session, shared by every pytest-xdist worker that runs kind
tests: the first to need it creates it under a file lock, the others wait for it and use it
(its kubeconfig is a file of the session's shared folder), and the process that started the
session deletes it at the end (tests/conftest.py), after every worker has finished.

The shared folder is made by that first process and named in $RWK_TEST_KIND_STATE, which the
workers inherit. Besides the lock and the kubeconfig it holds `cluster` (what became of the
creation: "up", or why it failed, so that a second worker fails with the first one's reason
instead of trying again) and `finished` (the ids of the kind tests done so far, one per line,
which the lifecycle tests wait on).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from checker.clusters.kind import Kind

CLUSTER_NAME = "rwk-test"
STATE_ENV = "RWK_TEST_KIND_STATE"
UP = "up"
DOCKER_CPU_SHARES = Path("/sys/fs/cgroup/cpu/docker/cpu.shares")
"""Docker's cgroup on a cgroup v1 host (the cgroupfs driver), holding every container."""
NODES_WEIGHT = 8192
"""cpu.shares for that cgroup while the suite runs: the weight of eight busy processes. On
cgroup v1 each process of the suite outside Docker (workers, sandboxes, kubectl, kernels)
competes with Docker's cgroup, which holds all three nodes, as an equal; at the default 1024
the cluster got a few percent of two saturated cores, and lesson 07's HPA on real load did not
settle within its 420 s in CI runs 15 and 16."""


def open_session() -> bool:
    """Make the session's shared folder unless a parent process made it; True if made here."""
    if os.environ.get(STATE_ENV):
        return False
    os.environ[STATE_ENV] = tempfile.mkdtemp(prefix="rwk-kind-tests-")
    return True


def folder() -> Path:
    return Path(os.environ[STATE_ENV])


def cluster() -> Kind:
    return Kind(name=CLUSTER_NAME, kubeconfig=folder() / "kubeconfig")


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    with open(folder() / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def created(create: Callable[[Kind], None]) -> tuple[Kind, str]:
    """The session's cluster and "up", creating it with `create` if no worker has yet; or
    the reason an earlier try failed, so no worker tries twice."""
    kind = cluster()
    record = folder() / "cluster"
    with _locked():
        if not record.exists():
            try:
                create(kind)
            except BaseException as error:
                record.write_text(f"{type(error).__name__}: {error}")
                raise
            record.write_text(UP)
        return kind, record.read_text()


def favour_the_nodes(say: Callable[[str], None], shares: Path = DOCKER_CPU_SHARES) -> None:
    """Give Docker's cgroup the weight NODES_WEIGHT, keeping the old one for close_session.
    Where there is no such file (cgroup v2, the systemd driver) or it cannot be written (not
    root), say so and go on: the tests then run at the machine's default weights."""
    try:
        before = shares.read_text().strip()
        if not (folder() / "cpu.shares").exists():
            (folder() / "cpu.shares").write_text(before)
        shares.write_text(str(NODES_WEIGHT))
    except OSError as error:
        say(f"the kind nodes keep the default CPU weight ({error.strerror}: {shares})")
        return
    say(f"Docker's cgroup weighs {NODES_WEIGHT} for the suite (was {before}; put back at the end)")


def close_session(say: Callable[[str], None], shares: Path = DOCKER_CPU_SHARES) -> None:
    """In the process that made the folder, after every worker: delete the cluster if this
    session created it and it is still there, put Docker's CPU weight back, then remove the
    folder."""
    try:
        if (folder() / "cluster").exists():
            kind = cluster()
            if kind.exists():
                kind.down(say)
        if (folder() / "cpu.shares").exists():
            with contextlib.suppress(OSError):
                shares.write_text((folder() / "cpu.shares").read_text())
    finally:
        shutil.rmtree(folder(), ignore_errors=True)
        del os.environ[STATE_ENV]


def record_finished(nodeid: str) -> None:
    with open(folder() / "finished", "a") as done:
        done.write(nodeid + "\n")


def finished() -> set[str]:
    path = folder() / "finished"
    return set(path.read_text().splitlines()) if path.exists() else set()


def others_finished(nodeids: list[str], suite: str, lifecycle: str, timeout: float,
                    say: Callable[[str], None], poll: float = 5) -> None:
    """Wait until every test of `nodeids` in `suite` outside `lifecycle` (a module's id) has
    finished on whichever worker ran it; fail naming those that did not within `timeout`."""
    expected = {n for n in nodeids if n.startswith(suite) and not n.startswith(lifecycle)}
    end = time.monotonic() + timeout
    said = -1
    while left := expected - finished():
        if len(left) != said:
            say(f"waiting for {len(left)} other kind tests to finish before {lifecycle}")
            said = len(left)
        if time.monotonic() > end:
            pytest.fail(f"{len(left)} kind tests did not finish within {timeout:.0f}s, so "
                        f"{lifecycle} cannot run, among them {sorted(left)[:5]}")
        time.sleep(poll)
