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

import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from checker.clusters.kind import Kind

CLUSTER_NAME = "rwk-test"
STATE_ENV = "RWK_TEST_KIND_STATE"
UP = "up"


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


@contextmanager
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


def close_session(say: Callable[[str], None]) -> None:
    """In the process that made the folder, after every worker: delete the cluster if this
    session created it and it is still there, then the folder."""
    try:
        if (folder() / "cluster").exists():
            kind = cluster()
            if kind.exists():
                kind.down(say)
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
