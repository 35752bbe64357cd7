"""Benchmark CI as the project's CI runs it: a fresh clone of this checkout's HEAD, then
`CI=true bash .ci/run`, timed. Prints the wall time, pytest's summary, the CPU the whole
machine used meanwhile (from /proc/stat: core-seconds, and how busy the cores were), the
shortest wall time that CPU allows on this machine's cores, and, with --accounting (Linux
process accounting, Debian's `acct`; root), the commands that used most of it, exited
processes included (kubectl, kernels, the clusters' components).

Run it with nothing else running on the machine: the figures are the whole machine's.

    .venv/bin/python benchmarks/ci.py [--accounting] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bench import ROOT


def cpu_jiffies() -> tuple[int, int]:
    """(busy, idle) clock ticks of all cores since boot, from the first line of /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]            # idle, iowait
    return sum(fields[:8]) - idle, idle


def top_commands(pacct: Path, count: int) -> list[str]:
    """The `count` commands that used most CPU, from a process accounting file: `sa -a`
    prints a line per command, its CPU in minutes ("0.52cp")."""
    done = subprocess.run(["sa", "-a", str(pacct)], capture_output=True, text=True)
    rows = []
    for line in done.stdout.splitlines():
        parts = line.split()
        cpu = next((p for p in parts if p.endswith("cp")), None)
        if cpu and len(parts) >= 2 and not parts[-1].endswith(("cp", "k", "avio")):
            rows.append((float(cpu[:-2]) * 60, int(parts[0]), parts[-1]))
    rows.sort(reverse=True)
    return [f"{name:28s} {seconds:8.0f} CPU-s in {calls} processes"
            for seconds, calls, name in rows[:count]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounting", action="store_true",
                        help="record every process's CPU (needs root and `accton`, Debian's acct)")
    parser.add_argument("--keep", action="store_true", help="keep the clone and its log")
    args = parser.parse_args()
    if args.accounting and not shutil.which("accton"):
        print("ci.py: --accounting needs `accton` and `sa` (apt-get install acct)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="rwk-ci-bench-"))
    clone, log, pacct = work / "clone", work / "ci.log", work / "pacct"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    head = subprocess.run(["git", "-C", str(clone), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    print(f"CI of {head} in {clone} (log: {log})", flush=True)
    if args.accounting:
        pacct.touch()
        subprocess.run(["accton", str(pacct)], check=True, capture_output=True)
    busy0, idle0 = cpu_jiffies()
    start = time.monotonic()
    try:
        with open(log, "w") as out:
            code = subprocess.run(["bash", ".ci/run"], cwd=clone, stdout=out,
                                  stderr=subprocess.STDOUT, env={**os.environ, "CI": "true"}
                                  ).returncode
    finally:
        if args.accounting:
            subprocess.run(["accton", "off"], capture_output=True)
    wall = time.monotonic() - start
    busy1, idle1 = cpu_jiffies()
    tick, cores = os.sysconf("SC_CLK_TCK"), os.cpu_count() or 1
    cpu = (busy1 - busy0) / tick
    text = log.read_text(errors="replace")
    summary = re.findall(r"=+ (.*(?:passed|failed|error).*) in [\d.]+s", text)
    print(f"exit {code}; wall {wall:.0f} s ({wall / 60:.1f} min); pytest: "
          f"{summary[-1] if summary else 'no summary'}")
    print(f"CPU: {cpu:.0f} core-s on {cores} cores, busy {100 * cpu / (cores * wall):.0f}% of "
          f"the run; that CPU alone needs at least {cpu / cores:.0f} s "
          f"({cpu / cores / 60:.1f} min) of wall time here")
    if args.accounting:
        print("most CPU by command (process accounting):")
        for line in top_commands(pacct, 15):
            print("  " + line)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
