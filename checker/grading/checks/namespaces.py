"""Exercise `namespaces`: the namespace, its label, quota, container defaults and RBAC."""

from __future__ import annotations

from ..model import Criterion, Failure
from ..quantities import parse_quantity
from .common import listing, near
from ..state import ClusterState

LESSON = "lessons/01-namespaces.ipynb"
LABEL_KEY, LABEL_VALUE = "environment", "production"
QUOTA_NEEDS = ("pods", "requests.cpu", "requests.memory", "limits.memory")
# In a ResourceQuota, plain `cpu` and `memory` mean requests.cpu and requests.memory.
QUOTA_ALIASES = {"cpu": "requests.cpu", "memory": "requests.memory"}
ELSEWHERE = "rwk-elsewhere"
"""A namespace name used only to ask whether `deployer` reaches beyond its own."""
CLASSROOM_LABEL = ("app.kubernetes.io/managed-by", "rwk-classroom")
"""What `rwk classroom create` labels its own objects with (checker.classroom.names): the
class's budget is the instructor's work, never credited to the student."""


def _own(state: ClusterState, kind: str) -> tuple[list[dict], list[str]]:
    """The namespace's objects of a kind that the student made, and the classroom's names."""
    key, value = CLASSROOM_LABEL
    found = state.list(kind)
    theirs = [o["metadata"]["name"] for o in found
              if (o["metadata"].get("labels") or {}).get(key) == value]
    return [o for o in found if o["metadata"]["name"] not in theirs], theirs


def _none_of_your_own(kind: str, state: ClusterState, classroom: list[str]) -> Failure:
    besides = (f" ({listing(classroom)} is the classroom's budget, set by your instructor; "
               f"the exercise asks for one of your own)" if classroom else "")
    return Failure(f"no {kind} in namespace {state.namespace}{besides}")


def namespace_active(state: ClusterState) -> None:
    phase = (state.require_namespace().get("status") or {}).get("phase")
    if phase != "Active":
        raise Failure(f"namespace {state.namespace} has status.phase {phase!r}, expected "
                      "'Active' (a Terminating namespace is being deleted)")


def namespace_label(state: ClusterState) -> None:
    labels = state.require_namespace()["metadata"].get("labels") or {}
    if LABEL_KEY not in labels:
        shown = listing(f"{k}={v}" for k, v in labels.items()
                        if not k.startswith("kubernetes.io/"))
        raise Failure(f"namespace {state.namespace} has no label {LABEL_KEY!r}"
                      f"{near(LABEL_KEY, labels)}; its labels: {shown}")
    if labels[LABEL_KEY] != LABEL_VALUE:
        raise Failure(f"metadata.labels.{LABEL_KEY} is {labels[LABEL_KEY]!r}, expected "
                      f"{LABEL_VALUE!r}")


def quota_covers(state: ClusterState) -> None:
    quotas, classroom = _own(state, "resourcequota")
    if not quotas:
        raise _none_of_your_own("ResourceQuota", state, classroom)
    covered: dict[str, str] = {}
    for quota in quotas:
        for key, value in ((quota.get("spec") or {}).get("hard") or {}).items():
            covered.setdefault(QUOTA_ALIASES.get(key, key), quota["metadata"]["name"])
            parse_quantity(value)  # a malformed value would have been refused; stay honest
    missing = [need for need in QUOTA_NEEDS if need not in covered]
    if missing:
        names = listing(q["metadata"]["name"] for q in quotas)
        raise Failure(f"ResourceQuota {names}: spec.hard does not cap {', '.join(missing)} "
                      f"(it caps {listing(covered)})")


def limitrange_defaults(state: ClusterState) -> None:
    ranges, classroom = _own(state, "limitrange")
    if not ranges:
        raise _none_of_your_own("LimitRange", state, classroom)
    types_seen, gaps = set(), []
    for item in ranges:
        for limit in (item.get("spec") or {}).get("limits") or []:
            types_seen.add(limit.get("type"))
            if limit.get("type") != "Container":
                continue
            lacking = [f"{field}.{resource}" for field in ("default", "defaultRequest")
                       for resource in ("cpu", "memory")
                       if resource not in (limit.get(field) or {})]
            if not lacking:
                return None
            gaps.append(f"LimitRange {item['metadata']['name']} lacks {', '.join(lacking)}")
    if "Container" not in types_seen:
        raise Failure(f"LimitRange limits are of type {listing(t or '?' for t in types_seen)}"
                      " only; defaults apply to containers only with type: Container")
    raise Failure("; ".join(gaps))


def _deployer(state: ClusterState) -> tuple[str, list[str]]:
    if state.get("serviceaccount", "deployer") is None:
        raise Failure(f"no ServiceAccount 'deployer' in namespace {state.namespace}")
    user = f"system:serviceaccount:{state.namespace}:deployer"
    return user, ["system:serviceaccounts", f"system:serviceaccounts:{state.namespace}",
                  "system:authenticated"]


def deployer_can_deploy(state: ClusterState) -> None:
    user, groups = _deployer(state)
    denied = [verb for verb in ("create", "update")
              if not state.can_i(user, groups, verb, "deployments", "apps", state.namespace)]
    if denied:
        raise Failure(f"ServiceAccount deployer may not {' or '.join(denied)} deployments in "
                      f"namespace {state.namespace} (SubjectAccessReview said no); bind a Role "
                      "that allows them with a RoleBinding")


def deployer_scoped(state: ClusterState) -> None:
    user, groups = _deployer(state)
    too_broad = []
    if state.can_i(user, groups, "create", "deployments", "apps", ELSEWHERE):
        too_broad.append("create deployments in other namespaces")
    if state.can_i(user, groups, "list", "nodes"):
        too_broad.append("list nodes")
    if not too_broad:
        return None
    bindings = [b["metadata"]["name"] for b in state.list_cluster("clusterrolebinding")
                if any(s.get("kind") == "ServiceAccount" and s.get("name") == "deployer"
                       and s.get("namespace") == state.namespace
                       for s in b.get("subjects") or [])]
    via = (f": ClusterRoleBinding {listing(bindings)} grants it cluster-wide; use a "
           f"RoleBinding in {state.namespace}" if bindings else "")
    raise Failure(f"ServiceAccount deployer can {' and '.join(too_broad)}{via}")


CRITERIA = (
    Criterion("namespace-active", "The namespace exists and is Active", 1,
              f"kubectl apply a Namespace manifest; see {LESSON}, 'Creating a namespace'",
              namespace_active),
    Criterion("namespace-label", "Namespace labelled environment=production", 1,
              f"labels are exact key=value pairs: `kubectl label namespace NS "
              f"environment=production`; see {LESSON}, 'Labels'", namespace_label),
    Criterion("resource-quota", "A ResourceQuota caps pods, requests.cpu, requests.memory and "
              "limits.memory", 2, f"add the missing keys under spec.hard; see {LESSON}, "
              "'ResourceQuota'", quota_covers),
    Criterion("limit-range", "A LimitRange gives containers default requests and limits for "
              "cpu and memory", 2, f"use type: Container with default and defaultRequest for "
              f"cpu and memory; see {LESSON}, 'LimitRange'", limitrange_defaults),
    Criterion("deployer-can-deploy", "ServiceAccount deployer may create and update "
              "Deployments here", 2, f"a Role (apps/deployments: create, update, get, list) "
              f"bound with a RoleBinding; check with `kubectl auth can-i create deployments "
              f"--as=system:serviceaccount:NS:deployer -n NS`; see {LESSON}, 'RBAC'",
              deployer_can_deploy),
    Criterion("deployer-scoped", "deployer can do nothing outside the namespace", 2,
              f"a ClusterRoleBinding grants rights in every namespace; use a RoleBinding; "
              f"see {LESSON}, 'RBAC'", deployer_scoped),
)
