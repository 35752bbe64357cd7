"""Exercise `security`: api-server locked down (Pod Security `restricted`, its securityContext,
no ServiceAccount token) and fenced in (NetworkPolicies default-deny and allow-api).

Each securityContext field is read from the Deployment's pod template and from its running
pods: a pod admitted before the namespace enforced `restricted`, or left from an older
template, is named. A field may be set on the pod or on the container where Kubernetes takes
either (runAsNonRoot, runAsUser, seccompProfile: the container's wins). The policies are read
as written; whether the network enforces them is the CNI's business (on kind in CI it does
not: docs/clusters.md says why), and the checker only reads.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Criterion, Failure
from ..quantities import resolve_port
from ..state import ClusterState
from .common import (APP, applied_setting, check_rolled_out_and_ready, container, deployment,
                     deployment_pods, fail_on, listing, policy_types, require, selector_matches,
                     selector_text)

LESSON = "lessons/13-security.ipynb"
ENFORCE = "pod-security.kubernetes.io/enforce"
LEVEL = "restricted"
DENY, ALLOW = "default-deny", "allow-api"
INGRESS_NAMESPACE = "traefik"
"""Where the course's Ingress controller runs on kind (checker/clusters/kind.py says the same;
a unit test holds them together)."""
NAME_LABEL = "kubernetes.io/metadata.name"
"""The label the API server puts on every namespace: its name."""
APP_PORT = 8080
DNS_NAMESPACE, DNS_PORT = "kube-system", 53


def namespace_level(state: ClusterState) -> None:
    labels = state.require_namespace()["metadata"].get("labels") or {}
    level = labels.get(ENFORCE)
    if level != LEVEL:
        shown = f"is {level!r}" if level else "is not set"
        raise Failure(f"namespace {state.namespace}: label {ENFORCE} {shown}, expected "
                      f"{LEVEL!r} (the API server then refuses any pod that is not locked "
                      "down)")


def _app_container(spec: dict) -> dict | None:
    """The container api-server of a pod spec (a template's or a running pod's)."""
    return next((c for c in spec.get("containers") or [] if c.get("name") == APP), None)


def _pod_problems(spec: dict) -> list[str]:
    item = _app_container(spec)
    if item is None:
        return [f"no container named {APP!r}"]
    problems = []
    if applied_setting(spec, item, "runAsNonRoot") is not True:
        problems.append("runAsNonRoot is not true")
    user = applied_setting(spec, item, "runAsUser")
    if user is None:
        problems.append("runAsUser is not set: with runAsNonRoot alone, an image whose user is "
                        "root never starts (the kubelet refuses it: 'container has "
                        "runAsNonRoot and image will run as root')")
    elif user == 0:
        problems.append("runAsUser is 0, which is root")
    seccomp = (applied_setting(spec, item, "seccompProfile") or {}).get("type")
    if seccomp != "RuntimeDefault":
        problems.append(f"seccompProfile.type is {seccomp!r}, expected 'RuntimeDefault'"
                        if seccomp else "no seccompProfile (expected type RuntimeDefault)")
    if spec.get("automountServiceAccountToken") is not False:
        problems.append("automountServiceAccountToken is not false: every pod gets a token "
                        "for the API it never calls")
    return problems


def _container_problems(spec: dict) -> list[str]:
    item = _app_container(spec)
    if item is None:
        return [f"no container named {APP!r}"]
    context = item.get("securityContext") or {}
    problems = []
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    dropped = (context.get("capabilities") or {}).get("drop") or []
    if "ALL" not in dropped:
        lower = [d for d in dropped if d.upper() == "ALL"]
        problems.append(f"capabilities.drop is {dropped!r}: {lower[0]!r} in lower case drops "
                        "nothing the restricted level counts, capability names are "
                        "upper case: 'ALL'" if lower else
                        f"capabilities.drop is {listing(dropped)}, expected ['ALL']")
    added = [a for a in (context.get("capabilities") or {}).get("add") or []
             if a != "NET_BIND_SERVICE"]
    if added:
        problems.append(f"capabilities.add gives back {listing(added)}")
    return problems


def _filesystem_problems(spec: dict) -> list[str]:
    item = _app_container(spec)
    if item is None:
        return [f"no container named {APP!r}"]
    problems = []
    if (item.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem is not true")
    volumes = {v.get("name"): v for v in spec.get("volumes") or []}
    mounts = [m for m in item.get("volumeMounts") or [] if m.get("mountPath") == "/tmp"]
    if not mounts:
        problems.append("nothing is mounted at /tmp, where the app writes its temporary files")
    elif "emptyDir" not in volumes.get(mounts[0].get("name"), {}):
        problems.append(f"the volume {mounts[0].get('name')!r} mounted at /tmp is not an "
                        "emptyDir")
    return problems


def _everywhere(state: ClusterState, problems_of) -> None:
    """Fail on what `problems_of` finds in the pod template, then in each running pod."""
    workload = deployment(state)
    container(workload)
    fail_on(problems_of(workload["spec"]["template"]["spec"]),
            f"Deployment {APP}'s pod template")
    for pod in deployment_pods(state, workload):
        problems = problems_of(pod["spec"])
        fail_on(problems, f"pod {pod['metadata']['name']} (running from an older template)")


def pod_settings(state: ClusterState) -> None:
    _everywhere(state, _pod_problems)


def container_settings(state: ClusterState) -> None:
    _everywhere(state, _container_problems)


def filesystem(state: ClusterState) -> None:
    _everywhere(state, _filesystem_problems)


def admitted(state: ClusterState) -> None:
    workload = deployment(state)
    for pod in deployment_pods(state, workload):
        for item in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (item.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") == "CreateContainerConfigError":
                raise Failure(f"pod {pod['metadata']['name']}: the kubelet will not start "
                              f"container {item.get('name')}: {waiting.get('message', '')}")
    check_rolled_out_and_ready(state)


# --- the NetworkPolicies --------------------------------------------------------------------

def _policy(state: ClusterState, name: str) -> dict:
    return require(state, "networkpolicy", name)


def default_deny(state: ClusterState) -> None:
    spec = _policy(state, DENY)["spec"]
    problems = []
    selector = spec.get("podSelector") or {}
    if selector.get("matchLabels") or selector.get("matchExpressions"):
        problems.append(f"its podSelector is {selector_text(selector)}: a default selects every "
                        "pod (podSelector: {})")
    missing = {"Ingress", "Egress"} - policy_types(spec)
    if missing:
        problems.append(f"policyTypes lacks {listing(missing)}: that direction stays open")
    for direction in ("ingress", "egress"):
        if spec.get(direction):
            problems.append(f"it has {direction} rules, which allow what they match: a deny "
                            "has none")
    fail_on(problems, f"NetworkPolicy {DENY}")


def _ports(rule: dict) -> Iterator[tuple[str, object]]:
    for port in rule.get("ports") or []:
        yield port.get("protocol", "TCP"), port.get("port")


def _selects_app(state: ClusterState, selector: dict) -> bool:
    """Whether a policy's podSelector takes in api-server's pods: by their label, or every
    pod of the namespace ({}, which also gives every pod the DNS rule)."""
    labels = deployment(state)["spec"]["template"]["metadata"].get("labels") or {}
    return selector_matches(selector, labels)


def _peer_namespaces(peer: dict) -> str:
    selector = peer.get("namespaceSelector")
    return selector_text(selector) if selector is not None else "this namespace"


def allow_ingress(state: ClusterState) -> None:
    spec = _policy(state, ALLOW)["spec"]
    problems = []
    if not _selects_app(state, spec.get("podSelector") or {}):
        problems.append(f"its podSelector {selector_text(spec.get('podSelector') or {})} does "
                        f"not select the pods of {APP} (expected app: {APP})")
    if "Ingress" not in policy_types(spec):
        problems.append("policyTypes lacks Ingress")
    rules = spec.get("ingress") or []
    if not rules:
        problems.append(f"no ingress rule: nothing may reach {APP}, the controller neither")
    template = deployment(state)["spec"]["template"]["spec"]
    container_ports = [p for c in template.get("containers") or [] for p in c.get("ports") or []]
    wanted = {NAME_LABEL: INGRESS_NAMESPACE}
    for index, rule in enumerate(rules):
        where = f"ingress[{index}]"
        peers = rule.get("from") or []
        if not peers:
            problems.append(f"{where} has no 'from': it lets every pod of every namespace in")
        for peer in peers:
            selector = peer.get("namespaceSelector")
            if peer.get("ipBlock"):
                problems.append(f"{where} allows an ipBlock; expected the controller's "
                                "namespace")
            elif selector is None:
                problems.append(f"{where} allows pods of this namespace, not the controller's "
                                f"namespace {INGRESS_NAMESPACE}")
            elif (selector.get("matchLabels") or {}) != wanted or \
                    selector.get("matchExpressions"):
                problems.append(
                    f"{where} selects namespaces by {selector_text(selector) or 'nothing (all)'}"
                    f", expected {NAME_LABEL}={INGRESS_NAMESPACE}: {NAME_LABEL} is the label "
                    "every namespace carries, set by the API server to its name; any other "
                    "label is only there if someone put it there")
        ports = list(_ports(rule))
        resolved = {(protocol, resolve_port(port, container_ports)) for protocol, port in ports}
        if resolved != {("TCP", APP_PORT)}:
            shown = listing(f"{p} {n}" for p, n in ports) if ports else "every port"
            problems.append(f"{where} opens {shown}, expected TCP {APP_PORT} only")
    fail_on(problems, f"NetworkPolicy {ALLOW}")


def allow_dns(state: ClusterState) -> None:
    spec = _policy(state, ALLOW)["spec"]
    if not _selects_app(state, spec.get("podSelector") or {}):
        raise Failure(f"NetworkPolicy {ALLOW}: its podSelector "
                      f"{selector_text(spec.get('podSelector') or {})} does not select the pods "
                      f"of {APP}, so its DNS rule is not theirs")
    if "Egress" not in policy_types(spec):
        raise Failure(f"NetworkPolicy {ALLOW}: policyTypes lacks Egress, so it allows no DNS; "
                      f"under {DENY} the app cannot resolve a name")
    rules = spec.get("egress") or []
    dns = {(protocol, port) for rule in rules for protocol, port in _ports(rule)
           if port == DNS_PORT}
    problems = []
    if not rules:
        problems.append(f"no egress rule: under {DENY} the app cannot resolve a name (DNS is "
                        f"UDP and TCP {DNS_PORT} to {DNS_NAMESPACE})")
    else:
        missing = {("UDP", DNS_PORT), ("TCP", DNS_PORT)} - dns
        if missing:
            problems.append(f"egress lacks {listing(f'{p} {n}' for p, n in missing)}: DNS "
                            "answers on UDP, and on TCP for long answers")
        for index, rule in enumerate(rules):
            if not any(port == DNS_PORT for _, port in _ports(rule)):
                continue
            peers = rule.get("to") or []
            wanted = {NAME_LABEL: DNS_NAMESPACE}
            if peers and not any((p.get("namespaceSelector") or {}).get("matchLabels") == wanted
                                 for p in peers):
                problems.append(f"egress[{index}] goes to "
                                f"{listing(_peer_namespaces(p) for p in peers)}, expected "
                                f"namespace {DNS_NAMESPACE} ({NAME_LABEL}={DNS_NAMESPACE}), "
                                "where the cluster's DNS runs")
    fail_on(problems, f"NetworkPolicy {ALLOW}")


CRITERIA = (
    Criterion("security-namespace", "The namespace enforces Pod Security restricted", 1,
              f"kubectl label namespace NS {ENFORCE}={LEVEL} --overwrite; see {LESSON}, "
              "'Pod Security admission'", namespace_level),
    Criterion("security-pod", "api-server's pods run as a non-root user with seccomp "
              "RuntimeDefault and no ServiceAccount token", 2,
              "spec.template.spec: securityContext {runAsNonRoot: true, runAsUser: 10001, "
              "seccompProfile: {type: RuntimeDefault}}, automountServiceAccountToken: false; "
              f"see {LESSON}, 'Who the process is'", pod_settings),
    Criterion("security-container", "Container api-server cannot escalate and drops every "
              "capability", 2, "securityContext {allowPrivilegeEscalation: false, "
              f"capabilities: {{drop: [ALL]}}}}; see {LESSON}, 'What the process may do'",
              container_settings),
    Criterion("security-filesystem", "The root filesystem is read-only, with an emptyDir at "
              "/tmp", 2, "securityContext.readOnlyRootFilesystem: true, a volume {name: tmp, "
              "emptyDir: {}} mounted at /tmp; see "
              f"{LESSON}, 'A read-only filesystem'", filesystem),
    Criterion("security-admitted", "api-server is rolled out under these settings (admitted "
              "and started)", 1, f"`kubectl get events -n NS --field-selector "
              f"reason=FailedCreate` shows what admission refused; `kubectl describe pod` why "
              f"a container does not start; see {LESSON}, 'Pod Security admission'", admitted),
    Criterion("security-default-deny", "NetworkPolicy default-deny selects every pod and "
              "denies all ingress and egress", 2,
              "podSelector: {}, policyTypes: [Ingress, Egress], no rules; see "
              f"{LESSON}, 'Fenced in: NetworkPolicy'", default_deny),
    Criterion("security-allow-ingress", "NetworkPolicy allow-api lets only the Ingress "
              "controller's namespace reach api-server on TCP 8080", 2,
              f"podSelector app: {APP}; ingress from namespaceSelector {{matchLabels: "
              f"{{{NAME_LABEL}: {INGRESS_NAMESPACE}}}}}, ports TCP 8080; see {LESSON}, "
              "'Fenced in: NetworkPolicy'", allow_ingress),
    Criterion("security-allow-dns", "NetworkPolicy allow-api lets the pods reach DNS in "
              "kube-system (UDP and TCP 53)", 2,
              f"egress to namespaceSelector {{matchLabels: {{{NAME_LABEL}: {DNS_NAMESPACE}}}}}"
              f", ports UDP 53 and TCP 53: without it the app cannot resolve names; see "
              f"{LESSON}, 'Fenced in: NetworkPolicy'", allow_dns),
)
