"""Benchmark `rwk progress` (every exercise from one read) beside `rwk check configmaps`,
both as whole processes, on a sandbox of its own (rwk-bench-progress, stopped at the end)
whose `production` namespace holds the capstone's reference state (every part solved).

Prints medians and the API requests one progress makes; asserts nothing:

    .venv/bin/python benchmarks/progress.py [--runs 11]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

from _bench import RWK, ROOT, median_line, own_sandbox, time_command

from checker.grading.exercises import EXERCISES


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
    rolled = kubectl("rollout", "status", "deployment/api-server", "-n", "production",
                     "--timeout=180s", timeout=190)
    assert rolled.ok, rolled.output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()

    with own_sandbox("rwk-bench-progress") as (box, tmp):
        _solve_capstone(box.kubectl(), tmp)
        env = {**os.environ, "KUBECONFIG": str(box.kubeconfig)}
        check, _ = time_command([RWK, "check", "configmaps"], env, args.runs, ok=(0, 1))
        progress, table = time_command([RWK, "progress"], env, args.runs, ok=(0, 1))

        os.environ["KUBECONFIG"] = str(box.kubeconfig)
        from checker.grading.progress import _LearnerSnapshot, grade_all
        from checker.kube.client import Cluster
        cluster = Cluster(context=box.context, kubeconfig=str(box.kubeconfig))
        start = time.perf_counter()
        grade_all(_LearnerSnapshot(cluster), "production")
        warm = time.perf_counter() - start
        requests = cluster.requests

    print(table)
    print(median_line("rwk check configmaps, whole process", check))
    print(median_line(f"rwk progress ({len(EXERCISES)} exercises), whole process", progress))
    print(f"progress in a process that has loaded the client: {warm:.3f}s, "
          f"{requests} API requests")


if __name__ == "__main__":
    main()
