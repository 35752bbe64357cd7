"""The names and labels every classroom object carries, so that `create` finds what it made,
`delete` removes exactly that, and the admission policy knows a classroom namespace."""

from __future__ import annotations

from ..gradebook.model import Student

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "rwk-classroom"
STUDENT = "rwk.course/student"
"""Label: the student's file id (their namespace's name)."""
SELECTOR = f"{MANAGED_BY}={MANAGER}"
"""Everything the classroom made, in any namespace or none."""

POD_SECURITY = {"pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/enforce-version": "latest"}
"""The Pod Security level of every student namespace: baseline refuses privileged pods, host
namespaces and host paths; the course's workloads need none of them. Students may not
change it (the admission policy)."""

SERVICE_ACCOUNT = "student"
"""The ServiceAccount in each student's namespace whose token their kubeconfig holds."""
ROLE = "classroom-student"
"""The Role and RoleBinding of the student's rights in their namespace."""
QUOTA = "classroom-budget"
LIMITS = "classroom-limits"
POLICY = "rwk-classroom-guard"
"""The ValidatingAdmissionPolicy and its binding, shared by every classroom namespace."""


def labels(student: Student) -> dict[str, str]:
    """The labels of every object made for `student`."""
    return {MANAGED_BY: MANAGER, STUDENT: student.file_id}


def cluster_name(student: Student) -> str:
    """The name of the student's ClusterRole and ClusterRoleBinding."""
    return f"{MANAGER}:{student.namespace}"


def username(student: Student) -> str:
    """Who the API server takes the student's token for."""
    return f"system:serviceaccount:{student.namespace}:{SERVICE_ACCOUNT}"


def metadata(name: str, student: Student, namespace: str | None = None) -> dict:
    meta: dict = {"name": name, "labels": labels(student)}
    if namespace:
        meta["namespace"] = namespace
    return meta
