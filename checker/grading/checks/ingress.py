"""Exercise `ingress`: app-ingress routes two hosts to two Services over TLS.

Every backend is followed to its Service, its port and its ready endpoints, since an Ingress
that names a wrong port or an empty Service is accepted by the API and fails only at request
time. The certificate is read from Secret tls-cert and judged by its names and dates; no value
of the Secret (above all tls.key) is ever put in a message.
"""

from __future__ import annotations

from ...kube.client import decode
from ..certificates import expiry_problem, key_matches, load_certificate
from ..model import Criterion, Failure
from ..quantities import resolve_port
from ..state import ClusterState
from .common import (deployment, fail_on, is_ready, listing, live_pods, names, near, pod_problem,
                     ports_text, require, require_secret)

LESSON = "lessons/04-ingress.ipynb"
NAME = "app-ingress"
CLASS = "nginx"
TLS_SECRET = "tls-cert"
TLS_TYPE = "kubernetes.io/tls"
ROUTES = {"api.example.com": "api-server", "app.example.com": "frontend"}
"""Each host's path / (Prefix) goes to this Service's port SERVICE_PORT."""
SERVICE_PORT, TARGET_PORT = 80, 8080
FRONTEND = "frontend"
DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class"
LEGACY_CLASS = "kubernetes.io/ingress.class"


def _ingress(state: ClusterState) -> dict:
    return require(state, "ingress", NAME)


def ingress_class(state: ClusterState) -> str | None:
    ingress = _ingress(state)
    named = ingress["spec"].get("ingressClassName")
    legacy = (ingress["metadata"].get("annotations") or {}).get(LEGACY_CLASS)
    classes = {c["metadata"]["name"]: c for c in state.list_cluster("ingressclass")}
    defaults = [name for name, c in classes.items()
                if (c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"]
    used = named or legacy
    if used is None:
        if defaults == [CLASS]:
            return f"no class named; the cluster's default IngressClass {CLASS} applies"
        raise Failure(f"Ingress {NAME} names no class (spec.ingressClassName is not set) and "
                      f"{CLASS!r} is not the cluster's default, so no controller serves it; "
                      f"IngressClasses: {listing(classes)}")
    if used != CLASS:
        field = "spec.ingressClassName" if named else f"annotation {LEGACY_CLASS}"
        raise Failure(f"{field} is {used!r}, expected {CLASS!r}{near(used, classes)}; "
                      f"IngressClasses in the cluster: {listing(classes)}")
    if CLASS not in classes:
        raise Failure(f"Ingress {NAME} asks for class {CLASS!r}, but the cluster has no such "
                      f"IngressClass (it has: {listing(classes)}), so no controller serves "
                      "it; `rwk up` creates it (on kind, with Traefik serving it)")
    if not named:
        return (f"the class comes from the deprecated annotation {LEGACY_CLASS}; "
                f"spec.ingressClassName: {CLASS} is the current way")
    return None


def _port_text(port: dict) -> str:
    return str(port["number"]) if "number" in port else repr(port.get("name"))


def _service_port(service: dict, port: dict) -> dict | None:
    """The Service port an Ingress backend's port (number or name) refers to."""
    for entry in service["spec"].get("ports") or []:
        if "number" in port and entry.get("port") == port["number"]:
            return entry
        if "name" in port and entry.get("name") == port["name"]:
            return entry
    return None


def routes(state: ClusterState) -> None:
    rules = _ingress(state)["spec"].get("rules") or []
    hosts = [r.get("host") or "(any host)" for r in rules]
    problems = []
    for host, service in ROUTES.items():
        paths = [p for r in rules if r.get("host") == host
                 for p in (r.get("http") or {}).get("paths") or []]
        if not paths:
            problems.append(f"no rule for host {host}{near(host, hosts)} "
                            f"(rule hosts: {listing(hosts)})")
            continue
        root = next((p for p in paths if p.get("path") == "/"), None)
        if root is None:
            problems.append(f"host {host} has no path '/' (its paths: "
                            f"{listing(repr(p.get('path')) for p in paths)})")
            continue
        kind = root.get("pathType")
        if kind != "Prefix":
            why = " (Exact matches / alone, not /anything-else)" if kind == "Exact" else ""
            problems.append(f"host {host} path / has pathType {kind!r}, expected "
                            f"'Prefix'{why}")
        backend = (root.get("backend") or {}).get("service")
        if not backend:
            problems.append(f"host {host} path / has no Service backend")
            continue
        name, port = backend.get("name"), backend.get("port") or {}
        number = port.get("number")
        if "name" in port:
            found = state.get("service", name) if name else None
            entry = _service_port(found, port) if found else None
            number = entry.get("port") if entry else None
        if name != service or number != SERVICE_PORT:
            problems.append(f"host {host} path / goes to {name}:{_port_text(port)}, expected "
                            f"{service}:{SERVICE_PORT}")
    fail_on(problems, f"Ingress {NAME}")


def _backends(ingress: dict) -> list[tuple[str, dict]]:
    """(where, backend) for every backend of the Ingress, rules first."""
    found = []
    for rule in ingress["spec"].get("rules") or []:
        for path in (rule.get("http") or {}).get("paths") or []:
            found.append((f"{rule.get('host') or '(any host)'}{path.get('path', '')}",
                          path.get("backend") or {}))
    if ingress["spec"].get("defaultBackend"):
        found.append(("defaultBackend", ingress["spec"]["defaultBackend"]))
    return found


def backends(state: ClusterState) -> None:
    ingress = _ingress(state)
    found = _backends(ingress)
    if not found:
        raise Failure(f"Ingress {NAME} has no rules with backends (spec.rules is empty)")
    problems, seen = [], set()
    for where, backend in found:
        service = backend.get("service")
        if not service:
            problems.append(f"{where}: the backend is not a Service")
            continue
        name, port = service.get("name"), service.get("port") or {}
        key = (name, port.get("number"), port.get("name"))
        if key in seen:
            continue
        seen.add(key)
        problem = _backend_problem(state, name, port)
        if problem:
            problems.append(f"{where} -> {name}:{_port_text(port)}: {problem}")
    fail_on(problems, f"Ingress {NAME}")


def _backend_problem(state: ClusterState, name: str, port: dict) -> str:
    service = state.get("service", name)
    if service is None:
        others = names(state, "service")
        return (f"Service {name!r} does not exist{near(name, others)} "
                f"(Services here: {listing(others)})")
    entry = _service_port(service, port)
    if entry is None:
        what = f"port {port['number']}" if "number" in port else f"port named {port.get('name')!r}"
        why = ""
        if "number" in port and any(p.get("targetPort") == port["number"]
                                    for p in service["spec"].get("ports") or []):
            why = (f": {port['number']} is its targetPort, where the pods listen; an Ingress "
                   "backend names the Service's port")
        return f"Service {name} has no {what} (its ports: {ports_text(service)}){why}"
    slices = state.list("endpointslice", selector=f"kubernetes.io/service-name={name}")
    # A slice serves a Service port when it lists that port by name ("" when unnamed); a
    # named targetPort no pod declares leaves the pods in a slice without ports.
    port_name = entry.get("name") or ""
    ready = [e for s in slices
             if any((p.get("name") or "") == port_name for p in s.get("ports") or [])
             for e in s.get("endpoints") or []
             if (e.get("conditions") or {}).get("ready") is not False]
    if ready:
        return ""
    return f"Service {name} has no ready endpoints: {_why_no_endpoints(state, service, entry)}"


def _why_no_endpoints(state: ClusterState, service: dict, entry: dict) -> str:
    selector = service["spec"].get("selector") or {}
    if not selector:
        return "it has no selector, and no EndpointSlice lists a pod for it"
    text = ",".join(f"{k}={v}" for k, v in selector.items())
    pods = live_pods(state, selector=text)
    if not pods:
        carried = {f"{k}={v}" for p in state.list("pod")
                   for k, v in (p["metadata"].get("labels") or {}).items() if k in selector}
        return (f"its selector {text} matches no pod in namespace {state.namespace} (pods "
                f"here carry {listing(carried)})")
    ready = [p for p in pods if is_ready(p)]
    if not ready:
        return (f"{len(pods)} pod(s) match its selector {text}, none is Ready "
                f"({pod_problem(pods[0])})")
    target = entry.get("targetPort")
    if isinstance(target, str) and not any(
            resolve_port(target, c.get("ports") or []) for p in ready
            for c in p["spec"].get("containers") or []):
        return (f"its targetPort {target!r} names no container port of the pods it selects, "
                "so they are left out")
    return (f"{len(ready)} Ready pod(s) match its selector, but the endpoints have not caught "
            "up yet; check again in a moment")


def _tls_secret(state: ClusterState) -> dict:
    return require_secret(state, TLS_SECRET, "an Ingress")


def tls(state: ClusterState) -> None:
    entries = _ingress(state)["spec"].get("tls") or []
    if not entries:
        raise Failure(f"Ingress {NAME} has no spec.tls: it serves its hosts over plain HTTP "
                      "only")
    listed = [h for e in entries for h in e.get("hosts") or []]
    problems = [f"spec.tls does not list host {host}{near(host, listed)} (it lists "
                f"{listing(listed)})" for host in ROUTES if host not in listed]
    for index, entry in enumerate(entries):
        if not set(entry.get("hosts") or []) & set(ROUTES):
            continue
        secret = entry.get("secretName")
        if not secret:
            problems.append(f"spec.tls[{index}] names no secretName")
        elif secret != TLS_SECRET:
            problems.append(f"spec.tls[{index}].secretName is {secret!r}, expected "
                            f"{TLS_SECRET!r}")
    fail_on(problems, f"Ingress {NAME}")
    kind = _tls_secret(state).get("type")
    if kind != TLS_TYPE:
        raise Failure(f"Secret {TLS_SECRET} has type {kind!r}, expected {TLS_TYPE!r} (the "
                      "controller serves only kubernetes.io/tls Secrets)")


def certificate(state: ClusterState) -> str | None:
    secret = _tls_secret(state)
    keys = set(secret.get("data") or {})
    pem = decode(secret, "tls.crt")
    if not pem:
        raise Failure(f"Secret {TLS_SECRET} has no tls.crt (its keys: {listing(keys)})")
    try:
        cert = load_certificate(pem)
    except ValueError as error:
        raise Failure(f"Secret {TLS_SECRET}: tls.crt holds {error}") from None
    problems = []
    uncovered = [host for host in ROUTES if not cert.covers(host)]
    if uncovered:
        problems.append(f"the certificate in tls.crt is for {cert.describe_names()}, which "
                        f"does not cover {', '.join(uncovered)}")
    expired = expiry_problem(cert)
    if expired:
        problems.append(f"the certificate {expired}")
    key = decode(secret, "tls.key")
    if not key:
        problems.append(f"there is no tls.key (its keys: {listing(keys)})")
    else:
        matches = key_matches(cert, key)
        if matches is None:
            problems.append("tls.key is not a readable, unencrypted PEM private key (its "
                            "content is not shown)")
        elif not matches:
            problems.append("tls.key is not the private key of the certificate in tls.crt "
                            "(the two do not belong together)")
    fail_on(problems, f"Secret {TLS_SECRET}")
    if not cert.dns_names:
        return ("the hosts are covered by the subject CN only: browsers ignore the CN and "
                "want a subjectAltName")
    return None


def frontend(state: ClusterState) -> None:
    workload = deployment(state, FRONTEND)
    service = require(state, "service", FRONTEND)
    entry = _service_port(service, {"number": SERVICE_PORT})
    if entry is None:
        raise Failure(f"Service {FRONTEND} has no port {SERVICE_PORT} (its ports: "
                      f"{ports_text(service)})")
    template = workload["spec"]["template"]
    ports = [p for c in template["spec"].get("containers") or [] for p in c.get("ports") or []]
    target = entry.get("targetPort", SERVICE_PORT)
    if resolve_port(target, ports) != TARGET_PORT:
        unset = "" if "targetPort" in entry else " (targetPort not set: the same as port)"
        raise Failure(f"Service {FRONTEND} sends port {SERVICE_PORT} to targetPort "
                      f"{target!r}{unset}, expected {TARGET_PORT}, where podinfo listens")
    selector = service["spec"].get("selector") or {}
    labels = template["metadata"].get("labels") or {}
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        shown = listing(f"{k}={v}" for k, v in selector.items())
        raise Failure(f"Service {FRONTEND} selects {shown}, which is not the pods of "
                      f"Deployment {FRONTEND} (labelled "
                      f"{listing(f'{k}={v}' for k, v in labels.items())})")


CRITERIA = (
    Criterion("ingress-class", "Ingress app-ingress exists with class nginx", 1,
              f"spec.ingressClassName: {CLASS}; `kubectl get ingressclass` lists the classes "
              f"the cluster's controllers serve; see {LESSON}, 'Ingress controllers'",
              ingress_class),
    Criterion("ingress-frontend", "Deployment and Service frontend run beside api-server "
              "(Service port 80 to 8080)", 1, "a Deployment frontend (podinfo, --port=8080) "
              "and a Service frontend whose selector matches its pods, port 80, targetPort "
              f"8080; see {LESSON}, 'A second app'", frontend),
    Criterion("ingress-rules", "api.example.com / (Prefix) goes to api-server:80, "
              "app.example.com / (Prefix) to frontend:80", 2, "one rule per host, path / "
              "with pathType Prefix, backend service name and port as the task gives them; "
              f"see {LESSON}, 'Host and path rules'", routes),
    Criterion("ingress-backends", "Each backend Service exists, has the port the rule names, "
              "and has ready endpoints", 2, "the backend port is the Service's port (80), "
              "not the pods' (8080); `kubectl get endpointslices -n NS -l "
              "kubernetes.io/service-name=SERVICE` shows who answers; see "
              f"{LESSON}, 'From rule to pod'", backends),
    Criterion("ingress-tls", "TLS lists both hosts and names the kubernetes.io/tls Secret "
              "tls-cert", 2, "spec.tls: [{hosts: [api.example.com, app.example.com], "
              f"secretName: {TLS_SECRET}}}]; create the Secret with `kubectl create secret "
              f"tls {TLS_SECRET} --cert=tls.crt --key=tls.key -n NS`; see {LESSON}, 'TLS'",
              tls),
    Criterion("ingress-certificate", "The certificate covers both hosts and has not expired",
              2, "make a certificate whose subjectAltName lists both hosts (openssl req "
              "-x509 ... -addext 'subjectAltName=DNS:api.example.com,DNS:app.example.com'), "
              f"then replace the Secret; see {LESSON}, 'TLS'", certificate),
)
