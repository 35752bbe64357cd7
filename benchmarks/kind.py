"""Benchmark the kind backend built here: the node image (warm build, sizes) and a cluster
(time to Ready from a built image, memory of its node containers, stop and start).

Prints figures; asserts nothing. Run from the repository root, as root, with a Docker daemon:

    .venv/bin/python benchmarks/kind.py              # warm build x5, sizes, 3 create/delete
    .venv/bin/python benchmarks/kind.py --rebuild    # also: every image again from the cached
                                                     # binaries and root filesystems

The cold build (empty Go caches, no root filesystem) is the first `rwk node-image` on a new
machine; .ci/run prints it ("kind node image ready at ...").
It uses a cluster of its own (rwk-bench); host ports 80 and 443 must be free.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.clusters import nodeimage  # noqa: E402
from checker.clusters.kind import Kind  # noqa: E402
from checker.clusters.versions import load  # noqa: E402


def quiet(message: str) -> None:
    """Progress goes nowhere: the figures are the output."""


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def size_mb(tag: str) -> float:
    return int(docker("image", "inspect", "--format", "{{.Size}}", tag)) / 1e6


def median(values: list[float]) -> str:
    return (f"median {statistics.median(values):.1f} s (min {min(values):.1f}, "
            f"max {max(values):.1f}, {len(values)} runs)")


def node_memory_mb(name: str) -> dict[str, float]:
    """Each node container's memory use as its cgroup counts it (docker stats)."""
    out = docker("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}")
    used = {}
    for line in out.splitlines():
        container, usage = line.split(" ", 1)
        if container.startswith(f"{name}-"):
            figure = usage.split("/")[0].strip()
            factor = {"GiB": 1024, "MiB": 1, "KiB": 1 / 1024}[figure[-3:]]
            used[container] = float(figure[:-3]) * factor
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    v = load()

    start = time.perf_counter()
    tag = nodeimage.build(quiet, v)
    print(f"node image: {tag} (first call here: {time.perf_counter() - start:.1f} s)")
    warm = []
    for _ in range(5):
        start = time.perf_counter()
        nodeimage.build(quiet, v)
        warm.append(time.perf_counter() - start)
    print(f"warm build (nothing changed): {median(warm)}")
    print(f"node image size: {size_mb(tag):.0f} MB")
    for image in nodeimage.lesson_images():
        print(f"  stand-in {image}: {size_mb(image):.0f} MB")

    if args.rebuild:
        for image in (tag, *nodeimage.lesson_images()):
            subprocess.run(["docker", "rmi", "-f", image], capture_output=True)
        start = time.perf_counter()
        nodeimage.build(quiet, v)
        print(f"images rebuilt from cached binaries and root filesystems: "
              f"{time.perf_counter() - start:.0f} s")

    created, deleted, stopped, started, memory = [], [], [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        cluster = Kind(name="rwk-bench", kubeconfig=Path(tmp) / "config", images="local")
        if cluster.exists():
            cluster.down(quiet)
        for run in range(args.runs):
            start = time.perf_counter()
            cluster.up(quiet)
            created.append(time.perf_counter() - start)
            if run == 0:
                time.sleep(30)    # let the add-ons settle before memory is read
                memory = node_memory_mb(cluster.name)
                start = time.perf_counter()
                cluster.stop(quiet)
                stopped.append(time.perf_counter() - start)
                start = time.perf_counter()
                cluster.up(quiet)
                started.append(time.perf_counter() - start)
            start = time.perf_counter()
            cluster.down(quiet)
            deleted.append(time.perf_counter() - start)
    print(f"`up` from a built image to 3 Ready nodes, stand-ins loaded, metrics-server rolled "
          f"out: {median(created)}")
    print(f"`stop`: {median(stopped)}; `up` again: {median(started)}")
    print(f"`down`: {median(deleted)}")
    print("memory of the node containers, 30 s after `up`: " + json.dumps(
        {k: round(m) for k, m in sorted(memory.items())}) + f" MB, {sum(memory.values()):.0f} MB in all")


if __name__ == "__main__":
    main()
