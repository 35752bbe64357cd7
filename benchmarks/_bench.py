"""What the benchmarks share: a sandbox of their own for the length of a run, whole commands
timed over several runs, and one way to print a median."""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from checker.clusters.sandbox import Sandbox  # noqa: E402

RWK = str(ROOT / ".venv" / "bin" / "rwk")
"""The project's own `rwk`, as the README's first command installs it."""


def quiet(message: str) -> None:
    """A progress callback that says nothing (the figures are the output)."""


@contextlib.contextmanager
def own_sandbox(name: str, flags: dict[str, dict[str, str]] | None = None,
                ) -> Iterator[tuple[Sandbox, Path]]:
    """A sandbox named `name` (one a crashed run left is deleted first), created with the
    component `flags` if given, and a scratch folder, for the length of the block; the
    sandbox is deleted at the end."""
    tmp = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    box = Sandbox(name=name, port=0, kubeconfig=tmp / "kubeconfig",
                  **({"flags": flags} if flags else {}))
    if box.cluster_dir.exists():
        box.down(quiet)
    box.up(quiet)
    try:
        yield box, tmp
    finally:
        box.down(quiet)


def time_command(argv: Sequence[str], env: dict, runs: int,
                 ok: Sequence[int] = (0,)) -> tuple[list[float], str]:
    """Seconds each of `runs` runs of `argv` took, and the last run's output; exits naming
    the command when one returns a code outside `ok`."""
    times, out = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(list(argv), env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode not in ok:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n"
                             f"{done.stdout}{done.stderr}")
        out = done.stdout
    return times, out


def median_line(label: str, seconds: Sequence[float]) -> str:
    """`LABEL: median 0.912s (min ..., max ..., N runs)`."""
    return (f"{label}: median {statistics.median(seconds):.3f}s (min {min(seconds):.3f}, "
            f"max {max(seconds):.3f}, {len(seconds)} runs)")
