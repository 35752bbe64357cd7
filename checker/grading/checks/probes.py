"""Exercise `probes`: liveness on /healthz and readiness on /readyz at podinfo's port 8080,
a liveness probe that does not restart healthy pods, and pods that are Ready."""

from __future__ import annotations

from ..model import Criterion, Failure
from ..quantities import resolve_port
from .common import (APP, check_rolled_out_and_ready, container, deployment, fail_on, listing,
                     liveness_problems)
from ..state import ClusterState

LESSON = "lessons/06-probes.ipynb"
PORT = 8080
PODINFO_DEFAULT_PORT = 9898
PATHS = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}


def _ports(app: dict) -> str:
    return listing(f"{p.get('name')}={p.get('containerPort')}" if p.get("name")
                   else str(p.get("containerPort")) for p in app.get("ports") or [])


def _probe_problems(app: dict, field: str) -> list[str]:
    want_path = PATHS[field]
    probe = app.get(field)
    if not probe:
        why = (" - without one, a pod receives traffic as soon as its container starts, "
               "before the app can answer" if field == "readinessProbe" else "")
        return [f"container {APP} has no {field}{why}"]
    http = probe.get("httpGet")
    if not http:
        kind = next((k for k in ("tcpSocket", "exec", "grpc") if k in probe), "no handler")
        return [f"{field} uses {kind}, expected httpGet on {want_path} port {PORT}"]
    problems = []
    path = http.get("path") or "/"
    if path != want_path:
        other = next(f for f, p in PATHS.items() if f != field)
        if path.rstrip("/") == "/ready":
            why = (f" (podinfo serves readiness at {want_path}; {path} answers 404, so the "
                   "probe always fails)")
        elif path == PATHS[other]:
            why = f" (that is the {other} endpoint)"
        else:
            why = " (podinfo answers 404 there, so the probe always fails)"
        problems.append(f"{field}.httpGet.path is {path!r}, expected {want_path!r}{why}")
    port = http.get("port")
    number = resolve_port(port, app.get("ports") or []) if port is not None else None
    if port is None:
        problems.append(f"{field}.httpGet.port is not set, expected {PORT}")
    elif number is None:
        problems.append(f"{field}.httpGet.port is {port!r}, but container {APP} has no port "
                        f"named {port!r} (its ports: {_ports(app)}), so the probe cannot "
                        "connect")
    elif number != PORT:
        named = f" (named port {port!r} is {number})" if number != port else ""
        why = (f": {PODINFO_DEFAULT_PORT} is podinfo's default port, but the app is started "
               f"with --port={PORT}" if number == PODINFO_DEFAULT_PORT else "")
        problems.append(f"{field}.httpGet.port is {port!r}{named}, expected {PORT}{why}")
    scheme = http.get("scheme") or "HTTP"
    if scheme != "HTTP":
        problems.append(f"{field}.httpGet.scheme is {scheme!r}: podinfo serves plain HTTP on "
                        f"{PORT}")
    return problems


def _check_probe(state: ClusterState, field: str) -> None:
    problems = _probe_problems(container(deployment(state)), field)
    fail_on(problems, f"container {APP}")


def liveness_probe(state: ClusterState) -> None:
    _check_probe(state, "livenessProbe")


def readiness_probe(state: ClusterState) -> None:
    _check_probe(state, "readinessProbe")


def liveness_not_aggressive(state: ClusterState) -> str | None:
    app = container(deployment(state))
    if not app.get("livenessProbe"):
        raise Failure(f"container {APP} has no livenessProbe to judge")
    problems, note = liveness_problems(app)
    fail_on(problems, f"container {APP}")
    return note


def pods_ready(state: ClusterState) -> None:
    check_rolled_out_and_ready(state)


CRITERIA = (
    Criterion("liveness-probe", "api-server has a liveness probe: httpGet /healthz on port "
              "8080", 2, "livenessProbe: {httpGet: {path: /healthz, port: 8080}} (or the "
              f"container port's name, http); see {LESSON}, 'Liveness and readiness'",
              liveness_probe),
    Criterion("readiness-probe", "api-server has a readiness probe: httpGet /readyz on port "
              "8080", 2, "readinessProbe: {httpGet: {path: /readyz, port: 8080}}: podinfo "
              f"answers readiness on /readyz, not /ready; see {LESSON}, "
              "'Liveness and readiness'", readiness_probe),
    Criterion("liveness-not-aggressive", "The liveness probe is not aggressive "
              "(failureThreshold >= 3; initialDelaySeconds >= 10 unless a startupProbe "
              "guards the start)", 2, "a liveness failure restarts the container: give the "
              "app time to start (initialDelaySeconds 15, or a startupProbe) and tolerate a "
              f"slow answer (failureThreshold 3); see {LESSON}, "
              "'The aggressive liveness probe'", liveness_not_aggressive),
    Criterion("probes-pods-ready", "The api-server pods are rolled out and Ready", 1,
              "`kubectl get pods -n NS` and `kubectl describe pod` show why a pod is not "
              "Ready (a failing readiness probe, restarts from a failing liveness probe); "
              f"see {LESSON}, 'Watching readiness'", pods_ready),
)
