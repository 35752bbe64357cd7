"""Benchmark a classroom on a sandbox: `rwk classroom create` for N students, create again
(nothing to do), verify, and delete.

Prints figures; asserts nothing. Run from the repository root:

    .venv/bin/python benchmarks/classroom.py                 # 100 students
    .venv/bin/python benchmarks/classroom.py --students 30

It uses a sandbox of its own (name rwk-bench-classroom, a free port, a throwaway kubeconfig),
so a course sandbox that is running is left alone. Each phase is a function of its own, so a
phase (class grading) can be added beside them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.clusters.sandbox import Sandbox  # noqa: E402

NAME = "rwk-bench-classroom"


@dataclass
class Bench:
    """The sandbox, the roster and where the kubeconfigs go."""

    box: Sandbox
    roster: Path
    kubeconfigs: Path

    def rwk(self, *args: str) -> float:
        """Seconds one `rwk classroom ...` took, the whole process; fails loudly."""
        start = time.monotonic()
        done = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "rwk"), "classroom", *args, "--context",
             self.box.context, "--kubeconfig", str(self.box.kubeconfig)],
            capture_output=True, text=True)
        took = time.monotonic() - start
        if done.returncode != 0:
            sys.exit(f"rwk classroom {args[0]} exited {done.returncode}:\n"
                     f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
        return took


def start(students: int, tmp: Path) -> Bench:
    box = Sandbox(name=NAME, port=0, kubeconfig=tmp / "kubeconfig")
    if box.cluster_dir.exists():
        box.down(lambda m: None)
    box.up(lambda m: None)
    roster = tmp / "roster.csv"
    roster.write_text("student,name,email\n" + "".join(
        f"s{i:03d},Student {i},s{i:03d}@example.org\n" for i in range(students)))
    return Bench(box, roster, tmp / "kubeconfigs")


def create(bench: Bench) -> float:
    return bench.rwk("create", str(bench.roster), "--kubeconfigs", str(bench.kubeconfigs))


def verify(bench: Bench) -> float:
    return bench.rwk("verify", str(bench.roster), "--kubeconfigs", str(bench.kubeconfigs))


def delete(bench: Bench) -> float:
    return bench.rwk("delete", str(bench.roster), "--yes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    args = parser.parse_args()
    bench = start(args.students, Path(tempfile.mkdtemp(prefix="rwk-bench-classroom-")))
    try:
        figures = {"create": create(bench), "create again (nothing to do)": create(bench),
                   "verify": verify(bench), "delete --yes (namespaces gone)": delete(bench)}
    finally:
        bench.box.down(lambda m: None)
    print(f"{args.students} students, sandbox {NAME}, whole `rwk classroom` processes:")
    for what, seconds in figures.items():
        print(f"  {what:32} {seconds:6.1f} s")


if __name__ == "__main__":
    main()
