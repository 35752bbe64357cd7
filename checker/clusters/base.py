"""What every backend shares: a kubectl bound to one context, and the cluster status value."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ClusterUnreachable, StartFailed
from ..kube.kinds import plurals
from . import _proc
from .binaries import cached_path
from .versions import load

Progress = Callable[[str], None]

SYSTEM_NAMESPACES = frozenset({
    "default", "kube-system", "kube-public", "kube-node-lease",
    "traefik", "local-path-storage",
})
COURSE_LABEL = "app.kubernetes.io/part-of=real-world-kubernetes"

APPLY_TRIES = 3
"""How often `Kubectl.apply` sends a manifest the API server has not answered in time. In a
cold CI run (2026-12-08, two cores shared by six sandboxes, a kind cluster and a Go build),
one sandbox's API server took more than 120 s for the Gateway API's CRDs, which take 1 s
on an idle machine."""


def kubectl_binary() -> str:
    """kubectl from PATH, else the sandbox's own build from the cache."""
    found = shutil.which("kubectl")
    if found:
        return found
    cached = cached_path("kubectl", load().kubernetes)
    return str(cached) if cached.is_file() else "kubectl"


@dataclass(frozen=True)
class Kubectl:
    """kubectl pinned to one kubeconfig and context."""

    context: str
    kubeconfig: Path | None = None
    binary: str = field(default_factory=kubectl_binary)
    runner: _proc.Runner = _proc.run
    env: Mapping[str, str] | None = None
    """The environment kubectl runs in; None: this process's."""

    def __call__(self, *args: str, input: str | None = None, timeout: float = 60) -> _proc.Result:
        cmd = [self.binary, "--context", self.context]
        if self.kubeconfig:
            cmd += ["--kubeconfig", str(self.kubeconfig)]
        return self.runner([*cmd, *args], env=self.env, input=input, timeout=timeout)

    def json(self, *args: str) -> dict:
        """Run a read and parse its JSON; raise ClusterUnreachable when the server is away."""
        result = self(*args, "-o", "json")
        if not result.ok:
            raise ClusterUnreachable(
                f"kubectl could not read from context {self.context!r}: "
                f"{result.output.splitlines()[-1] if result.output else 'no output'}")
        return json.loads(result.stdout)

    def apply(self, manifest: str, what: str, server_side: bool = False,
              timeout: float = 60, tries: int = APPLY_TRIES) -> None:
        """kubectl apply a manifest from a string; StartFailed names `what` on error.
        `server_side` for objects too large for client-side apply's annotation (CRDs).
        An apply not done within `timeout` seconds is sent again, up to `tries` times in
        all (applying is idempotent): an API server on a busy machine can be that slow."""
        how = ["--server-side", "--force-conflicts", "--field-manager=rwk"] if server_side else []
        for _ in range(tries):
            result = self("apply", *how, "-f", "-", input=manifest, timeout=timeout)
            if result.code != _proc.TIMED_OUT:
                break
        if not result.ok:
            late = f" ({tries} tries of {timeout:g} s)" if result.code == _proc.TIMED_OUT else ""
            raise StartFailed(f"could not apply {what}{late}: {result.output}")

    def reachable(self) -> bool:
        return self("get", "--raw", "/readyz", timeout=10).ok

    def wait_nodes_ready(self, count: int, timeout: float, say: Progress) -> None:
        """Poll until at least `count` nodes report Ready."""
        deadline = time.monotonic() + timeout
        ready: list[str] = []
        while time.monotonic() < deadline:
            result = self("get", "nodes", "-o", "json", timeout=10)
            if result.ok:
                ready = [n.name for n in nodes_of(json.loads(result.stdout)) if n.ready]
                if len(ready) >= count:
                    return
            time.sleep(0.2)
        raise StartFailed(f"only {len(ready)} of {count} nodes became Ready within {timeout:.0f}s "
                          f"(ready: {', '.join(ready) or 'none'}); see `kubectl describe nodes`")


GATEWAY_CLASS = "rwk"
"""The GatewayClass the course's Gateways name, on every backend (EXERCISES.md `gateway`)."""


def gateway_class(controller: str) -> str:
    """The course's GatewayClass, handled by `controller` (the backend's controllerName)."""
    return json.dumps({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
        "metadata": {"name": GATEWAY_CLASS,
                     "labels": dict([COURSE_LABEL.split("=")])},
        "spec": {"controllerName": controller,
                 "description": "Real-World Kubernetes: the Gateways of lesson 12"}})


def install_gateway_api(kubectl: Kubectl, crds: str, controller: str, say: Progress,
                        timeout: float = 120) -> None:
    """The Gateway API's CRDs (`crds`: a manifest, or an address kubectl reads), then, once
    the API server serves them, the course's GatewayClass."""
    say("installing the Gateway API's CRDs and the GatewayClass rwk")
    if crds.startswith("https://"):
        result = kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=rwk",
                         "-f", crds, timeout=timeout)
        if not result.ok:
            raise StartFailed(f"could not apply the Gateway API's CRDs: {result.output}")
    else:
        kubectl.apply(crds, "the Gateway API's CRDs", server_side=True, timeout=timeout)
    established = kubectl("wait", "--for=condition=Established", f"--timeout={timeout:.0f}s",
                          "crd/gatewayclasses.gateway.networking.k8s.io",
                          "crd/gateways.gateway.networking.k8s.io",
                          "crd/httproutes.gateway.networking.k8s.io", timeout=timeout + 10)
    if not established.ok:
        raise StartFailed(f"the Gateway API's CRDs were not served: {established.output}")
    kubectl.apply(gateway_class(controller), "the GatewayClass rwk")


def gateway_api_status(kubectl: Kubectl) -> Component:
    """The course's GatewayClass, as its controller (the sandbox, on the sandbox) last
    described it: accepted, or why not."""
    found = kubectl("get", "gatewayclass", GATEWAY_CLASS, "-o", "json", timeout=10)
    try:
        item = json.loads(found.stdout) if found.ok else None
    except ValueError:
        item = None
    if not isinstance(item, dict) or "spec" not in item:
        return Component("Gateway API", False, f"no GatewayClass {GATEWAY_CLASS}; run `rwk up`")
    controller = item["spec"].get("controllerName", "?")
    accepted = next((c for c in (item.get("status") or {}).get("conditions") or []
                     if c.get("type") == "Accepted"), None)
    if accepted and accepted.get("status") == "True":
        return Component("Gateway API", True,
                         f"GatewayClass {GATEWAY_CLASS} accepted by {controller}")
    why = f"{accepted.get('reason')}: {accepted.get('message')}" if accepted else "no status yet"
    return Component("Gateway API", False,
                     f"GatewayClass {GATEWAY_CLASS} not accepted by {controller} ({why})")


@dataclass(frozen=True)
class NodeState:
    name: str
    ready: bool
    roles: str


def nodes_of(node_list: dict) -> list[NodeState]:
    """NodeState for each node of a `kubectl get nodes -o json` answer."""
    out = []
    for item in node_list.get("items", []):
        conditions = item.get("status", {}).get("conditions") or []
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        roles = ",".join(sorted(k.split("/", 1)[1] for k in item["metadata"].get("labels", {})
                                if k.startswith("node-role.kubernetes.io/"))) or "<none>"
        out.append(NodeState(item["metadata"]["name"], ready, roles))
    return out


@dataclass(frozen=True)
class Component:
    name: str
    healthy: bool
    detail: str = ""


@dataclass(frozen=True)
class ClusterStatus:
    """What `rwk status` reports."""

    backend: str
    context: str
    reachable: bool
    server_version: str = ""
    nodes: tuple[NodeState, ...] = ()
    components: tuple[Component, ...] = ()
    note: str = ""

    @property
    def healthy(self) -> bool:
        return (self.reachable and any(n.ready for n in self.nodes)
                and all(c.healthy for c in self.components))

    def render(self) -> str:
        lines = [f"backend:  {self.backend}", f"context:  {self.context}"]
        if not self.reachable:
            lines.append("server:   not reachable" + (f" ({self.note})" if self.note else ""))
            return "\n".join(lines)
        lines.append(f"server:   Kubernetes {self.server_version}")
        ready = sum(n.ready for n in self.nodes)
        lines.append(f"nodes:    {ready}/{len(self.nodes)} Ready")
        lines += [f"  {'Ready   ' if n.ready else 'NotReady'}  {n.name}  ({n.roles})"
                  for n in self.nodes]
        if self.components:
            lines.append("components:")
            lines += [f"  {'ok  ' if c.healthy else 'FAIL'}  {c.name}"
                      + (f"  ({c.detail})" if c.detail else "") for c in self.components]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)


def read_status(backend: str, kubectl: Kubectl,
                extra: tuple[Component, ...] = ()) -> ClusterStatus:
    """Status every backend can read through kubectl: version, nodes, API and metrics."""
    if not kubectl.reachable():
        return ClusterStatus(backend, kubectl.context, False,
                             note="run `rwk up` to start it" if backend != "existing" else
                             "check your kubeconfig and network")
    version = kubectl("version", "-o", "json", timeout=10)
    server = json.loads(version.stdout).get("serverVersion", {}).get("gitVersion", "?") \
        if version.ok else "?"
    nodes = tuple(nodes_of(kubectl.json("get", "nodes")))
    metrics = kubectl("get", "apiservice", "v1beta1.metrics.k8s.io", "-o",
                      "jsonpath={.status.conditions[?(@.type=='Available')].status}", timeout=10)
    components = (Component("kube-apiserver", True, "readyz ok"),
                  Component("metrics API", metrics.ok and metrics.stdout.strip() == "True",
                            "v1beta1.metrics.k8s.io " + ("available" if metrics.ok and
                            metrics.stdout.strip() == "True" else "not available yet")),
                  *extra)
    return ClusterStatus(backend, kubectl.context, True, server, nodes, components)


def reset_namespaces(kubectl: Kubectl, owned_cluster: bool, say: Progress) -> list[str]:
    """Delete the course's namespaces; on a cluster the course owns, every non-system one."""
    if owned_cluster:
        listing = kubectl.json("get", "namespaces")
        names = [i["metadata"]["name"] for i in listing["items"]
                 if i["metadata"]["name"] not in SYSTEM_NAMESPACES]
    else:
        listing = kubectl.json("get", "namespaces", "-l", COURSE_LABEL)
        names = [i["metadata"]["name"] for i in listing["items"]]
    for name in names:
        say(f"deleting namespace {name}")
    if names:
        result = kubectl("delete", "namespace", "--wait=true", *names, timeout=180)
        if not result.ok:
            raise StartFailed(f"could not delete namespaces {', '.join(names)}: {result.output}")
    return names


WORK_KINDS = plurals("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Service",
                     "ConfigMap", "Secret", "PersistentVolumeClaim", "Ingress",
                     "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceAccount", "Role",
                     "RoleBinding", "ResourceQuota", "LimitRange")
"""What a learner makes in a namespace, as `rwk down` counts it before it deletes."""
_AUTOMATIC = {("ConfigMap", "kube-root-ca.crt"), ("ServiceAccount", "default")}


def work_summary(namespaces: list[str], objects: list[dict]) -> list[str]:
    """One line per namespace, counting what a learner made there (automatic objects, such
    as every namespace's kube-root-ca.crt and default ServiceAccount, left out)."""
    counts: dict[str, dict[str, int]] = {name: {} for name in namespaces}
    for item in objects:
        meta = item.get("metadata") or {}
        where = counts.get(meta.get("namespace", ""))
        if where is None or (item.get("kind"), meta.get("name")) in _AUTOMATIC:
            continue
        where[item["kind"]] = where.get(item["kind"], 0) + 1
    return [f"namespace {name}: " + (", ".join(f"{n} {kind}{'s' * (n != 1)}"
                                                for kind, n in sorted(found.items()))
                                     or "empty")
            for name, found in sorted(counts.items())]


def course_work(kubectl: Kubectl) -> list[str]:
    """What deleting this course-owned cluster would lose: its non-system namespaces and
    what they hold, one line each (two reads)."""
    listing = kubectl.json("get", "namespaces")
    names = [i["metadata"]["name"] for i in listing["items"]
             if i["metadata"]["name"] not in SYSTEM_NAMESPACES]
    if not names:
        return []
    objects = kubectl.json("get", ",".join(WORK_KINDS), "--all-namespaces")
    return work_summary(names, objects.get("items", []))
