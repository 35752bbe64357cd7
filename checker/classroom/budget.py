"""A student's budget: the ResourceQuota and LimitRange `classroom create` puts in each
student's namespace, sized by `--budget small|medium|large`.

`small` holds every exercise's reference solution at once in one namespace (the capstone's
api-server with its HPA at minReplicas, frontend, postgres and its claim, the gateway
exercise's canary, a rolling update's extra pod), beside the `namespaces` exercise's own
quota and LimitRange, with room for the HPA to grow to about 15 api-server pods. `medium` lets the capstone's HPA reach its
maxReplicas of 20; `large` doubles that. tests/unit/classroom/test_budget.py adds the
references up; tests/integration/test_classroom.py applies them all in one namespace.

The LimitRange's defaults are those of the `namespaces` exercise's reference, so a container
that names no resources gets the same values whichever of the two LimitRanges the API server
applies first.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..gradebook.model import Student
from .names import LIMITS, QUOTA, metadata


@dataclass(frozen=True)
class Budget:
    """What one student's namespace may hold."""

    pods: int
    requests_cpu: str
    requests_memory: str
    limits_cpu: str
    limits_memory: str
    claims: int
    """PersistentVolumeClaims."""
    storage: str
    """The claims' requests.storage, all together."""
    objects: int
    """Services, ConfigMaps and Secrets, each (services half of it)."""
    container_cpu: str
    """The most cpu one container may be limited to."""
    container_memory: str
    claim_storage: str
    """The most one claim may ask for."""

    def quota(self) -> dict[str, str]:
        """The ResourceQuota's spec.hard, in the API's canonical spelling."""
        return {"pods": str(self.pods), "requests.cpu": self.requests_cpu,
                "requests.memory": self.requests_memory, "limits.cpu": self.limits_cpu,
                "limits.memory": self.limits_memory,
                "persistentvolumeclaims": str(self.claims), "requests.storage": self.storage,
                "services": str(self.objects // 2), "configmaps": str(self.objects),
                "secrets": str(self.objects)}


BUDGETS: dict[str, Budget] = {
    "small": Budget(pods=20, requests_cpu="2500m", requests_memory="4Gi", limits_cpu="10",
                    limits_memory="16Gi", claims=5, storage="5Gi", objects=20,
                    container_cpu="1", container_memory="1Gi", claim_storage="2Gi"),
    "medium": Budget(pods=40, requests_cpu="4", requests_memory="8Gi", limits_cpu="20",
                     limits_memory="32Gi", claims=10, storage="20Gi", objects=40,
                     container_cpu="2", container_memory="2Gi", claim_storage="5Gi"),
    "large": Budget(pods=80, requests_cpu="8", requests_memory="16Gi", limits_cpu="40",
                    limits_memory="64Gi", claims=20, storage="50Gi", objects=80,
                    container_cpu="4", container_memory="4Gi", claim_storage="10Gi"),
}
DEFAULT_REQUEST = {"cpu": "100m", "memory": "128Mi"}
DEFAULT_LIMIT = {"cpu": "500m", "memory": "512Mi"}
"""A container's defaults: the `namespaces` exercise's reference LimitRange's."""


def budget_objects(student: Student, size: str) -> list[dict]:
    """The ResourceQuota and LimitRange of `student`'s namespace for budget `size`."""
    budget = BUDGETS[size]
    namespace = student.namespace
    quota = {"apiVersion": "v1", "kind": "ResourceQuota",
             "metadata": metadata(QUOTA, student, namespace),
             "spec": {"hard": budget.quota()}}
    limits = {"apiVersion": "v1", "kind": "LimitRange",
              "metadata": metadata(LIMITS, student, namespace),
              "spec": {"limits": [
                  {"type": "Container", "default": dict(DEFAULT_LIMIT),
                   "defaultRequest": dict(DEFAULT_REQUEST),
                   "max": {"cpu": budget.container_cpu, "memory": budget.container_memory}},
                  {"type": "PersistentVolumeClaim",
                   "max": {"storage": budget.claim_storage}}]}}
    return [quota, limits]
