"""The kind backend, for learners with Docker: a real cluster with real containers.

One config: a control-plane node labelled ingress-ready with host ports 80 and 443 mapped,
and two workers. On top: Traefik as the Ingress controller (kind_traefik.yaml: its
ingress-nginx provider serves the course's class `nginx`), on the mapped node, its rollout
waited for; and metrics-server with --kubelet-insecure-tls (kind's kubelets serve self-signed
certificates). kind's own default StorageClass is already named `standard`.

Where no container registry answers (these project's machines, CI), kindest/node and the
add-ons' images cannot be pulled: the node image and every image the cluster runs, Traefik's
included, are built here instead (`rwk node-image`, nodeimage.py), and the lessons' stand-in
images are loaded with `kind load`. RWK_KIND_IMAGES=upstream|local forces either way.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import (BackendError, BinariesUnavailable, DockerUnavailable, PortInUse,
                      StartFailed, UsageError)
from . import _proc
from .base import (ClusterStatus, Component, Kubectl, Progress, course_work,
                   gateway_api_status, install_gateway_api, read_status, reset_namespaces)
from .binaries import cached_path
from .versions import Versions, load

METRICS_MANIFEST = ("https://github.com/kubernetes-sigs/metrics-server/releases/download/"
                    "v{version}/components.yaml")
GATEWAY_CRDS = ("https://github.com/kubernetes-sigs/gateway-api/releases/download/"
                "v{version}/standard-install.yaml")
GATEWAY_CONTROLLER = "traefik.io/gateway-controller"
"""The controllerName Traefik's Gateway provider answers to: the GatewayClass rwk's on kind."""
INSECURE_TLS_PATCH = ('[{"op":"add","path":"/spec/template/spec/containers/0/args/-",'
                      '"value":"--kubelet-insecure-tls"}]')
KIND_RELEASE = "https://github.com/kubernetes-sigs/kind/releases/tag/v{version}"
KIND_INSTALL = "https://kind.sigs.k8s.io/docs/user/quick-start/#installing-from-release-binaries"

INGRESS_NAMESPACE = "traefik"
CONTROLLER = "traefik"
CONTROLLER_SELECTOR = "app.kubernetes.io/name=traefik"
MAPPED_NODE_LABEL = ("ingress-ready", "true")
TRAEFIK_MANIFEST = Path(__file__).with_name("kind_traefik.yaml")

# How long `rwk up` may take on kind, in all, and each step at most. The first run pulls the
# node image (about 1 GB) and the add-ons' images; later runs take seconds. Lesson 00 quotes
# UP_BUDGET as the bound of its `rwk up` cell.
UP_BUDGET = 900.0
CREATE_TIMEOUT = 600.0
APPLY_TIMEOUT = 120.0
ROLLOUT_TIMEOUT = 300.0
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
                # The controller is pinned to this label (kind_traefik.yaml): host ports 80
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
        image = next(iter((pod.get("spec") or {}).get("containers") or []), {}).get("image", "")
        what = f"{CONTROLLER} ({image})" if image else pod["metadata"]["name"]
        ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (pod.get("status") or {}).get("conditions") or [])
        if not node:
            parts.append(f"{what} not scheduled yet")
            healthy = False
        elif node in mapped:
            parts.append(f"{what} on {node}, the node with host ports 80/443"
                         + ("" if ready else ", not ready yet"))
            healthy = healthy and ready
        else:
            parts.append(f"{what} on {node}, NOT the node with host ports 80/443 "
                         f"({', '.join(mapped) or 'none labelled ingress-ready=true'}): "
                         "requests to 127.0.0.1 are refused; run `rwk up` again")
            healthy = False
    return Component("ingress controller", healthy, "; ".join(parts))


# --- the Ingress controller -------------------------------------------------------------------

def traefik_image(v: Versions, source: str) -> str:
    """The official image by digest where a registry answers; else the tag the image built
    here carries (the node image holds it: preloaded images go by tag, not digest)."""
    return v.traefik_image if source == "upstream" else f"traefik:v{v.traefik}"


def gateway_crds_source(v: Versions, source: str) -> str:
    """The Gateway API's standard channel: the release's file where a registry answers (a
    learner's machine), else the CRDs of its Go module, from the cache."""
    if source == "upstream":
        return GATEWAY_CRDS.format(version=v.gateway_api)
    from .binaries import ensure_gateway_crds, gateway_crds
    ensure_gateway_crds(v)
    return gateway_crds(v)


def traefik_manifest(image: str) -> str:
    """kind_traefik.yaml with its image set."""
    text = TRAEFIK_MANIFEST.read_text()
    if "image: TRAEFIK_IMAGE" not in text:
        raise StartFailed(f"{TRAEFIK_MANIFEST} has no `image: TRAEFIK_IMAGE` line to set")
    return text.replace("image: TRAEFIK_IMAGE", f"image: {image}")


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
            try:
                node_image = nodeimage.build(say, v)
            except BinariesUnavailable as error:
                raise BinariesUnavailable(f"the kind node image cannot be built here: {error} "
                                          "Without it, use `rwk up --backend sandbox`.") from None
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
        self._install_addons(v, source, say, deadline)
        built = "a node image built here" if source == "local" else (
            "kindest/node " + v.kind_node_image.split(":")[1].split("@")[0])
        say(f"kind cluster {self.name!r} is up: Kubernetes v{v.kubernetes} on {built}, "
            f"Traefik {v.traefik} serving Ingresses of class nginx and Gateways of class rwk "
            f"on ports 80 and 443 of this machine, metrics-server ready, context {self.context}")

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

    def _install_addons(self, v: Versions, source: str, say: Progress,
                        deadline: _Deadline) -> None:
        """The Ingress controller, its class, and metrics-server; then wait for them all."""
        kubectl = self.kubectl()
        # The Gateway API first: Traefik's Gateway provider watches its objects from the start.
        install_gateway_api(kubectl, gateway_crds_source(v, source), GATEWAY_CONTROLLER, say,
                            timeout=deadline.left(APPLY_TIMEOUT, "install the Gateway API"))
        image = traefik_image(v, source)
        say(f"installing Traefik {v.traefik} ({image}) as the Ingress controller for class "
            f"nginx, on the node labelled {'='.join(MAPPED_NODE_LABEL)}")
        kubectl.apply(traefik_manifest(image), "Traefik, the Ingress controller")
        kubectl.apply(ingress_class(), "the nginx IngressClass")
        self._install_metrics_server(v, source, say, deadline)
        # Rollouts, not `kubectl wait pod --selector`: that exits at once with "no matching
        # resources found" while no pod exists yet (kubernetes/kubernetes#65868), and it
        # would accept an old pod.
        say("waiting for Traefik and metrics-server to roll out")
        for deployment, namespace in ((CONTROLLER, INGRESS_NAMESPACE),
                                      ("metrics-server", "kube-system")):
            step = f"wait for {deployment}"
            timeout = deadline.left(ROLLOUT_TIMEOUT, step)
            self._check(kubectl("rollout", "status", f"deployment/{deployment}", "-n", namespace,
                                f"--timeout={timeout:.0f}s", timeout=timeout + 20), step)
        # Rolled out is not yet serving: the API server marks the metrics API Available
        # once it reaches the new pod (after a restart, some seconds later).
        step = "wait for the metrics API"
        timeout = deadline.left(ROLLOUT_TIMEOUT, step)
        self._check(kubectl("wait", "--for=condition=Available",
                            "apiservice/v1beta1.metrics.k8s.io", f"--timeout={timeout:.0f}s",
                            timeout=timeout + 20), step)

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
        return dataclasses.replace(status, components=(*status.components,
                                                        self._controller(kubectl),
                                                        gateway_api_status(kubectl)))

    def built_here(self) -> bool:
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
