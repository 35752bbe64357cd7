"""Benchmark grading latency: `rwk check configmaps` as a whole process, and
`check("configmaps")` inside a warm Python process (as in a notebook kernel).

Prints medians; asserts nothing. Starts a sandbox of its own (rwk-bench-check) and deletes it
at the end:

    .venv/bin/python benchmarks/check.py [--runs 11]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from _bench import RWK, ROOT, median_line, own_sandbox, time_command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()

    with own_sandbox("rwk-bench-check") as (box, _):
        kubectl = box.kubectl()
        text = (ROOT / "solutions" / "manifests" / "configmaps.yaml").read_text()
        assert kubectl("create", "namespace", "production").ok
        kubectl.apply(text, "the configmaps reference solution")
        kubectl("rollout", "status", "deployment/api-server", "-n", "production",
                "--timeout=60s", timeout=70)
        env = {**os.environ, "KUBECONFIG": str(box.kubeconfig)}
        whole, _ = time_command([RWK, "check", "configmaps"], env, args.runs)

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

    print(median_line("rwk check configmaps, whole process", whole))
    print(f"check('configmaps') first call in a fresh process (imports the client): {cold:.3f}s")
    print(f"check('configmaps') in a warm process: median {statistics.median(warm) * 1000:.0f} ms "
          f"(max {max(warm) * 1000:.0f} ms)")
    print(f"report.again(): median {statistics.median(again) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
