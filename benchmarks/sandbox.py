"""Benchmark the sandbox: start-up, memory, shutdown and (optionally) a cold build.

Prints figures; asserts nothing. Run from the repository root:

    .venv/bin/python benchmarks/sandbox.py            # 5 up/down cycles, memory, then
                                                      # 5 stop/up cycles with a workload
    .venv/bin/python benchmarks/sandbox.py --cold     # also a build from empty Go caches

It uses a sandbox of its own (RWK_SANDBOX_NAME=rwk-bench, a free port, a throwaway
kubeconfig), so a course sandbox that is running is left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.clusters.sandbox import Sandbox  # noqa: E402
from tests.workloads import cpu_autoscaler, deployment, postgres  # noqa: E402

WORKLOAD = "---".join([
    deployment(),                      # 3 pods, which the benchmark then loads
    cpu_autoscaler(),
    postgres(replicas=1),              # a StatefulSet pod on a bound claim
])
"""What the integration tests prove the sandbox runs: tests/workloads.py."""


def rss_mib(pids: dict[str, int]) -> tuple[float, dict[str, float]]:
    each = {}
    for name, pid in pids.items():
        try:
            each[name] = psutil.Process(pid).memory_info().rss / 2**20
        except psutil.NoSuchProcess:
            each[name] = 0.0
    return sum(each.values()), each


def rwk(*args: str, env: dict[str, str]) -> float:
    start = time.monotonic()
    subprocess.run([str(ROOT / ".venv" / "bin" / "rwk"), *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="also time a build from empty "
                        "Go module and build caches (takes many minutes)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rwk-bench-"))
    env = {**os.environ, "RWK_SANDBOX_NAME": "rwk-bench", "RWK_SANDBOX_PORT": "0",
           "KUBECONFIG": str(tmp / "kubeconfig")}
    box = Sandbox(name="rwk-bench", port=0, kubeconfig=tmp / "kubeconfig")
    if box.cluster_dir.exists():
        box.down(lambda m: None)

    ups, downs = [], []
    for run in range(args.runs):
        ups.append(rwk("up", "--backend", "sandbox", env=env))
        if run < args.runs - 1:
            downs.append(rwk("down", "--backend", "sandbox", "--yes", env=env))
        print(f"run {run + 1}: up {ups[-1]:.2f}s" + (f", down {downs[-1]:.2f}s" if
              run < args.runs - 1 else ""), flush=True)

    time.sleep(20)
    idle, idle_each = rss_mib(box.pids())
    kubectl = box.kubectl()
    assert kubectl("create", "namespace", "bench").ok
    assert kubectl("apply", "-n", "bench", "-f", "-", input=WORKLOAD).ok
    kubectl("rollout", "status", "deployment/api-server", "-n", "bench", "--timeout=60s", timeout=70)
    assert kubectl("annotate", "pods", "-n", "bench", "-l", "app=api-server", "--overwrite",
                   "kwok.x-k8s.io/usage-cpu=200m").ok
    time.sleep(60)   # rollouts, claims, four metrics scrapes, HPA reacting
    busy, busy_each = rss_mib(box.pids())
    pods = json.loads(kubectl("get", "pods", "-n", "bench", "-o", "json").stdout)["items"]
    objects = len(kubectl("get", "all,configmaps,secrets,pvc,hpa", "-n", "bench",
                          "-o", "name").stdout.split())

    # `rwk stop` then `rwk up` (back to 3 nodes Ready) with the workload kept in etcd.
    stops, resumes = [], []
    for run in range(args.runs):
        stops.append(rwk("stop", "--backend", "sandbox", env=env))
        resumes.append(rwk("up", "--backend", "sandbox", env=env))
        print(f"stop/up {run + 1}: stop {stops[-1]:.2f}s, up {resumes[-1]:.2f}s", flush=True)
    kept = json.loads(kubectl("get", "pods", "-n", "bench", "-o", "json").stdout)["items"]
    downs.append(rwk("down", "--backend", "sandbox", "--yes", env=env))

    print()
    print(f"rwk up to {3} nodes Ready, cached binaries: median {statistics.median(ups):.2f}s "
          f"(min {min(ups):.2f}, max {max(ups):.2f}, {len(ups)} runs)")
    print(f"rwk down: median {statistics.median(downs):.2f}s (max {max(downs):.2f})")
    print(f"resident memory, idle: {idle:.0f} MiB  "
          + ", ".join(f"{k} {v:.0f}" for k, v in sorted(idle_each.items())))
    print(f"resident memory, workload ({len(pods)} pods): {busy:.0f} MiB  "
          + ", ".join(f"{k} {v:.0f}" for k, v in sorted(busy_each.items())))
    print(f"rwk stop: median {statistics.median(stops):.2f}s (max {max(stops):.2f}); "
          f"rwk up after it, to 3 nodes Ready with the workload ({objects} objects) kept: "
          f"median {statistics.median(resumes):.2f}s (min {min(resumes):.2f}, "
          f"max {max(resumes):.2f}, {len(resumes)} runs); pods after: {len(kept)}")

    if args.cold:
        cold = tmp / "cold"
        cold_env = {**os.environ, "GOMODCACHE": str(cold / "mod"),
                    "GOCACHE": str(cold / "gocache"), "RWK_CACHE_DIR": str(cold / "rwk")}
        start = time.monotonic()
        subprocess.run([str(ROOT / ".venv" / "bin" / "rwk"), "binaries", "--binary-source",
                        "build"], env=cold_env, check=True)
        print(f"cold build of every sandbox binary (empty Go caches): "
              f"{time.monotonic() - start:.0f}s")
        subprocess.run(["chmod", "-R", "u+w", str(cold)], check=False)
        subprocess.run(["rm", "-rf", str(cold)], check=False)


if __name__ == "__main__":
    main()
