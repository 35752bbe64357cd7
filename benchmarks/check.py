"""Benchmark grading latency: `rwk check configmaps` as a whole process, and
`check("configmaps")` inside a warm Python process (as in a notebook kernel).

Prints medians; asserts nothing. Needs a running sandbox (it starts its own,
RWK_SANDBOX_NAME=rwk-bench-check, and stops it at the end):

    .venv/bin/python benchmarks/check.py [--runs 11]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="rwk-bench-check-"))
    box = Sandbox(name="rwk-bench-check", port=0, kubeconfig=tmp / "kubeconfig")
    box.up(lambda message: None)
    try:
        kubectl = box.kubectl()
        text = (ROOT / "solutions" / "manifests" / "configmaps.yaml").read_text()
        assert kubectl("create", "namespace", "production").ok
        kubectl.apply(text, "the configmaps reference solution")
        kubectl("rollout", "status", "deployment/api-server", "-n", "production",
                "--timeout=60s", timeout=70)
        env = {**os.environ, "KUBECONFIG": str(box.kubeconfig)}
        rwk = str(ROOT / ".venv" / "bin" / "rwk")

        whole = []
        for _ in range(args.runs):
            start = time.perf_counter()
            done = subprocess.run([rwk, "check", "configmaps"], env=env, capture_output=True,
                                  text=True)
            whole.append(time.perf_counter() - start)
            if done.returncode != 0:
                raise SystemExit(f"rwk check failed:\n{done.stdout}{done.stderr}")

        os.environ["KUBECONFIG"] = str(box.kubeconfig)
        start = time.perf_counter()
        from checker import check
        first = check("configmaps")
        cold = time.perf_counter() - start
        warm = []
        for _ in range(args.runs):
            start = time.perf_counter()
            report = check("configmaps")
            warm.append(time.perf_counter() - start)
        again = []
        for _ in range(args.runs):
            start = time.perf_counter()
            report = report.again()
            again.append(time.perf_counter() - start)
        assert first.passed and report.passed
    finally:
        box.down(lambda message: None)

    print(f"rwk check configmaps, whole process: median {statistics.median(whole):.3f}s "
          f"(min {min(whole):.3f}, max {max(whole):.3f}, {len(whole)} runs)")
    print(f"check('configmaps') first call in a fresh process (imports the client): {cold:.3f}s")
    print(f"check('configmaps') in a warm process: median {statistics.median(warm) * 1000:.0f} ms "
          f"(max {max(warm) * 1000:.0f} ms)")
    print(f"report.again(): median {statistics.median(again) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
