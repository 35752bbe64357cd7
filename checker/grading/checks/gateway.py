"""Exercise `gateway`: Gateway web of class rwk in front of api-server, an HTTP-to-HTTPS
redirect, and a 90/10 canary by weights.

The objects are read as the API stores them, with the Gateway API's defaults filled in where
a field was left out (a listener's TLS mode is Terminate, a backendRef's weight is 1, a rule
without matches matches every path). The routes' status is read live: on kind Traefik writes
it, on the sandbox the simulated controller does (checker/clusters/sandbox_gateway_stages.yaml).
No value of the TLS Secret is read.
"""

from __future__ import annotations

from ...errors import ClusterUnreachable
from ..model import Criterion, Failure
from ..state import ClusterState
from .common import (check_rolled_out, deployment, fail_on, listing, names, near, ports_text,
                     require, require_secret)

LESSON = "lessons/12-gateway-api.ipynb"
GATEWAY, CLASS, HOST = "web", "rwk", "api.example.com"
TLS_SECRET, TLS_TYPE = "tls-cert", "kubernetes.io/tls"
LISTENERS = {"http": ("HTTP", 80, None), "https": ("HTTPS", 443, HOST)}
"""Each listener's name: (protocol, port, hostname; None where the task names none)."""
REDIRECT, ROUTE = "api-redirect", "api"
ATTACHED = {REDIRECT: "http", ROUTE: "https"}
"""Each route's listener (its parentRef's sectionName)."""
WEIGHTS = {"api-server": 90, "api-server-canary": 10}
SERVICE_PORT = 80
CANARY, CANARY_IMAGE = "api-server-canary", "ghcr.io/stefanprodan/podinfo:6.7.1"
GROUP = "gateway.networking.k8s.io"
API = f"{GROUP}/v1"


def _served(state: ClusterState, kind: str, name: str) -> dict:
    """The object, or a Failure that says when the cluster does not serve the Gateway API."""
    found = state.get(kind, name)
    if found is not None:
        return found
    try:
        return require(state, kind, name)
    except ClusterUnreachable:
        raise Failure(f"the cluster does not serve the Gateway API ({API}: its CRDs are not "
                      "installed), so there can be no Gateway or HTTPRoute; `rwk up` installs "
                      "them on the sandbox and on kind") from None


def _gateway(state: ClusterState) -> dict:
    return _served(state, "gateway", GATEWAY)


def _route(state: ClusterState, name: str) -> dict:
    return _served(state, "httproute", name)


def gateway_class(state: ClusterState) -> None:
    used = _gateway(state)["spec"].get("gatewayClassName")
    if used != CLASS:
        raise Failure(f"Gateway {GATEWAY}: spec.gatewayClassName is {used!r}, expected "
                      f"{CLASS!r}, the course's class, which "
                      "`rwk up` installs (`kubectl get gatewayclass` lists the classes)")


def listeners(state: ClusterState) -> None:
    found = {str(item.get("name")): item for item in _gateway(state)["spec"].get("listeners") or []}
    problems = []
    for name, (protocol, port, host) in LISTENERS.items():
        listener = found.get(name)
        if listener is None:
            problems.append(f"no listener named {name!r}{near(name, found)} (listeners: "
                            f"{listing(found)})")
            continue
        where = f"listener {name}"
        if listener.get("protocol") != protocol:
            problems.append(f"{where} has protocol {listener.get('protocol')!r}, expected "
                            f"{protocol!r}")
        if listener.get("port") != port:
            problems.append(f"{where} has port {listener.get('port')!r}, expected {port}")
        if host and listener.get("hostname") != host:
            shown = repr(listener.get("hostname")) if listener.get("hostname") else "not set"
            problems.append(f"{where} has hostname {shown}, expected {host!r}")
        if protocol == "HTTPS":
            problems.extend(_tls_problems(state, where, listener.get("tls") or {}))
    fail_on(problems, f"Gateway {GATEWAY}")
    kind = require_secret(state, TLS_SECRET, "a Gateway's listener").get("type")
    if kind != TLS_TYPE:
        raise Failure(f"Secret {TLS_SECRET} has type {kind!r}, expected {TLS_TYPE!r} (a "
                      "listener terminates TLS only with a kubernetes.io/tls Secret: its "
                      "tls.crt and tls.key)")


def _tls_problems(state: ClusterState, where: str, tls: dict) -> list[str]:
    if not tls:
        return [f"{where} has no tls section: HTTPS needs a certificate to terminate with"]
    if tls.get("mode", "Terminate") != "Terminate":
        return [f"{where}: tls.mode is {tls['mode']!r}, expected 'Terminate' (Passthrough "
                "hands the encrypted stream to the pods, which do not speak TLS)"]
    refs = tls.get("certificateRefs") or []
    ours = [r for r in refs if r.get("name") == TLS_SECRET]
    if not ours:
        shown = listing(str(r.get("name")) for r in refs)
        return [f"{where}: tls.certificateRefs names {shown}, expected Secret {TLS_SECRET!r}"]
    ref = ours[0]
    if (ref.get("kind") or "Secret") != "Secret" or (ref.get("group") or "") != "":
        return [f"{where}: tls.certificateRefs[{refs.index(ref)}] is a "
                f"{ref.get('kind')!r} of group {ref.get('group')!r}, expected a Secret"]
    if ref.get("namespace") not in (None, state.namespace):
        return [f"{where}: tls.certificateRefs[{refs.index(ref)}] points to namespace "
                f"{ref['namespace']!r}; the certificate belongs in {state.namespace}, beside "
                "the Gateway (another namespace's Secret needs a ReferenceGrant there)"]
    return []


def _attachment(route: dict, name: str, state: ClusterState) -> list[str]:
    """Problems with how route `name` attaches: to Gateway web, listener ATTACHED[name]."""
    refs = route["spec"].get("parentRefs") or []
    ours = [r for r in refs if r.get("name") == GATEWAY and (r.get("kind") or "Gateway")
            == "Gateway" and r.get("namespace") in (None, state.namespace)]
    want = ATTACHED[name]
    away = [r["namespace"] for r in refs if r.get("name") == GATEWAY and r.get("namespace")
            not in (None, state.namespace)]
    if not ours and away:
        return [f"its parentRef to {GATEWAY} points to namespace {away[0]!r}; the task's "
                f"Gateway is in {state.namespace}, beside the route"]
    if not ours:
        shown = listing(str(r.get("name")) for r in refs)
        return [f"spec.parentRefs names {shown}, expected Gateway {GATEWAY!r} (sectionName "
                f"{want!r})"]
    section = ours[0].get("sectionName")
    if section == want:
        return []
    if section is None:
        return [f"its parentRef to {GATEWAY} names no sectionName, so it attaches to every "
                f"listener; expected sectionName {want!r}"]
    why = (": requests to it travel without TLS" if want == "https" else
           ": the redirect belongs on the plain-HTTP listener" if want == "http" else "")
    return [f"its parentRef is attached to listener {section!r}, expected {want!r}{why}"]


def _hostnames(route: dict) -> list[str]:
    hosts = route["spec"].get("hostnames") or []
    if not hosts:
        return [f"spec.hostnames is empty, so it catches every host its listener takes; "
                f"expected [{HOST}]"]
    if HOST not in hosts:
        return [f"spec.hostnames is {listing(hosts)}, expected {HOST}{near(hosts[0], [HOST])}"]
    return []


def redirect(state: ClusterState) -> None:
    route = _route(state, REDIRECT)
    problems = _attachment(route, REDIRECT, state) + _hostnames(route)
    filters = [f for rule in route["spec"].get("rules") or [] for f in rule.get("filters") or []]
    found = [f.get("requestRedirect") or {} for f in filters if f.get("type") == "RequestRedirect"]
    if not found:
        problems.append(f"no rule has a RequestRedirect filter (filters: "
                        f"{listing(f.get('type', '?') for f in filters)})")
    else:
        scheme, status = found[0].get("scheme"), found[0].get("statusCode", 302)
        if scheme != "https":
            problems.append(f"the RequestRedirect filter's scheme is {scheme!r}, expected "
                            "'https'")
        if status != 301:
            problems.append(f"the RequestRedirect filter's statusCode is {status}, expected "
                            "301 (a permanent move; 302, the default, is a temporary one)")
    fail_on(problems, f"HTTPRoute {REDIRECT}")


def backend_weights(route: dict) -> list[tuple[str, object, int]]:
    """(Service, port, weight) of every backendRef of a route, weight 1 where unset."""
    return [(ref.get("name"), ref.get("port"), ref.get("weight", 1))
            for rule in route["spec"].get("rules") or []
            for ref in rule.get("backendRefs") or []]


def _covers_every_path(rule: dict) -> bool:
    matches = rule.get("matches") or [{}]
    return any((m.get("path") or {"type": "PathPrefix", "value": "/"}) ==
               {"type": "PathPrefix", "value": "/"} for m in matches)


def route(state: ClusterState) -> None:
    api = _route(state, ROUTE)
    problems = _attachment(api, ROUTE, state) + _hostnames(api)
    rules = api["spec"].get("rules") or []
    if not any(_covers_every_path(rule) for rule in rules):
        problems.append("no rule matches path prefix '/' (matches: path: {type: PathPrefix, "
                        "value: /})")
    found = backend_weights(api)
    weights = {name: weight for name, _, weight in found}
    if set(weights) != set(WEIGHTS):
        problems.append(f"its backendRefs are {listing(str(name) for name, *_ in found)}, "
                        f"expected {listing(WEIGHTS)}")
    elif weights != WEIGHTS:
        swapped = {name: WEIGHTS[other] for name, other in zip(WEIGHTS, reversed(WEIGHTS))}
        shown = ", ".join(f"{name} {weight}" for name, weight in weights.items())
        why = ": swapped, the canary would get most of the requests" if weights == swapped \
            else ""
        problems.append(f"the weights are {shown}, expected "
                        f"{', '.join(f'{n} {w}' for n, w in WEIGHTS.items())}{why}")
    ports = {name: port for name, port, _ in found if name in WEIGHTS}
    problems.extend(f"the backendRef to {name} has port {port!r}, expected {SERVICE_PORT}"
                    for name, port in ports.items()
                    if port != SERVICE_PORT and not _is_target_port(state, name, port))
    fail_on(problems, f"HTTPRoute {ROUTE}")


def _is_target_port(state: ClusterState, name: str, port: object) -> bool:
    """Whether `port` is the Service's targetPort: the backends criterion names that."""
    service = state.get("service", name)
    return bool(service) and any(p.get("targetPort") == port
                                 for p in service["spec"].get("ports") or [])


def backends(state: ClusterState) -> None:
    found = backend_weights(_route(state, ROUTE))
    if not found:
        raise Failure(f"HTTPRoute {ROUTE} has no backendRefs")
    problems = []
    for name, port, _ in found:
        service = state.get("service", name) if name else None
        if service is None:
            others = names(state, "service")
            problems.append(f"backendRef {name}:{port}: Service {name!r} does not exist"
                            f"{near(name or '', others)} (Services here: {listing(others)})")
            continue
        exposed = service["spec"].get("ports") or []
        if not any(p.get("port") == port for p in exposed):
            why = ""
            if any(p.get("targetPort") == port for p in exposed):
                why = (f": {port} is its targetPort, where the pods listen; a backendRef "
                       "names the Service's port")
            problems.append(f"backendRef {name}:{port}: Service {name} has no port {port} "
                            f"(its ports: {ports_text(service)}){why}")
    fail_on(problems, f"HTTPRoute {ROUTE}")


def _parent_problem(route: dict, name: str) -> str:
    parents = [p for p in (route.get("status") or {}).get("parents") or []
               if (p.get("parentRef") or {}).get("name") == GATEWAY]
    if not parents:
        return (f"HTTPRoute {name} has no status for Gateway {GATEWAY}: no controller has "
                f"taken it up (is the Gateway of class {CLASS}, and does `kubectl get "
                f"gatewayclass {CLASS}` say ACCEPTED True?)")
    conditions = {c.get("type"): c for c in parents[0].get("conditions") or []}
    wrong = []
    for kind in ("Accepted", "ResolvedRefs"):
        found = conditions.get(kind)
        if found is None:
            wrong.append(f"{kind} not reported")
        elif found.get("status") != "True":
            wrong.append(f"{kind} is {found.get('status')} ({found.get('reason', '?')}: "
                         f"{found.get('message', '')})")
    return f"HTTPRoute {name}, parent {GATEWAY}: {'; '.join(wrong)}" if wrong else ""


def status(state: ClusterState) -> None:
    fail_on([problem for name in ATTACHED
             if (problem := _parent_problem(_route(state, name), name))])


def canary(state: ClusterState) -> str | None:
    workload = deployment(state, CANARY)
    spec, problems = workload["spec"], []
    labels = spec["template"]["metadata"].get("labels") or {}
    if labels.get("app") != CANARY:
        problems.append(f"its pods are labelled app={labels.get('app')!r}, expected "
                        f"app={CANARY}")
    if spec.get("replicas", 1) != 1:
        problems.append(f"spec.replicas is {spec.get('replicas')}, expected 1: the weight, "
                        "not the number of pods, sets the canary's share")
    images = {c.get("image") or "?" for c in spec["template"]["spec"].get("containers") or []}
    if CANARY_IMAGE not in images:
        problems.append(f"its image is {listing(images)}, expected {CANARY_IMAGE}")
    fail_on(problems, f"Deployment {CANARY}")
    return check_rolled_out(state, CANARY)


CRITERIA = (
    Criterion("gateway-class", "Gateway web exists with class rwk", 1,
              f"spec.gatewayClassName: {CLASS}; see {LESSON}, 'Three objects, three owners'",
              gateway_class),
    Criterion("gateway-listeners", "Listeners http (HTTP 80) and https (HTTPS 443, "
              "api.example.com, TLS from the kubernetes.io/tls Secret tls-cert)", 2,
              "listeners: [{name: http, protocol: HTTP, port: 80}, {name: https, protocol: "
              "HTTPS, port: 443, hostname: api.example.com, tls: {mode: Terminate, "
              "certificateRefs: [{kind: Secret, name: tls-cert}]}}]; make the Secret with "
              f"`kubectl create secret tls`; see {LESSON}, 'The Gateway: where traffic enters'",
              listeners),
    Criterion("gateway-redirect", "HTTPRoute api-redirect on listener http sends "
              "api.example.com to https with a 301", 2,
              "parentRefs: [{name: web, sectionName: http}], hostnames: [api.example.com], a "
              "rule whose filter is RequestRedirect {scheme: https, statusCode: 301}; see "
              f"{LESSON}, 'Routes: a redirect, and a canary'", redirect),
    Criterion("gateway-route", "HTTPRoute api on listener https splits / between api-server "
              "(90) and api-server-canary (10)", 2,
              "parentRefs: [{name: web, sectionName: https}], hostnames: [api.example.com], "
              "matches path PathPrefix /, backendRefs api-server port 80 weight 90 and "
              f"api-server-canary port 80 weight 10; see {LESSON}, 'Routes: a redirect, and a "
              "canary'", route),
    Criterion("gateway-backends", "Each backend of route api is an existing Service on a port "
              "it exposes", 2, "a backendRef names the Service's port (80), not the pods' "
              "(8080); `kubectl get service NAME` shows its ports; see "
              f"{LESSON}, 'Routes: a redirect, and a canary'", backends),
    Criterion("gateway-status", "Both routes report Accepted and ResolvedRefs for Gateway web",
              2, "`kubectl describe httproute NAME` shows each parent's conditions and their "
              f"reasons; see {LESSON}, 'Reading the status'", status),
    Criterion("gateway-canary", "Deployment api-server-canary (podinfo 6.7.1, one replica) is "
              "rolled out", 1, "a Deployment api-server-canary, label app: "
              f"api-server-canary, image {CANARY_IMAGE}, args --port=8080, and a Service of "
              f"the same name, port 80 to 8080; see {LESSON}, 'The apps'", canary),
)
