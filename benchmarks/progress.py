"""Benchmark `rwk progress` (all eleven exercises from one read) beside `rwk check configmaps`,
both as whole processes, on a sandbox of its own (rwk-bench-progress, stopped at the end)
whose `production` namespace holds the capstone's reference state (every part solved).

Prints medians and the API requests one progress makes; asserts nothing:

    .venv/bin/python benchmarks/progress.py [--runs 11]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.clusters.sandbox import Sandbox  # noqa: E402


def _solve_capstone(kubectl, tmp: Path) -> None:
    assert kubectl("create", "namespace", "production").ok
    assert kubectl("create", "secret", "generic", "db-credentials", "-n", "production",
                   "--from-literal=username=app", "--from-literal=password=bench-pw").ok
    key, cert = tmp / "tls.key", tmp / "tls.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "90",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=api.example.com",
                    "-addext", "subjectAltName=DNS:api.example.com,DNS:app.example.com"],
                   check=True, capture_output=True)
    assert kubectl("create", "secret", "tls", "tls-cert", "-n", "production",
                   f"--cert={cert}", f"--key={key}").ok
    kubectl.apply((ROOT / "solutions" / "manifests" / "capstone.yaml").read_text(),
                  "the capstone reference solution")
    kubectl("rollout", "status", "deployment/api-server", "-n", "production",
            "--timeout=90s", timeout=100)


def _time(argv: list[str], env: dict, runs: int) -> tuple[list[float], str]:
    times, out = [], ""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}")
        out = done.stdout
    return times, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rwk-bench-progress-"))
    box = Sandbox(name="rwk-bench-progress", port=0, kubeconfig=tmp / "kubeconfig")
    if box.cluster_dir.exists():
        box.down(lambda message: None)
    box.up(lambda message: None)
    try:
        _solve_capstone(box.kubectl(), tmp)
        env = {**os.environ, "KUBECONFIG": str(box.kubeconfig)}
        rwk = str(ROOT / ".venv" / "bin" / "rwk")
        check, _ = _time([rwk, "check", "configmaps"], env, args.runs)
        progress, table = _time([rwk, "progress"], env, args.runs)

        os.environ["KUBECONFIG"] = str(box.kubeconfig)
        from checker.grading.progress import _LearnerSnapshot, grade_all
        from checker.kube.client import Cluster
        cluster = Cluster()
        start = time.perf_counter()
        grade_all(_LearnerSnapshot(cluster), "production")
        warm = time.perf_counter() - start
        requests = cluster.requests
    finally:
        box.down(lambda message: None)

    print(table)
    print(f"rwk check configmaps, whole process: median {statistics.median(check):.3f}s "
          f"(min {min(check):.3f}, max {max(check):.3f}, {len(check)} runs)")
    print(f"rwk progress (11 exercises), whole process: median {statistics.median(progress):.3f}s "
          f"(min {min(progress):.3f}, max {max(progress):.3f}, {len(progress)} runs)")
    print(f"progress in a process that has loaded the client: {warm:.3f}s, "
          f"{requests} API requests")


if __name__ == "__main__":
    main()
