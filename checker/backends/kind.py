"""The kind backend, for learners with Docker: a real cluster with real containers.

One config: a control-plane node labelled ingress-ready with host ports 80 and 443 mapped,
and two workers. On top: ingress-nginx (kind provider manifest, waited for) and
metrics-server with --kubelet-insecure-tls (kind's kubelets serve self-signed certificates).
kind's own default StorageClass is already named `standard`.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import DockerUnavailable, PortInUse, StartFailed
from . import _proc
from .base import ClusterStatus, Kubectl, Progress, read_status, reset_namespaces
from .versions import Versions, load

INGRESS_MANIFEST = ("https://raw.githubusercontent.com/kubernetes/ingress-nginx/"
                    "controller-v{version}/deploy/static/provider/kind/deploy.yaml")
METRICS_MANIFEST = ("https://github.com/kubernetes-sigs/metrics-server/releases/download/"
                    "v{version}/components.yaml")
INSECURE_TLS_PATCH = ('[{"op":"add","path":"/spec/template/spec/containers/0/args/-",'
                      '"value":"--kubelet-insecure-tls"}]')


def kind_config(name: str) -> dict:
    """The one kind cluster config the course uses."""
    return {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": name,
        "nodes": [
            {
                "role": "control-plane",
                # ingress-nginx's kind manifest schedules its controller on this label.
                "labels": {"ingress-ready": "true"},
                "extraPortMappings": [
                    {"containerPort": 80, "hostPort": 80, "protocol": "TCP"},
                    {"containerPort": 443, "hostPort": 443, "protocol": "TCP"},
                ],
            },
            {"role": "worker"},
            {"role": "worker"},
        ],
    }


@dataclass
class Kind:
    """A kind cluster named `name`, driven through the kind, docker and kubectl commands."""

    name: str = "rwk"
    runner: _proc.Runner = _proc.run
    kubeconfig: Path | None = None
    backend_name: str = "kind"

    @property
    def context(self) -> str:
        return f"kind-{self.name}"

    def kubectl(self) -> Kubectl:
        return Kubectl(self.context, self.kubeconfig, runner=self.runner)

    def available(self) -> str:
        """Empty when kind can run here; else what is missing."""
        if not shutil.which("kind") and self.runner is _proc.run:
            return "the kind command is not installed (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"
        if not shutil.which("kubectl") and self.runner is _proc.run:
            return "kubectl is not installed (https://kubernetes.io/docs/tasks/tools/)"
        if not self.runner(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=20).ok:
            return "no Docker daemon answers (`docker info` fails); start Docker Desktop or dockerd"
        return ""

    def exists(self) -> bool:
        result = self.runner(["kind", "get", "clusters"], timeout=30)
        return result.ok and self.name in result.stdout.split()

    def up(self, say: Progress) -> None:
        v = load()
        missing = self.available()
        if missing:
            raise DockerUnavailable(f"the kind backend needs Docker and kind: {missing}. "
                                    "Without Docker, use `rwk up --backend sandbox`.")
        if self.exists():
            say(f"kind cluster {self.name!r} already exists (context {self.context})")
        else:
            for port in (80, 443):
                if _proc.port_in_use(port):
                    raise PortInUse(f"host port {port} is in use; the kind cluster maps it for "
                                    "Ingress traffic. Stop what listens there and retry.")
            self._create(v, say)
        self._install_addons(v, say)
        say(f"kind cluster {self.name!r} is up: Kubernetes {v.kind_node_image.split(':')[1].split('@')[0]}, "
            f"ingress-nginx and metrics-server ready, context {self.context}")

    def _create(self, v: Versions, say: Progress) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "kind-config.yaml"
            config.write_text(yaml.safe_dump(kind_config(self.name), sort_keys=False))
            say(f"creating kind cluster {self.name!r} with {v.kind_node_image} (a few minutes "
                "the first time: Docker pulls the node image)")
            args = ["kind", "create", "cluster", "--name", self.name, "--image",
                    v.kind_node_image, "--config", str(config), "--wait", "180s"]
            if self.kubeconfig:
                args += ["--kubeconfig", str(self.kubeconfig)]
            result = self.runner(args, timeout=900)
        if not result.ok:
            raise StartFailed(f"kind could not create the cluster:\n{result.output}\n"
                              f"Try `kind delete cluster --name {self.name}` and `rwk up` again.")

    def _install_addons(self, v: Versions, say: Progress) -> None:
        kubectl = self.kubectl()
        say(f"installing ingress-nginx {v.ingress_nginx}")
        self._check(kubectl("apply", "-f", INGRESS_MANIFEST.format(version=v.ingress_nginx),
                            timeout=300), "apply ingress-nginx")
        say(f"installing metrics-server {v.metrics_server} with --kubelet-insecure-tls")
        self._check(kubectl("apply", "-f", METRICS_MANIFEST.format(version=v.metrics_server),
                            timeout=300), "apply metrics-server")
        args = kubectl("get", "deployment", "metrics-server", "-n", "kube-system", "-o",
                       "jsonpath={.spec.template.spec.containers[0].args}")
        if "--kubelet-insecure-tls" not in args.stdout:
            self._check(kubectl("patch", "deployment", "metrics-server", "-n", "kube-system",
                                "--type=json", "-p", INSECURE_TLS_PATCH),
                        "patch metrics-server")
        say("waiting for the ingress controller and metrics-server to be ready")
        self._check(kubectl("wait", "--namespace", "ingress-nginx", "--for=condition=ready",
                            "pod", "--selector=app.kubernetes.io/component=controller",
                            "--timeout=300s", timeout=320), "wait for ingress-nginx")
        self._check(kubectl("rollout", "status", "deployment/metrics-server", "-n",
                            "kube-system", "--timeout=300s", timeout=320),
                    "wait for metrics-server")

    @staticmethod
    def _check(result: _proc.Result, what: str) -> None:
        if not result.ok:
            raise StartFailed(f"could not {what}: {result.output}")

    def down(self, say: Progress) -> None:
        if not shutil.which("kind") and self.runner is _proc.run:
            say("kind is not installed; nothing to stop")
            return
        args = ["kind", "delete", "cluster", "--name", self.name]
        if self.kubeconfig:
            args += ["--kubeconfig", str(self.kubeconfig)]
        self._check(self.runner(args, timeout=300), "delete the kind cluster")
        say(f"kind cluster {self.name!r} deleted")

    def status(self) -> ClusterStatus:
        return read_status(self.backend_name, self.kubectl())

    def reset(self, say: Progress) -> list[str]:
        return reset_namespaces(self.kubectl(), owned_cluster=True, say=say)
