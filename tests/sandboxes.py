"""Starting a throwaway sandbox for a test session: the one way the test suites do it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from checker.clusters.sandbox import Sandbox


KUBECTL_ENV = {"GOGC": os.environ.get("GOGC", "400")}
"""What the suites add to the environment of the kubectl they start (the notebooks' kernels'
and the integration tests'), unless GOGC is set: kubectl, a Go program that lives a tenth of
a second, collects its garbage less often while it starts. On this machine `kubectl get`
took 49 ms of CPU instead of 62 and `kubectl apply` 88 instead of 120; a suite starts about
3500 of them. What kubectl does and prints is the same. The sandbox's own components keep
Go's default: for them it did not help."""


def _say(message: str) -> None:
    print(f"[sandbox] {message}", flush=True)


@contextmanager
def fresh_sandbox(name: str, kubeconfig: Path) -> Iterator[Sandbox]:
    """A running sandbox `name` with its own kubeconfig; one left over from an interrupted
    run is removed first, and the sandbox is stopped and removed afterwards, also when it
    did not come up (its processes would outlive the run)."""
    box = Sandbox(name=name, port=0, kubeconfig=kubeconfig)
    if box.cluster_dir.exists():
        box.down(_say)
    try:
        box.up(_say)
        yield box
    finally:
        box.down(_say)
