"""The pinned versions, read from versions.toml (the one file that holds them)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

VERSIONS_FILE = Path(__file__).with_name("versions.toml")


@dataclass(frozen=True)
class Versions:
    """Every version the course pins, in one value."""

    kubernetes: str
    """Kubernetes patch release the sandbox runs, e.g. "1.36.3"."""
    python_client_major: int
    """Major version of the `kubernetes` Python client that matches that minor."""
    kwok: str
    etcd: str
    metrics_server: str
    kind: str
    kind_node_image: str
    """kind node image, pinned by digest, of the same Kubernetes minor."""
    traefik: str
    """Traefik, the kind backend's Ingress controller."""
    traefik_image: str
    """Its official image, pinned by digest (pulled where a registry answers)."""
    gateway_api: str
    """The Gateway API CRDs `rwk up` installs, and the version Traefik speaks."""
    node_image: NodeImageVersions
    """What a kind node image built here is made of."""

    @property
    def kubernetes_minor(self) -> str:
        """"1.36" for "1.36.3"."""
        return ".".join(self.kubernetes.split(".")[:2])

    @property
    def staging(self) -> str:
        """Version of the k8s.io staging modules that ship with this release: "0.36.3"."""
        return "0." + self.kubernetes.split(".", 1)[1]


@dataclass(frozen=True)
class NodeImageVersions:
    """The parts of a kind node image built here (versions.toml's [node_image])."""

    debian_suite: str
    containerd: str
    runc: str
    crictl: str
    cni_plugins: str
    coredns: str
    pause: str
    local_path_provisioner: str


@cache
def load(path: Path = VERSIONS_FILE) -> Versions:
    """Read versions.toml into a `Versions` value."""
    data = tomllib.loads(path.read_text())
    return Versions(
        kubernetes=data["kubernetes"]["version"],
        python_client_major=int(data["kubernetes"]["python_client_major"]),
        kwok=data["kwok"]["version"],
        etcd=data["etcd"]["version"],
        metrics_server=data["metrics_server"]["version"],
        kind=data["kind"]["version"],
        kind_node_image=data["kind"]["node_image"],
        traefik=data["traefik"]["version"],
        traefik_image=data["traefik"]["image"],
        gateway_api=data["gateway_api"]["version"],
        node_image=NodeImageVersions(**data["node_image"]),
    )
