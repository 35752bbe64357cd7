"""Benchmark `rwk grade --submissions`: N students (default 30) each handing in every
solution notebook, graded by whole `rwk grade` processes, once per `--jobs` figure (default
1 and rwk's default, 8). Each run starts the sandbox of its own that `rwk grade` starts when
no cluster is named, so the runs do not share state.

Prints, per run: wall time (sandbox start included), the per-notebook median and 90th
percentile (papermill's own run of each notebook, from executed/*/run.json), the students
who passed everything, and peak memory: the grader's process tree (rwk, papermill, kernels,
kubectl) and the sandbox's processes, sampled every half second. Asserts nothing.

    .venv/bin/python benchmarks/submissions.py                    # 30 students, jobs 1 and 8
    .venv/bin/python benchmarks/submissions.py --students 4 --jobs 1,4,8
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.clusters import binaries  # noqa: E402

RWK = ROOT / ".venv" / "bin" / "rwk"


def hand_in(students: int, folder: Path) -> Path:
    """A roster of `students` and a submissions folder: each one the solution notebooks, and
    the manifests the capstone's notebook reads beside them."""
    roster = folder / "roster.csv"
    roster.write_text("student,name\n" + "".join(f"s{i:03d},Student {i}\n"
                                                 for i in range(students)))
    for i in range(students):
        mine = folder / "handed-in" / f"s{i:03d}"
        mine.mkdir(parents=True)
        for notebook in sorted((ROOT / "solutions").glob("[0-9][0-9]-*.ipynb")):
            shutil.copy(notebook, mine / notebook.name)
        shutil.copytree(ROOT / "solutions" / "manifests", mine / "manifests")
    return roster


class Peak:
    """Samples the resident memory of a process tree and of a sandbox's processes."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.tree = 0
        self.sandbox = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        pids = binaries.cache_dir() / "kwok" / "clusters" / f"rwk-grade-{self.pid}" / "pids"
        while not self._stop.wait(0.5):
            try:
                root = psutil.Process(self.pid)
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            self.tree = max(self.tree, _rss(tree))
            box = []
            for file in pids.glob("*.pid") if pids.is_dir() else ():
                try:
                    box.append(psutil.Process(int(file.read_text().strip())))
                except (OSError, ValueError, psutil.Error):
                    continue
            self.sandbox = max(self.sandbox, _rss(box))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _rss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


def grade(roster: Path, jobs: int, out: Path) -> dict:
    started = time.monotonic()
    child = subprocess.Popen(
        [str(RWK), "grade", str(roster), "--submissions", str(roster.parent / "handed-in"),
         "--out", str(out), "--jobs", str(jobs)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=roster.parent)
    peak = Peak(child.pid)
    stdout, stderr = child.communicate()
    peak.stop()
    wall = time.monotonic() - started
    if child.returncode != 0:
        sys.exit(f"rwk grade --jobs {jobs} exited {child.returncode}:\n{stderr[-3000:]}")
    seconds = []
    outcomes: dict[str, int] = {}
    for run in sorted((out / "executed").glob("*/run.json")):
        for notebook in json.loads(run.read_text())["notebooks"]:
            seconds.append(notebook["seconds"])
            outcomes[notebook["outcome"]] = outcomes.get(notebook["outcome"], 0) + 1
    grades = json.loads((out / "grades.json").read_text())
    passed = sum(s["score"] == s["max_score"] for s in grades["students"])
    failing: dict[str, int] = {}   # what kept a student from full marks, and how often
    for student in grades["students"]:
        for exercise, report in student["reports"].items():
            for criterion in report["criteria"]:
                if not criterion["passed"] and criterion["points"]:
                    key = f"{exercise}/{criterion['id']}: {criterion['message'][:160]}"
                    failing[key] = failing.get(key, 0) + 1
    deciles = statistics.quantiles(seconds, n=10) if len(seconds) > 1 else seconds * 9
    return {"jobs": jobs, "wall": wall, "notebooks": len(seconds), "outcomes": outcomes,
            "median": statistics.median(seconds), "p90": deciles[-1], "passed": passed,
            "students": len(grades["students"]), "failing": failing, "tree": peak.tree / 2**20,
            "sandbox": peak.sandbox / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", default="1,8", help="the --jobs figures to run (default 1,8)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="rwk-bench-submissions-"))
    roster = hand_in(args.students, folder)
    runs = []
    for jobs in [int(j) for j in args.jobs.split(",")]:
        runs.append(grade(roster, jobs, folder / f"grades-jobs-{jobs}"))
        r = runs[-1]
        print(f"--jobs {r['jobs']:2d}: {r['students']} students x 11 notebooks, wall "
              f"{r['wall']:.0f} s; per notebook median {r['median']:.1f} s, p90 "
              f"{r['p90']:.1f} s; {r['passed']} of {r['students']} passed everything "
              f"({', '.join(f'{n} {k}' for k, n in sorted(r['outcomes'].items()))}); "
              f"peak memory: grader tree {r['tree']:.0f} MiB, sandbox {r['sandbox']:.0f} MiB",
              flush=True)
        for what, count in sorted(r["failing"].items(), key=lambda item: -item[1]):
            print(f"    failed for {count} student(s): {what}", flush=True)
    if len(runs) > 1:
        base = runs[0]
        for r in runs[1:]:
            print(f"speed-up of --jobs {r['jobs']} over --jobs {base['jobs']}: "
                  f"{base['wall'] / r['wall']:.1f}x")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
