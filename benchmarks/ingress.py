"""Benchmark the course's Ingress on kind: requests per second through Traefik from this
machine, their latency, and the controller's memory at rest and under that load.

Prints figures; asserts nothing. Needs a running kind cluster of the course (`rwk up --backend
kind`) and its kubeconfig; run from the repository root:

    .venv/bin/python benchmarks/ingress.py [--kubeconfig PATH] [--seconds 20] [--clients 8]
                                           [--rollouts N]

It deploys exercise 04's reference solution (solutions/manifests/ingress.yaml, three api-server
pods) in a namespace of its own, bench-ingress, with a fresh self-signed certificate, then
sends GET https://api.example.com/ to 127.0.0.1:443 from `--clients` threads, each on one
kept-alive TLS connection, for `--seconds`. The client is Python on the same two cores as the
whole cluster, so the figure is what this machine sustains, client included: a lower bound for
Traefik itself. With `--rollouts N` the load runs instead while api-server is restarted N
times in a row (`kubectl rollout restart`, then `rollout status`): the failed requests and the
slowest one are what a rolling update costs the clients behind the Ingress. The namespace is
deleted at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import ssl
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "bench-ingress"
HOST = "api.example.com"


def kubectl(*args: str, input: str | None = None, check: bool = True) -> str:
    done = subprocess.run(["kubectl", *args], input=input, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def controller_memory_mib() -> float:
    """Traefik's working set as the metrics API reports it (kubectl top)."""
    for _ in range(30):
        out = kubectl("top", "pod", "-n", "traefik", "--no-headers", check=False)
        if out.strip():
            return float(out.split()[2].removesuffix("Mi"))
        time.sleep(5)
    raise SystemExit("the metrics API gave no figure for Traefik's pod within 150 s")


def deploy(folder: Path) -> Path:
    kubectl("create", "namespace", NAMESPACE)
    manifest = (ROOT / "solutions/manifests/ingress.yaml").read_text().replace(
        "namespace: production", f"namespace: {NAMESPACE}")
    kubectl("apply", "-f", "-", input=manifest)
    crt, key = folder / "tls.crt", folder / "tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(crt), "-subj", f"/CN={HOST}", "-addext",
                    f"subjectAltName=DNS:{HOST},DNS:app.example.com"],
                   check=True, capture_output=True)
    kubectl("create", "secret", "tls", "tls-cert", "-n", NAMESPACE, f"--cert={crt}", f"--key={key}")
    key.unlink()
    for deployment in ("api-server", "frontend"):
        kubectl("rollout", "status", f"deployment/{deployment}", "-n", NAMESPACE, "--timeout=180s")
    return crt


def connect(context: ssl.SSLContext) -> http.client.HTTPSConnection:
    connection = http.client.HTTPSConnection(HOST, timeout=10, context=context)
    raw = socket.create_connection(("127.0.0.1", 443), timeout=10)
    connection.sock = context.wrap_socket(raw, server_hostname=HOST)
    return connection


def load(context: ssl.SSLContext, seconds: float, clients: int,
         stop: threading.Event | None = None) -> tuple[list[float], int]:
    """Latencies of the successful requests, and the count of failed ones, over `seconds` or
    until `stop` is set."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    end = time.monotonic() + seconds
    stop = stop or threading.Event()

    def client() -> None:
        mine, failed = [], 0
        connection = connect(context)
        while time.monotonic() < end and not stop.is_set():
            start = time.perf_counter()
            try:
                connection.request("GET", "/")
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    mine.append(time.perf_counter() - start)
                else:
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                try:
                    connection = connect(context)
                except OSError:
                    time.sleep(0.1)
        connection.close()
        with lock:
            latencies.extend(mine)
            failures[0] += failed

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures[0]


def under_rollouts(context: ssl.SSLContext, rollouts: int,
                   clients: int) -> tuple[list[float], int]:
    """`load` for as long as api-server takes to be restarted `rollouts` times in a row."""
    stop = threading.Event()
    results: list[tuple[list[float], int]] = []
    runner = threading.Thread(target=lambda: results.append(load(context, 3600, clients, stop)))
    runner.start()
    try:
        for n in range(rollouts):
            time.sleep(2)
            kubectl("rollout", "restart", "deployment/api-server", "-n", NAMESPACE)
            kubectl("rollout", "status", "deployment/api-server", "-n", NAMESPACE,
                    "--timeout=180s")
            print(f"rollout {n + 1} of {rollouts} done", flush=True)
        time.sleep(5)                                 # the last old pods finish terminating
    finally:
        stop.set()
        runner.join()
    return results[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rollouts", type=int, default=0,
                        help="restart api-server this many times during the load")
    args = parser.parse_args()
    if args.kubeconfig:
        os.environ["KUBECONFIG"] = args.kubeconfig
    image = kubectl("get", "deployment", "traefik", "-n", "traefik", "-o",
                    "jsonpath={.spec.template.spec.containers[0].image}")
    print(f"controller: {image}")
    listed = json.loads(kubectl("get", "ingresses", "--all-namespaces", "-o", "json"))["items"]
    holders = [f"{i['metadata']['namespace']}/{i['metadata']['name']}" for i in listed
               if i["metadata"]["namespace"] != NAMESPACE
               and HOST in {r.get("host") for r in i["spec"].get("rules") or []}]
    if holders:
        raise SystemExit(f"other Ingresses route {HOST} ({', '.join(holders)}): their answers "
                         "would mix with the benchmark's; delete them first")
    at_rest = controller_memory_mib()
    print(f"controller memory at rest (kubectl top, working set): {at_rest:.0f} MiB")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            crt = deploy(Path(tmp))
            context = ssl.create_default_context(cafile=str(crt))
            for _ in range(45):                       # the controller loads the new routes
                try:
                    if load(context, 1, 1)[0]:
                        break
                except OSError:
                    pass
                time.sleep(2)
            cpu_before, started = time.process_time(), time.monotonic()
            if args.rollouts:
                latencies, failed = under_rollouts(context, args.rollouts, args.clients)
                args.seconds = time.monotonic() - started
            else:
                latencies, failed = load(context, args.seconds, args.clients)
            client_cpu = time.process_time() - cpu_before
            under_load = controller_memory_mib()
        finally:
            kubectl("delete", "namespace", NAMESPACE, "--wait=false", check=False)
    if not latencies:
        raise SystemExit(f"no request succeeded ({failed} failed)")
    ordered = sorted(latencies)
    print(f"requests: {len(latencies)} ok, {failed} failed, in {args.seconds:.0f} s from "
          f"{args.clients} clients (HTTPS, kept-alive connections, 3 api-server pods"
          + (f", {args.rollouts} rolling restarts of api-server)" if args.rollouts else ")"))
    print(f"throughput: {len(latencies) / args.seconds:.0f} requests/s")
    print(f"latency: median {statistics.median(ordered) * 1000:.1f} ms, "
          f"p95 {ordered[int(len(ordered) * 0.95)] * 1000:.1f} ms, "
          f"max {ordered[-1] * 1000:.1f} ms")
    print(f"client CPU: {client_cpu:.1f} s of {args.seconds:.0f} s (Python, same 2 cores)")
    print(f"controller memory after the load (kubectl top): {under_load:.0f} MiB")
    print(json.dumps({"rps": round(len(latencies) / args.seconds), "failed": failed,
                      "median_ms": round(statistics.median(ordered) * 1000, 1),
                      "memory_rest_mib": at_rest, "memory_load_mib": under_load}))


if __name__ == "__main__":
    main()
