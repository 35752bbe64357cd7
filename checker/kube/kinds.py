"""One description of each kind of API object the course reads or writes: its group, version,
plural, kind and scope. The reader, the class snapshot, the classroom's writer, the live views,
provisioning and the cluster backends all take where an object is served from here.

Looked up by `named("Deployment")` (the kind, as manifests write it) or `KINDS["deployment"]`
(its lower-case key, as the reader's calls name it).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass


@dataclass(frozen=True)
class ApiKind:
    """Where the API serves one kind of object."""

    kind: str
    """As manifests write it: `Deployment`."""
    group: str
    """`apps`; empty for the core group."""
    version: str
    plural: str
    namespaced: bool = True

    @property
    def key(self) -> str:
        """The lower-case name the reader's calls use: `deployment`."""
        return self.kind.lower()

    @property
    def api_version(self) -> str:
        """As manifests write it: `v1`, `apps/v1`."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def prefix(self) -> str:
        """`/api/v1` for the core group, `/apis/GROUP/VERSION` otherwise."""
        return f"/apis/{self.api_version}" if self.group else f"/api/{self.version}"

    @property
    def resource(self) -> str:
        """As RBAC and `kubectl auth can-i` name it: `secrets`, `deployments.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None = None) -> str:
        """The collection's path, in `namespace` where the kind is namespaced and one is given."""
        if self.namespaced and namespace:
            return f"{self.prefix}/namespaces/{urllib.parse.quote(namespace, safe='')}/{self.plural}"
        return f"{self.prefix}/{self.plural}"


_CORE, _APPS, _RBAC = "", "apps", "rbac.authorization.k8s.io"
_ADMISSION, _GATEWAY = "admissionregistration.k8s.io", "gateway.networking.k8s.io"

ALL: tuple[ApiKind, ...] = (
    ApiKind("Namespace", _CORE, "v1", "namespaces", namespaced=False),
    ApiKind("Node", _CORE, "v1", "nodes", namespaced=False),
    ApiKind("Pod", _CORE, "v1", "pods"),
    ApiKind("Service", _CORE, "v1", "services"),
    ApiKind("ConfigMap", _CORE, "v1", "configmaps"),
    ApiKind("Secret", _CORE, "v1", "secrets"),
    ApiKind("ServiceAccount", _CORE, "v1", "serviceaccounts"),
    ApiKind("PersistentVolumeClaim", _CORE, "v1", "persistentvolumeclaims"),
    ApiKind("ResourceQuota", _CORE, "v1", "resourcequotas"),
    ApiKind("LimitRange", _CORE, "v1", "limitranges"),
    ApiKind("EndpointSlice", "discovery.k8s.io", "v1", "endpointslices"),
    ApiKind("Deployment", _APPS, "v1", "deployments"),
    ApiKind("ReplicaSet", _APPS, "v1", "replicasets"),
    ApiKind("StatefulSet", _APPS, "v1", "statefulsets"),
    ApiKind("DaemonSet", _APPS, "v1", "daemonsets"),
    ApiKind("Job", "batch", "v1", "jobs"),
    ApiKind("CronJob", "batch", "v1", "cronjobs"),
    ApiKind("Ingress", "networking.k8s.io", "v1", "ingresses"),
    ApiKind("NetworkPolicy", "networking.k8s.io", "v1", "networkpolicies"),
    ApiKind("IngressClass", "networking.k8s.io", "v1", "ingressclasses", namespaced=False),
    ApiKind("GatewayClass", _GATEWAY, "v1", "gatewayclasses", namespaced=False),
    ApiKind("Gateway", _GATEWAY, "v1", "gateways"),
    ApiKind("HTTPRoute", _GATEWAY, "v1", "httproutes"),
    ApiKind("HorizontalPodAutoscaler", "autoscaling", "v2", "horizontalpodautoscalers"),
    ApiKind("PodDisruptionBudget", "policy", "v1", "poddisruptionbudgets"),
    ApiKind("StorageClass", "storage.k8s.io", "v1", "storageclasses", namespaced=False),
    ApiKind("Role", _RBAC, "v1", "roles"),
    ApiKind("RoleBinding", _RBAC, "v1", "rolebindings"),
    ApiKind("ClusterRole", _RBAC, "v1", "clusterroles", namespaced=False),
    ApiKind("ClusterRoleBinding", _RBAC, "v1", "clusterrolebindings", namespaced=False),
    ApiKind("ValidatingAdmissionPolicy", _ADMISSION, "v1", "validatingadmissionpolicies",
            namespaced=False),
    ApiKind("ValidatingAdmissionPolicyBinding", _ADMISSION, "v1",
            "validatingadmissionpolicybindings", namespaced=False),
)

KINDS: dict[str, ApiKind] = {kind.key: kind for kind in ALL}
"""Every kind, by its lower-case key."""


def named(kind: str) -> ApiKind:
    """The description of a kind as manifests write it (`Deployment`); KeyError if unknown."""
    return KINDS[kind.lower()]


def plurals(*names: str) -> tuple[str, ...]:
    """The plurals of the kinds named, in order: what `kubectl get` takes."""
    return tuple(named(name).plural for name in names)
