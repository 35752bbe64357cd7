"""Benchmark a classroom on a sandbox: `rwk classroom create` for N students, create again
(nothing to do), verify, `rwk grade` of every student for every exercise (each
namespace holding the namespaces exercise's and the capstone's reference state), and delete.

Prints figures; asserts nothing. Run from the repository root:

    .venv/bin/python benchmarks/classroom.py                 # 100 students
    .venv/bin/python benchmarks/classroom.py --students 30 --settle 30

It uses a sandbox of its own (name rwk-bench-classroom, a free port, a throwaway kubeconfig),
so a course sandbox that is running is left alone. Each phase is a function of its own, so a
phase (class grading) can be added beside them.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import string
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from checker.classroom import load_roster  # noqa: E402
from checker.classroom.grading import ALL, grade_snapshot  # noqa: E402
from checker.clusters.sandbox import Sandbox  # noqa: E402
from checker.kube.client import Cluster  # noqa: E402
from checker.kube.snapshot import Snapshot  # noqa: E402
from tests.integration.tls_helpers import certificate  # noqa: E402

NAME = "rwk-bench-classroom"


@dataclass
class Bench:
    """The sandbox, the roster and where the kubeconfigs go."""

    box: Sandbox
    roster: Path
    kubeconfigs: Path

    def rwk(self, *args: str) -> float:
        """Seconds one `rwk classroom ...` took, the whole process; fails loudly."""
        start = time.monotonic()
        done = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "rwk"), "classroom", *args, "--context",
             self.box.context, "--kubeconfig", str(self.box.kubeconfig)],
            capture_output=True, text=True)
        took = time.monotonic() - start
        if done.returncode != 0:
            sys.exit(f"rwk classroom {args[0]} exited {done.returncode}:\n"
                     f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
        return took


def start(students: int, tmp: Path) -> Bench:
    box = Sandbox(name=NAME, port=0, kubeconfig=tmp / "kubeconfig")
    if box.cluster_dir.exists():
        box.down(lambda m: None)
    box.up(lambda m: None)
    roster = tmp / "roster.csv"
    roster.write_text("student,name,email\n" + "".join(
        f"s{i:03d},Student {i},s{i:03d}@example.org\n" for i in range(students)))
    return Bench(box, roster, tmp / "kubeconfigs")


def create(bench: Bench) -> float:
    return bench.rwk("create", str(bench.roster), "--kubeconfigs", str(bench.kubeconfigs))


def verify(bench: Bench) -> float:
    return bench.rwk("verify", str(bench.roster), "--kubeconfigs", str(bench.kubeconfigs))


def more_nodes(bench: Bench, count: int) -> None:
    """Worker nodes beside the sandbox's three, as a workshop's cluster would have for a
    class (three 4-cpu nodes hold a few students' capstones, not a hundred)."""
    template = string.Template((ROOT / "checker" / "clusters" / "sandbox_node.yaml").read_text())
    manifest = "\n---\n".join(
        template.substitute(name=f"bench-worker-{i}", index=100 + i, cpu=4, memory="8Gi",
                            zone=f"zone-{'abc'[i % 3]}") for i in range(count))
    done = bench.box.kubectl()("apply", "-f", "-", input=manifest)
    if not done.ok:
        sys.exit(f"adding nodes failed:\n{done.output}")


def capstone_everywhere(bench: Bench) -> float:
    """Every student's namespace given the namespaces exercise's and the capstone's
    reference state (the capstone's two Secrets included), eight namespaces at a time;
    returns the seconds it took."""
    started = time.monotonic()
    manifest = [d for name in ("namespaces", "capstone") for d in yaml.safe_load_all(
        (ROOT / "solutions" / "manifests" / f"{name}.yaml").read_text()) if d]
    cert, key = certificate()

    def fill(namespace: str) -> None:
        docs = [_moved(doc, namespace) for doc in manifest] + [
            _secret(namespace, "db-credentials", "Opaque",
                    {"username": b"app", "password": secrets.token_urlsafe(18).encode()}),
            _secret(namespace, "tls-cert", "kubernetes.io/tls",
                    {"tls.crt": cert, "tls.key": key})]
        done = bench.box.kubectl()("apply", "-f", "-", input=yaml.safe_dump_all(docs))
        if not done.ok:
            sys.exit(f"applying the capstone to {namespace} failed:\n{done.output}")

    namespaces = [s.namespace for s in load_roster(bench.roster).students]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fill, namespaces))
    return time.monotonic() - started


def _moved(doc: dict, namespace: str) -> dict:
    doc = yaml.safe_load(yaml.safe_dump(doc))
    if doc["kind"] == "Namespace":
        doc["metadata"]["name"] = namespace
    else:
        doc["metadata"]["namespace"] = namespace
    for subject in doc.get("subjects") or []:
        subject["namespace"] = namespace
    return doc


def _secret(namespace: str, name: str, kind: str, data: dict[str, bytes]) -> dict:
    return {"apiVersion": "v1", "kind": "Secret", "type": kind,
            "metadata": {"name": name, "namespace": namespace},
            "data": {k: base64.b64encode(v).decode() for k, v in data.items()}}


def grade(bench: Bench, out: Path) -> tuple[float, float]:
    """Seconds and peak resident MiB of one whole `rwk grade` process (all exercises)."""
    start = time.monotonic()
    child = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "rwk"), "grade", str(bench.roster), "--out", str(out),
         "--context", bench.box.context, "--kubeconfig", str(bench.box.kubeconfig)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    took = time.monotonic() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"rwk grade exited {child.returncode}:\n{child.stderr.read()[-2000:]}")
    return took, usage.ru_maxrss / 1024


def requests_of_grading(bench: Bench) -> tuple[int, int, int, Counter]:
    """The API requests one class grading makes (all, and LISTs among them), how many
    students passed the capstone, and the capstone criteria that failed, counted."""
    cluster = Cluster(bench.box.context, bench.box.kubeconfig)
    snapshot = Snapshot(cluster)
    graded = grade_snapshot(snapshot, load_roster(bench.roster).students, ALL)
    failing = Counter(r.id for g in graded for r in g.report("capstone").results
                      if not r.passed)
    lists = len(snapshot.kinds_listed)
    return cluster.requests, lists, len(graded) - len({g.student.student for g in graded
                                                      if not g.report("capstone").passed}), \
        failing


def delete(bench: Bench) -> float:
    return bench.rwk("delete", str(bench.roster), "--yes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--settle", type=float, default=90,
                        help="seconds between applying the capstone and grading (default 90: "
                        "pods Ready and the HPAs' first metrics)")
    args = parser.parse_args()
    bench = start(args.students, Path(tempfile.mkdtemp(prefix="rwk-bench-classroom-")))
    try:
        figures = {"create": create(bench), "create again (nothing to do)": create(bench),
                   "verify": verify(bench)}
        more_nodes(bench, args.students // 2)
        figures["capstone applied everywhere (setup)"] = capstone_everywhere(bench)
        time.sleep(args.settle)   # pods Ready, HPAs with metrics: a class mid-workshop
        runs = [grade(bench, bench.kubeconfigs.parent / f"grades-{i}") for i in range(3)]
        for i, (seconds, _) in enumerate(runs, 1):
            figures[f"rwk grade, all {len(ALL)} exercises, run {i}"] = seconds
        sent, lists, passed, failing = requests_of_grading(bench)
        figures["delete --yes (namespaces gone)"] = delete(bench)
    finally:
        bench.box.down(lambda m: None)
    print(f"{args.students} students, sandbox {NAME}, whole `rwk` processes:")
    for what, seconds in figures.items():
        print(f"  {what:40} {seconds:6.1f} s")
    print(f"  rwk grade peak resident memory           {max(m for _, m in runs):6.0f} MiB")
    print(f"  API requests of one class grading        {sent:6d} ({lists} LISTs, "
          f"{sent - lists} access reviews)")
    print(f"  students passing the capstone            {passed:6d} of {args.students}")
    for criterion, count in failing.most_common(3):
        print(f"    failing {criterion}: {count}")


if __name__ == "__main__":
    main()
