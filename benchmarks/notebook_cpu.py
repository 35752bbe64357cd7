"""Benchmark what one notebook run costs in CPU, as the notebook suite runs it.

On two cores shared by six test workers, CPU seconds, not waiting, set the suite's wall
time. For each notebook named, one run through the suite's own steps (papermill's
parameterised copy, then nbval in a pytest session inside this process, as the suite's
workers run it), and prints its wall time, the CPU of the client side (this process's nbval
session, the kernel, kubectl and shell cells) and the CPU the sandbox's components spent
meanwhile. Prints figures; asserts nothing. Starts a sandbox of its own
(rwk-bench-nbcpu) and deletes it at the end. From the repository root:

    .venv/bin/python benchmarks/notebook_cpu.py exercises/01-namespaces.ipynb lessons/02-configmaps.ipynb
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import psutil
from _bench import ROOT, own_sandbox

from checker.clusters.sandbox import Sandbox  # noqa: E402

from tests.notebooks.test_notebooks import NotebookRun, prepare, run_nbval  # noqa: E402


def client_cpu() -> float:
    """CPU seconds of this process, its finished children and theirs."""
    return sum(usage.ru_utime + usage.ru_stime
               for usage in (resource.getrusage(resource.RUSAGE_SELF),
                             resource.getrusage(resource.RUSAGE_CHILDREN)))


def sandbox_cpu(box: Sandbox) -> float:
    """CPU seconds so far of the sandbox's components."""
    total = 0.0
    for pid in box.pids().values():
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", help="paths relative to the repository")
    args = parser.parse_args()
    missing = [nb for nb in args.notebooks if not (ROOT / nb).is_file()]
    if missing:
        sys.exit(f"notebook_cpu.py: no such notebook: {', '.join(missing)}")

    name = "rwk-bench-nbcpu"
    with own_sandbox(name) as (box, tmp):
        env = {**os.environ, "KUBECONFIG": str(box.kubeconfig), "RWK_SANDBOX_NAME": name,
               "RWK_SANDBOX_PORT": "0",
               "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
        print(f"{'wall':>8} {'client CPU':>11} {'sandbox CPU':>12}  notebook")
        for number, notebook in enumerate(args.notebooks):
            run = NotebookRun(Path(notebook), f"bench-nbcpu-{number}", "first", "bench")
            workdir = Path(tempfile.mkdtemp(dir=tmp))
            client, cluster, started = client_cpu(), sandbox_cpu(box), time.perf_counter()
            done = run_nbval(prepare(run, workdir), env)
            wall = time.perf_counter() - started
            flag = "" if done.exit_code == 0 else f"  (nbval exit {done.exit_code})"
            print(f"{wall:7.1f}s {client_cpu() - client:10.1f}s "
                  f"{sandbox_cpu(box) - cluster:11.1f}s  {notebook}{flag}", flush=True)


if __name__ == "__main__":
    main()
