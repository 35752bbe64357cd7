"""Benchmark the course: every notebook's run time and the wall time of the notebook suite.

Runs the notebook suite (tests/notebooks) as CI does, in parallel workers each with its own
sandbox, and prints one line per notebook run, slowest first, then the wall time. Prints
figures; asserts nothing (a failed run is reported, not hidden). From the repository root:

    .venv/bin/python benchmarks/course.py                # the whole course once (34 notebooks)
    .venv/bin/python benchmarks/course.py --passes 2     # both passes, as the suite runs them
    .venv/bin/python benchmarks/course.py --workers 6 -k lessons

Sandboxes are named rwk-bench-course-gwN, so a course sandbox that is running is left alone.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timings(report: Path) -> list[tuple[str, float, str]]:
    """(test name, seconds, outcome) for each test case of a JUnit XML report."""
    cases = []
    for case in ElementTree.parse(report).iter("testcase"):
        outcome = next((child.tag for child in case if child.tag in ("failure", "error",
                                                                      "skipped")), "passed")
        cases.append((case.get("name", "?"), float(case.get("time", 0)), outcome))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=int(os.environ.get("RWK_TEST_WORKERS", 6)))
    parser.add_argument("--passes", type=int, choices=(1, 2), default=1)
    parser.add_argument("-k", dest="keyword", default="", help="also select by this keyword")
    args = parser.parse_args()

    selection = "first-run" if args.passes == 1 else "run"
    if args.keyword:
        selection = f"({selection}) and ({args.keyword})"
    report = Path(tempfile.mkdtemp(prefix="rwk-bench-course-")) / "junit.xml"
    command = [sys.executable, "-m", "pytest", "tests/notebooks", "-k", selection, "-q",
               "-p", "no:cacheprovider", f"--junitxml={report}", "-o", "junit_family=xunit1"]
    if args.workers:
        command += ["-n", str(args.workers), "--dist", "loadgroup", "--no-loadscope-reorder"]
    env = {**os.environ, "RWK_TEST_SANDBOX": "rwk-bench-course"}
    print(f"running {' '.join(command[3:])}", flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started

    cases = timings(report) if report.is_file() else []
    notebooks = [case for case in cases if ".ipynb" in case[0]]
    for name, seconds, outcome in sorted(cases, key=lambda case: -case[1]):
        flag = "" if outcome == "passed" else f"  ({outcome.upper()})"
        print(f"{seconds:8.1f} s  {name}{flag}")
    print(f"\n{len(notebooks)} notebook runs, {len(cases) - len(notebooks)} other steps, "
          f"{args.workers or 1} worker(s)")
    print(f"sum of notebook run times: {sum(case[1] for case in notebooks):.0f} s")
    print(f"wall time of the suite (sandboxes' start and stop included): {wall:.0f} s")
    failed = [case[0] for case in cases if case[2] in ("failure", "error")]
    if done.returncode != 0:
        print(f"pytest exit {done.returncode}; failed: {failed or 'see the output below'}")
        print(done.stdout[-4000:], done.stderr[-2000:], sep="\n")


if __name__ == "__main__":
    main()
