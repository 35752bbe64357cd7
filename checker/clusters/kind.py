"""The kind backend, for learners with Docker: a real cluster with real containers.

One config: a control-plane node labelled ingress-ready with host ports 80 and 443 mapped,
and two workers. On top: ingress-nginx (kind provider manifest, its controller pinned to the
mapped node, its rollout and admission webhook waited for) and metrics-server with
--kubelet-insecure-tls (kind's kubelets serve self-signed certificates). kind's own default
StorageClass is already named `standard`.

Also here, because only ingress-nginx's admission webhook enforces it: the rule by which that
webhook refuses a second Ingress for a host and path another Ingress already routes
(`admission_overlap`), and the check the lessons and exercises run before they create one.

Where no container registry answers (these project's machines, CI), kindest/node and the
add-ons' images cannot be pulled: the node image and every image the cluster runs are built
here instead (`rwk node-image`, nodeimage.py), the lessons' stand-in images are loaded with
`kind load`, and no Ingress controller is installed yet (ingress-nginx's image cannot be
built here; `rwk status` says so). RWK_KIND_IMAGES=upstream|local forces either way.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import BackendError, DockerUnavailable, PortInUse, StartFailed, UsageError
from . import _proc
from .base import (ClusterStatus, Component, Kubectl, Progress, course_work, read_status,
                   reset_namespaces)
from .binaries import cached_path
from .versions import Versions, load

INGRESS_MANIFEST = ("https://raw.githubusercontent.com/kubernetes/ingress-nginx/"
                    "controller-v{version}/deploy/static/provider/kind/deploy.yaml")
METRICS_MANIFEST = ("https://github.com/kubernetes-sigs/metrics-server/releases/download/"
                    "v{version}/components.yaml")
INSECURE_TLS_PATCH = ('[{"op":"add","path":"/spec/template/spec/containers/0/args/-",'
                      '"value":"--kubelet-insecure-tls"}]')
KIND_RELEASE = "https://github.com/kubernetes-sigs/kind/releases/tag/v{version}"
KIND_INSTALL = "https://kind.sigs.k8s.io/docs/user/quick-start/#installing-from-release-binaries"

INGRESS_NAMESPACE = "ingress-nginx"
CONTROLLER = "ingress-nginx-controller"
CONTROLLER_SELECTOR = "app.kubernetes.io/component=controller"
WEBHOOK_CONFIGURATION = "ingress-nginx-admission"
WEBHOOK_NAME = "validate.nginx.ingress.kubernetes.io"
MAPPED_NODE_LABEL = ("ingress-ready", "true")
CONTROL_PLANE_TAINT = "node-role.kubernetes.io/control-plane"

# Since controller-v1.13.0 ("Deploy: Use LoadBalancer for KIND", kubernetes/ingress-nginx
# #12232) the kind manifest neither selects the ingress-ready node nor tolerates the
# control-plane taint, which kind keeps whenever a cluster has workers. Its controller then
# always lands on a worker, whose ports 80/443 nothing maps to the host. The course's config
# maps them on the control-plane node, so the controller is pinned there, and the hostPorts
# it must listen on are stated too, in case a later manifest drops them. A strategic merge
# patch: nodeSelector merges into the manifest's kubernetes.io/os; tolerations (no merge
# key) is replaced; containers merge by name and ports by containerPort.
CONTROLLER_PATCH = {"spec": {"template": {"spec": {
    "nodeSelector": {MAPPED_NODE_LABEL[0]: MAPPED_NODE_LABEL[1]},
    "tolerations": [{"key": CONTROL_PLANE_TAINT, "operator": "Exists", "effect": "NoSchedule"}],
    "containers": [{"name": "controller", "ports": [
        {"containerPort": 80, "hostPort": 80, "protocol": "TCP"},
        {"containerPort": 443, "hostPort": 443, "protocol": "TCP"},
    ]}],
}}}}

# How long `rwk up` may take on kind, in all, and each step at most. The first run pulls the
# node image (about 1 GB) and the add-ons' images; later runs take seconds. Lesson 00 quotes
# UP_BUDGET as the bound of its `rwk up` cell.
UP_BUDGET = 900.0
CREATE_TIMEOUT = 600.0
APPLY_TIMEOUT = 120.0
ROLLOUT_TIMEOUT = 300.0
WEBHOOK_TIMEOUT = 120.0
START_TIMEOUT = 120.0


IMAGE_SOURCES = ("auto", "upstream", "local")
REGISTRIES = ("https://registry-1.docker.io/v2/", "https://registry.k8s.io/v2/")

# kubelet 1.36 refuses to start on cgroup v1 unless told otherwise; some Docker hosts (these
# machines among them) still mount v1. On cgroup v2 the setting changes nothing.
KUBELET_CGROUP_V1_PATCH = """\
kind: KubeletConfiguration
apiVersion: kubelet.config.k8s.io/v1beta1
failCgroupV1: false
"""


def registry_answers(timeout: float = 5) -> bool:
    """True when a container registry answers at all (any HTTP status counts)."""
    import urllib.error
    import urllib.request
    for url in REGISTRIES:
        try:
            urllib.request.urlopen(url, timeout=timeout).close()
            return True
        except urllib.error.HTTPError:
            return True
        except (OSError, ValueError):
            continue
    return False


def image_source(env: str | None = None, answers: Callable[[], bool] = registry_answers) -> str:
    """"upstream" (pull kindest/node and the official images) or "local" (build them here):
    RWK_KIND_IMAGES when set, else upstream exactly where a registry answers."""
    wanted = (env if env is not None else os.environ.get("RWK_KIND_IMAGES", "")) or "auto"
    if wanted not in IMAGE_SOURCES:
        raise UsageError(f"RWK_KIND_IMAGES={wanted!r} is not one of {', '.join(IMAGE_SOURCES)}")
    if wanted != "auto":
        return wanted
    return "upstream" if answers() else "local"


def kind_binary(v: Versions | None = None) -> str:
    """kind from PATH, else the one `rwk node-image` builds into the cache."""
    found = shutil.which("kind")
    if found:
        return found
    cached = cached_path("kind", (v or load()).kind)
    return str(cached) if cached.is_file() else "kind"


def kind_config(name: str) -> dict:
    """The one kind cluster config the course uses."""
    return {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": name,
        "nodes": [
            {
                "role": "control-plane",
                # The controller is pinned to this label (CONTROLLER_PATCH): host ports 80
                # and 443 reach this node only.
                "labels": {MAPPED_NODE_LABEL[0]: MAPPED_NODE_LABEL[1]},
                "extraPortMappings": [
                    {"containerPort": 80, "hostPort": 80, "protocol": "TCP"},
                    {"containerPort": 443, "hostPort": 443, "protocol": "TCP"},
                ],
            },
            {"role": "worker"},
            {"role": "worker"},
        ],
        "kubeadmConfigPatches": [KUBELET_CGROUP_V1_PATCH],
    }


def ingress_class() -> str:
    """The IngressClass `nginx` that the course's Ingresses name, as the sandbox has it: where
    no controller runs, Ingresses are still accepted and graded as they would be with one."""
    docs = yaml.safe_load_all((Path(__file__).with_name("sandbox_cluster.yaml")).read_text())
    return yaml.safe_dump(next(d for d in docs if d and d["kind"] == "IngressClass"))


def _metrics_overlay(v: Versions, folder: Path) -> Path:
    """A kustomization over metrics-server's own manifests (its Go module's, in the cache)
    that names the image as its releases do, the name the image built here carries."""
    from .binaries import metrics_manifest_dir
    from .nodeimage import metrics_server_image
    name, tag = metrics_server_image(v).rsplit(":", 1)
    (folder / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        # kustomize takes no absolute path to a base; a relative one may lead anywhere.
        "resources": [os.path.relpath(metrics_manifest_dir(v), folder)],
        "images": [{"name": "gcr.io/k8s-staging-metrics-server/metrics-server",
                    "newName": name, "newTag": tag}]}))
    return folder


# --- the kind command's version ---------------------------------------------------------------

def _release(text: str) -> tuple[int, ...] | None:
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(p) for p in match.groups()) if match else None


def kind_version_verdict(output: str, pinned: str) -> tuple[str, str]:
    """("ok" | "warn" | "refuse", message) for what `kind version` printed, against the pin.

    Each kind release names the node images built for it, and images are not guaranteed to
    work with other releases. An older kind than the pinned one may not start the pinned
    image at all: refuse. A newer one usually does: warn.
    """
    found = _release(output)
    want = _release(pinned)
    install = (f"install kind v{pinned}: {KIND_RELEASE.format(version=pinned)} "
               f"({KIND_INSTALL})")
    if found is None or want is None:
        return "refuse", (f"could not read a version from `kind version` ({output.strip()!r}); "
                          f"the course pins kind v{pinned}: {install}")
    shown = ".".join(map(str, found))
    if found == want:
        return "ok", f"kind v{shown}, as pinned"
    if found < want:
        return "refuse", (f"kind v{shown} is older than the pinned v{pinned}, whose node image "
                          f"the course uses and which an older kind may not start; {install}")
    return "warn", (f"kind v{shown} is newer than the pinned v{pinned}; the pinned node image "
                    f"usually works with it but is not guaranteed to. If creating the cluster "
                    f"fails, {install}")


# --- where the controller runs -----------------------------------------------------------------

def controller_placement(pods: dict, mapped_nodes: Iterable[str]) -> Component:
    """A status line saying on which node the ingress controller runs, and whether that is
    the node whose ports 80/443 the host maps."""
    mapped = sorted(mapped_nodes)
    items = [p for p in pods.get("items", []) if not p["metadata"].get("deletionTimestamp")]
    if not items:
        return Component("ingress controller", False,
                         f"no controller pod in namespace {INGRESS_NAMESPACE}; run `rwk up`")
    parts, healthy = [], True
    for pod in items:
        node = (pod.get("spec") or {}).get("nodeName") or ""
        ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (pod.get("status") or {}).get("conditions") or [])
        if not node:
            parts.append(f"{pod['metadata']['name']} not scheduled yet")
            healthy = False
        elif node in mapped:
            parts.append(f"on {node}, the node with host ports 80/443"
                         + ("" if ready else ", not ready yet"))
            healthy = healthy and ready
        else:
            parts.append(f"on {node}, NOT the node with host ports 80/443 "
                         f"({', '.join(mapped) or 'none labelled ingress-ready=true'}): "
                         "requests to 127.0.0.1 are refused; run `rwk up` again")
            healthy = False
    return Component("ingress controller", healthy, "; ".join(parts))


# --- ingress-nginx's admission rule for overlapping Ingresses ---------------------------------

@dataclass(frozen=True)
class Overlap:
    """A host and path of a new Ingress that an existing Ingress already routes."""

    host: str
    path: str
    namespace: str
    """Namespace of the Ingress that holds the host and path."""
    name: str

    @property
    def holder(self) -> str:
        return f"{self.namespace}/{self.name}"

    def refusal(self) -> str:
        """The words ingress-nginx's webhook refuses with."""
        return (f'host "{self.host}" and path "{self.path}" is already defined in ingress '
                f"{self.holder}")


def _served_by_nginx(ingress: dict, ingress_class: str = "nginx") -> bool:
    """Whether the kind manifest's controller (class nginx, watching Ingresses without a
    class too) takes this Ingress; it neither checks nor counts the others."""
    spec_class = (ingress.get("spec") or {}).get("ingressClassName")
    annotated = ((ingress.get("metadata") or {}).get("annotations") or {}).get(
        "kubernetes.io/ingress.class")
    if spec_class or annotated:
        return (spec_class or annotated) == ingress_class
    return True


def _is_canary(ingress: dict) -> bool | None:
    """The canary annotation: True/False when set, None when absent."""
    value = ((ingress.get("metadata") or {}).get("annotations") or {}).get(
        "nginx.ingress.kubernetes.io/canary")
    return None if value is None else value.strip().lower() == "true"


def _locations(ingress: dict) -> list[tuple[str, str, str]]:
    """(host, path, pathType) for each service path, as the controller names its locations."""
    found = []
    for rule in (ingress.get("spec") or {}).get("rules") or []:
        if not rule.get("http"):
            continue
        host = rule.get("host") or "_"
        for entry in rule["http"].get("paths") or []:
            if not (entry.get("backend") or {}).get("service"):
                continue
            found.append((host, entry.get("path") or "/", entry.get("pathType") or "Prefix"))
    return found


def _key(ingress: dict) -> tuple[str, str]:
    meta = ingress.get("metadata") or {}
    return meta.get("namespace", ""), meta.get("name", "")


def holders(candidate: dict, existing: Iterable[dict]) -> list[Overlap]:
    """Every (host, path) of `candidate` that another Ingress of the controller also routes."""
    others = [i for i in existing if _served_by_nginx(i) and _key(i) != _key(candidate)
              and not (i.get("metadata") or {}).get("deletionTimestamp")]
    wanted = {(h, p) for h, p, _ in _locations(candidate)}
    found = []
    for other in sorted(others, key=lambda i: (i["metadata"].get("creationTimestamp") or "",
                                               _key(i))):
        for host, path, _ in _locations(other):
            overlap = Overlap(host, path, *_key(other))
            if (host, path) in wanted and overlap not in found:
                found.append(overlap)
    return found


def admission_overlap(candidate: dict, existing: Iterable[dict]) -> Overlap | None:
    """What ingress-nginx's admission webhook says about creating or updating `candidate`
    while `existing` Ingresses are in the cluster: the Overlap it refuses, or None.

    The rule as upstream's checkOverlap applies it (internal/ingress/controller/controller.go):
    the webhook ignores Ingresses of other classes; the controller builds one location per
    host, path and pathType, owned by the oldest Ingress that defines it, the candidate
    counting as the newest; then, for the candidate's paths in order, the first path whose
    holders include the candidate itself ends the check with no refusal, and the first path
    held by another Ingress is refused unless exactly one of the two is a canary. Namespaces
    play no part: a host is one server for the whole controller.
    """
    if not _served_by_nginx(candidate):
        return None
    mine = _key(candidate)
    others = sorted((i for i in existing if _served_by_nginx(i) and _key(i) != mine
                     and not (i.get("metadata") or {}).get("deletionTimestamp")),
                    key=lambda i: (i["metadata"].get("creationTimestamp") or "", _key(i)))
    owner: dict[tuple[str, str, str], dict] = {}
    for ingress in [*others, candidate]:
        for location in _locations(ingress):
            owner.setdefault(location, ingress)
    canary = _is_canary(candidate)
    for host, path, _ in _locations(candidate):
        holding = [owner[loc] for loc in owner if loc[:2] == (host, path)]
        if any(_key(h) == mine for h in holding):
            return None
        for holder in holding:
            theirs = _is_canary(holder)
            if (canary and theirs) or (canary is None and theirs is None):
                return Overlap(host, path, *_key(holder))
        return None
    return None


def ingress_for(namespace: str, name: str, routes: Iterable[tuple[str, str]]) -> dict:
    """A minimal Ingress of class nginx routing each (host, path) to a Service: what the
    admission rule reads of the Ingress a lesson is about to apply."""
    rules = [{"host": host, "http": {"paths": [{
        "path": path, "pathType": "Prefix",
        "backend": {"service": {"name": "any", "port": {"number": 80}}}}]}}
        for host, path in routes]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"namespace": namespace, "name": name},
            "spec": {"ingressClassName": "nginx", "rules": rules}}


def webhook_active(configurations: dict) -> bool:
    """Whether ingress-nginx's validating webhook checks Ingresses in this cluster."""
    for configuration in configurations.get("items", []):
        for webhook in configuration.get("webhooks") or []:
            if webhook.get("name") == WEBHOOK_NAME:
                return True
    return False


class IngressPathTaken(RuntimeError):
    """The Ingress a notebook is about to apply would be refused: another one holds its hosts."""


def stop_message(candidate: dict, taken: list[Overlap], refusal: Overlap) -> str:
    """What a notebook says when it stops: the webhook's words, and what to delete."""
    namespace, name = _key(candidate)
    listed = "\n".join(f"  {o.host}{o.path}  is routed by Ingress {o.holder}" for o in taken)
    deletes = "\n".join(sorted({f"  kubectl delete ingress {o.name} -n {o.namespace}"
                                for o in taken}))
    return (f"Ingress {namespace}/{name} cannot be created here: this cluster's ingress-nginx "
            f"admission webhook would refuse it with\n  {refusal.refusal()}\n"
            f"One host and path belongs to one Ingress in the whole cluster, whatever the "
            f"namespace:\n{listed}\n"
            f"To go on, delete what holds them (the exercise notebooks re-create theirs when "
            f"you run them again):\n{deletes}\nor run this notebook on the sandbox.")


def check_ingress_paths(namespace: str, name: str, routes: Iterable[tuple[str, str]], *,
                        kubectl: str | None = None, say: Progress = print) -> None:
    """Before a notebook applies Ingress `name`: stop, naming the Ingress to delete, if
    ingress-nginx's webhook here would refuse it; else say what the rule found.

    Reads every namespace's Ingresses; where the credentials may not, says so and returns,
    since the apply itself will then show any refusal.
    """
    from .base import kubectl_binary

    candidate = ingress_for(namespace, name, routes)

    def read(*args: str) -> dict | None:
        done = subprocess.run([kubectl or kubectl_binary(), *args, "-o", "json"],
                              capture_output=True, text=True, timeout=30)
        return json.loads(done.stdout) if done.returncode == 0 else None

    ingresses = read("get", "ingresses", "--all-namespaces")
    if ingresses is None:
        say("could not list the Ingresses of other namespaces (no right to); if the apply below "
            "is refused with 'is already defined in ingress', that Ingress holds the host")
        return
    configurations = read("get", "validatingwebhookconfigurations")
    refusal = admission_overlap(candidate, ingresses.get("items", []))
    taken = holders(candidate, ingresses.get("items", []))
    if refusal is None:
        say(f"no other Ingress routes {', '.join(h + p for h, p in _routes(candidate))}")
        return
    if configurations is None:
        say(f"{refusal.holder} already routes {refusal.host}{refusal.path}; if this cluster "
            f"runs ingress-nginx's admission webhook (no right here to see), it refuses the "
            f"apply below with: {refusal.refusal()}")
        return
    if webhook_active(configurations):
        raise IngressPathTaken(stop_message(candidate, taken, refusal))
    say(f"{refusal.holder} already routes {refusal.host}{refusal.path}. No ingress-nginx "
        "webhook checks Ingresses on this cluster, so the apply goes through; on kind the "
        f"webhook would refuse it: {refusal.refusal()}")


def _routes(ingress: dict) -> list[tuple[str, str]]:
    return [(h, p) for h, p, _ in _locations(ingress)]


# --- the backend -----------------------------------------------------------------------------

class _Deadline:
    """The time left of `rwk up`'s budget, handed out step by step."""

    def __init__(self, budget: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._end = clock() + budget
        self.budget = budget

    def left(self, cap: float, step: str) -> float:
        remaining = self._end - self._clock()
        if remaining <= 1:
            raise StartFailed(f"`rwk up` ran out of its {self.budget:.0f} s before it could "
                              f"{step}; run `rwk up` again: it resumes where it stopped")
        return min(cap, remaining)


@dataclass
class Kind:
    """A kind cluster named `name`, driven through the kind, docker and kubectl commands."""

    name: str = field(default_factory=lambda: os.environ.get("RWK_KIND_NAME", "rwk"))
    """$RWK_KIND_NAME, else rwk."""
    runner: _proc.Runner = _proc.run
    kubeconfig: Path | None = None
    backend_name: str = "kind"
    images: str = ""
    """"upstream" or "local" (IMAGE_SOURCES); empty: image_source() decides at `up`."""
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    @property
    def context(self) -> str:
        return f"kind-{self.name}"

    @property
    def kind(self) -> str:
        """The kind command: from PATH, else the cache (a recording runner sees "kind")."""
        return kind_binary() if self.runner is _proc.run else "kind"

    def _no_kind(self) -> bool:
        return self.runner is _proc.run and self.kind == "kind" and not shutil.which("kind")

    def kubectl(self) -> Kubectl:
        return Kubectl(self.context, self.kubeconfig, runner=self.runner)

    def available(self) -> str:
        """Empty when kind can run here; else what is missing."""
        if self._no_kind():
            return (f"the kind command is not installed ({KIND_INSTALL}; or `rwk node-image` "
                    "builds it from its Go module)")
        if not shutil.which("kubectl") and self.runner is _proc.run:
            return "kubectl is not installed (https://kubernetes.io/docs/tasks/tools/)"
        if not self.runner(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=20).ok:
            return "no Docker daemon answers (`docker info` fails); start Docker Desktop or dockerd"
        return ""

    def _exists_quietly(self) -> bool:
        """exists(), and False where kind cannot run at all yet (the build brings it)."""
        return not self._no_kind() and self.exists()

    def exists(self) -> bool:
        result = self.runner([self.kind, "get", "clusters"], timeout=30)
        return result.ok and self.name in result.stdout.split()

    def _images(self) -> str:
        if self.images:
            return self.images
        return image_source() if self.runner is _proc.run else "upstream"

    def up(self, say: Progress) -> None:
        v = load()
        source = self._images()
        node_image = v.kind_node_image
        if source == "local" and self.runner is _proc.run and not self._exists_quietly():
            if not self.runner(["docker", "info", "--format", "{{.ServerVersion}}"],
                               timeout=20).ok:
                raise DockerUnavailable("the kind backend needs a Docker daemon, and none "
                                        "answers (`docker info` fails); without Docker, use "
                                        "`rwk up --backend sandbox`.")
            from . import nodeimage
            say("no container registry answers here (RWK_KIND_IMAGES=upstream forces a pull): "
                "the node image and the cluster's images are built on this machine")
            node_image = nodeimage.build(say, v)
        missing = self.available()
        if missing:
            raise DockerUnavailable(f"the kind backend needs Docker and kind: {missing}. "
                                    "Without Docker, use `rwk up --backend sandbox`.")
        deadline = _Deadline(UP_BUDGET, self.clock)
        verdict, message = self._kind_version(v)
        if self.exists():
            if verdict != "ok":
                say(f"warning: {message}")
            say(f"kind cluster {self.name!r} already exists (context {self.context})")
            if not self.kubectl().reachable():
                self._start_nodes(say, deadline)
        else:
            if verdict == "refuse":
                raise DockerUnavailable(f"{message}. Without it, use `rwk up --backend sandbox`.")
            if verdict == "warn":
                say(f"warning: {message}")
            for port in (80, 443):
                if _proc.port_in_use(port):
                    raise PortInUse(f"host port {port} is in use; the kind cluster maps it for "
                                    "Ingress traffic. Stop what listens there and retry.")
            self._create(node_image, say, deadline)
            if source == "local":
                self._load_stand_ins(say, deadline)
        if source == "local":
            self._install_metrics_server(v, source, say, deadline)
            kubectl = self.kubectl()
            kubectl.apply(ingress_class(), "the nginx IngressClass")
            say(f"kind cluster {self.name!r} is up: Kubernetes v{v.kubernetes} on a node image "
                f"built here, metrics-server ready, no Ingress controller (none can be had "
                f"without a registry yet), context {self.context}")
            return
        self._install_addons(v, say, deadline)
        say(f"kind cluster {self.name!r} is up: Kubernetes {v.kind_node_image.split(':')[1].split('@')[0]}, "
            f"ingress-nginx {v.ingress_nginx} (retired upstream, see the README) on the node "
            f"with host ports 80/443, metrics-server ready, context {self.context}")

    def _kind_version(self, v: Versions) -> tuple[str, str]:
        result = self.runner([self.kind, "version"], timeout=30)
        return kind_version_verdict(result.stdout if result.ok else result.output, v.kind)

    def _create(self, node_image: str, say: Progress, deadline: _Deadline) -> None:
        timeout = deadline.left(CREATE_TIMEOUT, "create the kind cluster")
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "kind-config.yaml"
            config.write_text(yaml.safe_dump(kind_config(self.name), sort_keys=False))
            say(f"creating kind cluster {self.name!r} with {node_image} (up to "
                f"{timeout / 60:.0f} minutes the first time: Docker pulls the node image)")
            args = [self.kind, "create", "cluster", "--name", self.name, "--image",
                    node_image, "--config", str(config), "--wait", "180s"]
            if self.kubeconfig:
                args += ["--kubeconfig", str(self.kubeconfig)]
            result = self.runner(args, timeout=timeout)
        if not result.ok:
            raise StartFailed(f"kind could not create the cluster:\n{result.output}\n"
                              f"Try `kind delete cluster --name {self.name}` and `rwk up` again.")

    def _load_stand_ins(self, say: Progress, deadline: _Deadline) -> None:
        """Load the lessons' stand-in images into every node (no registry gives them)."""
        from .nodeimage import lesson_images
        images = lesson_images()
        say(f"loading the lessons' stand-in images into the nodes: {', '.join(images)}")
        self._check(self.runner([self.kind, "load", "docker-image", "--name", self.name, *images],
                                timeout=deadline.left(CREATE_TIMEOUT, "load the lessons' images")),
                    "load the lessons' stand-in images into the kind nodes")

    def _install_metrics_server(self, v: Versions, source: str, say: Progress,
                                deadline: _Deadline) -> None:
        """metrics-server with --kubelet-insecure-tls (kind's kubelets serve self-signed
        certificates): the release's manifest upstream, its Go module's where built here."""
        kubectl = self.kubectl()
        say(f"installing metrics-server {v.metrics_server} with --kubelet-insecure-tls")
        with tempfile.TemporaryDirectory() as tmp:
            manifest = (["-f", METRICS_MANIFEST.format(version=v.metrics_server)]
                        if source == "upstream" else ["-k", str(_metrics_overlay(v, Path(tmp)))])
            self._check(kubectl("apply", *manifest,
                                timeout=deadline.left(APPLY_TIMEOUT, "apply metrics-server")),
                        "apply metrics-server")
        args = kubectl("get", "deployment", "metrics-server", "-n", "kube-system", "-o",
                       "jsonpath={.spec.template.spec.containers[0].args}")
        if "--kubelet-insecure-tls" not in args.stdout:
            self._check(kubectl("patch", "deployment", "metrics-server", "-n", "kube-system",
                                "--type=json", "-p", INSECURE_TLS_PATCH,
                                timeout=deadline.left(APPLY_TIMEOUT, "patch metrics-server")),
                        "patch metrics-server")
        if source == "local":
            step = "wait for metrics-server"
            timeout = deadline.left(ROLLOUT_TIMEOUT, step)
            self._check(kubectl("rollout", "status", "deployment/metrics-server", "-n",
                                "kube-system", f"--timeout={timeout:.0f}s", timeout=timeout + 20),
                        step)
            # Rolled out is not yet serving: the API server marks the metrics API Available
            # once it reaches the new pod (after a restart, some seconds later).
            step = "wait for the metrics API"
            timeout = deadline.left(ROLLOUT_TIMEOUT, step)
            self._check(kubectl("wait", "--for=condition=Available",
                                "apiservice/v1beta1.metrics.k8s.io", f"--timeout={timeout:.0f}s",
                                timeout=timeout + 20), step)

    def _install_addons(self, v: Versions, say: Progress, deadline: _Deadline) -> None:
        kubectl = self.kubectl()
        say(f"installing ingress-nginx {v.ingress_nginx}, its controller pinned to the node "
            f"labelled {'='.join(MAPPED_NODE_LABEL)}")
        self._check(kubectl("apply", "-f", INGRESS_MANIFEST.format(version=v.ingress_nginx),
                            timeout=deadline.left(APPLY_TIMEOUT, "apply ingress-nginx")),
                    "apply ingress-nginx")
        self._check(kubectl("patch", "deployment", CONTROLLER, "-n", INGRESS_NAMESPACE,
                            "--type=strategic", "-p", json.dumps(CONTROLLER_PATCH),
                            timeout=deadline.left(APPLY_TIMEOUT, "pin the ingress controller")),
                    "pin the ingress controller to the node with host ports 80/443")
        self._install_metrics_server(v, "upstream", say, deadline)
        # Rollouts, not `kubectl wait pod --selector`: that exits at once with "no matching
        # resources found" while no pod exists yet (kubernetes/kubernetes#65868), and it
        # would accept the old, unpinned pod.
        say("waiting for the ingress controller and metrics-server to roll out")
        for deployment, namespace in ((CONTROLLER, INGRESS_NAMESPACE),
                                      ("metrics-server", "kube-system")):
            step = f"wait for {deployment}"
            timeout = deadline.left(ROLLOUT_TIMEOUT, step)
            self._check(kubectl("rollout", "status", f"deployment/{deployment}", "-n", namespace,
                                f"--timeout={timeout:.0f}s", timeout=timeout + 20), step)
        self._wait_webhook(kubectl, deadline, say)

    def _wait_webhook(self, kubectl: Kubectl, deadline: _Deadline, say: Progress) -> None:
        """Wait until a Job of the manifest has given the webhook its CA: before that, every
        Ingress is refused with a certificate error (the webhook fails closed)."""
        step = "wait for the ingress admission webhook's certificate"
        end = self.clock() + deadline.left(WEBHOOK_TIMEOUT, step)
        while True:
            result = kubectl("get", "validatingwebhookconfiguration", WEBHOOK_CONFIGURATION,
                             "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}", timeout=20)
            if result.ok and result.stdout.strip():
                return
            if self.clock() >= end:
                raise StartFailed(f"could not {step}: validatingwebhookconfiguration "
                                  f"{WEBHOOK_CONFIGURATION} still has no caBundle "
                                  f"({result.output or 'empty'}); see `kubectl get jobs -n "
                                  f"{INGRESS_NAMESPACE}`")
            self.sleep(2)

    # --- stop, and start again --------------------------------------------------------------

    def nodes(self) -> list[str]:
        """The cluster's node containers, as `kind get nodes` names them."""
        result = self.runner([self.kind, "get", "nodes", "--name", self.name], timeout=30)
        self._check(result, "list the kind cluster's node containers")
        return sorted(result.stdout.split())

    def stop(self, say: Progress) -> None:
        """Stop the node containers and keep them, with everything in the cluster: `up`
        starts them again."""
        if self._no_kind() or not self.exists():
            say(f"no kind cluster named {self.name!r}; nothing to stop")
            return
        nodes = self.nodes()
        result = self.runner(["docker", "stop", *nodes], timeout=180)
        if not result.ok:
            raise BackendError(f"docker could not stop the kind nodes {', '.join(nodes)}: "
                               f"{result.output}. `rwk down` deletes the cluster instead.")
        say(f"kind cluster {self.name!r} stopped ({len(nodes)} node containers kept); "
            "`rwk up` starts it again as it was")

    def _start_nodes(self, say: Progress, deadline: _Deadline) -> None:
        """Start a stopped cluster's node containers and wait for its API and nodes."""
        nodes = self.nodes()
        say(f"starting the stopped kind cluster {self.name!r}: {', '.join(nodes)}")
        timeout = deadline.left(APPLY_TIMEOUT, "start the node containers")
        self._check(self.runner(["docker", "start", *nodes], timeout=timeout),
                    "start the kind cluster's node containers")
        kubectl = self.kubectl()
        end = self.clock() + deadline.left(START_TIMEOUT, "wait for the API server")
        while not kubectl.reachable():
            if self.clock() >= end:
                raise StartFailed(f"the API server of kind cluster {self.name!r} did not "
                                  f"answer within {START_TIMEOUT:.0f} s of starting its nodes; "
                                  f"see `docker logs {self.name}-control-plane`")
            self.sleep(1)
        kubectl.wait_nodes_ready(len(nodes), timeout=deadline.left(START_TIMEOUT,
                                                                  "wait for the nodes"), say=say)

    def work(self) -> list[str]:
        """What `down` would delete that a learner made: one line per namespace."""
        if self._no_kind() or not self.exists():
            return []
        kubectl = self.kubectl()
        if not kubectl.reachable():
            return [f"everything in the stopped kind cluster {self.name!r} (it cannot be read "
                    "while stopped; `rwk up` starts it, to look)"]
        return course_work(kubectl)

    @staticmethod
    def _check(result: _proc.Result, what: str) -> None:
        if not result.ok:
            raise StartFailed(f"could not {what}: {result.output}")

    def down(self, say: Progress) -> None:
        if self._no_kind():
            say("kind is not installed; nothing to stop")
            return
        args = [self.kind, "delete", "cluster", "--name", self.name]
        if self.kubeconfig:
            args += ["--kubeconfig", str(self.kubeconfig)]
        self._check(self.runner(args, timeout=300), "delete the kind cluster")
        say(f"kind cluster {self.name!r} deleted")

    def status(self) -> ClusterStatus:
        kubectl = self.kubectl()
        status = read_status(self.backend_name, kubectl)
        if not status.reachable:
            return status
        controller = (self._controller(kubectl) if not self._built_here() else Component(
            "ingress controller", True,
            "none installed: this cluster's images were built here, where no registry answers, "
            "and no Ingress controller image can be built here yet; Ingresses of class "
            "nginx are accepted and graded but carry no traffic"))
        return dataclasses.replace(status, components=(*status.components, controller))

    def _built_here(self) -> bool:
        """True when the control-plane node runs a node image built by `rwk node-image`."""
        from .nodeimage import NODE_REPOSITORY
        found = self.runner(["docker", "inspect", "--format", "{{.Config.Image}}",
                             f"{self.name}-control-plane"], timeout=20)
        return found.ok and found.stdout.strip().startswith(NODE_REPOSITORY)

    @staticmethod
    def _controller(kubectl: Kubectl) -> Component:
        pods = kubectl("get", "pods", "-n", INGRESS_NAMESPACE, "-l", CONTROLLER_SELECTOR,
                       "-o", "json", timeout=10)
        nodes = kubectl("get", "nodes", "-l", "=".join(MAPPED_NODE_LABEL), "-o",
                        "jsonpath={.items[*].metadata.name}", timeout=10)
        if not pods.ok or not nodes.ok:
            return Component("ingress controller", False,
                             f"could not read it: {(pods.output if not pods.ok else nodes.output)}")
        return controller_placement(json.loads(pods.stdout), nodes.stdout.split())

    def reset(self, say: Progress) -> list[str]:
        return reset_namespaces(self.kubectl(), owned_cluster=True, say=say)
