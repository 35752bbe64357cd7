"""Benchmark the Binder image as tests/integration/test_binder_docker.py rehearses it, alone
on the machine: the repo2docker build, the rebuild after a notebook-only commit, the image's
size, then `docker run` with mybinder.org's limits: /api, three Ready nodes, peak memory.
Prints the rehearsal's figures beside the issue's targets (rebuild 60 s, /api 10 s, Ready
60 s, peak 1.5 GB). Needs root and a Docker daemon, as the test does; run it with nothing
else running, since the figures are what one CPU does.

    .venv/bin/python benchmarks/binder.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from _bench import ROOT

TARGETS = ("rebuild after a notebook-only commit <= 60 s", "/api <= 10 s",
           "three Ready nodes <= 60 s", "peak < 1.5 GB")


def main() -> int:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-q", "-s", "-p", "no:cacheprovider",
         "tests/integration/test_binder_docker.py"], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "RWK_TEST_SANDBOX": "rwk-bench-binder"})
    figures = [line for line in done.stdout.splitlines() if re.match(r"^\[binder\] ", line)]
    for line in figures:
        print(line)
    print("targets: " + "; ".join(TARGETS))
    if done.returncode != 0:
        print(done.stdout[-3000:] + done.stderr[-2000:], file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
