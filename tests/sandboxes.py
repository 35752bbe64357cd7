"""Starting a throwaway sandbox for a test session: the one way the test suites do it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from checker.clusters.sandbox import Sandbox


def _say(message: str) -> None:
    print(f"[sandbox] {message}", flush=True)


@contextmanager
def fresh_sandbox(name: str, kubeconfig: Path) -> Iterator[Sandbox]:
    """A running sandbox `name` with its own kubeconfig; one left over from an interrupted
    run is removed first, and the sandbox is stopped and removed afterwards."""
    box = Sandbox(name=name, port=0, kubeconfig=kubeconfig)
    if box.cluster_dir.exists():
        box.down(_say)
    box.up(_say)
    try:
        yield box
    finally:
        box.down(_say)
