"""A student's rights: what RBAC grants, what the admission policy refuses on top, and the
table of rights `classroom verify` asks the API about.

RBAC (real authorization, checked by the API server on every request):
- a Role and RoleBinding in the student's namespace: everything the exercises need there;
- a ClusterRole and ClusterRoleBinding per student: get and patch their own namespace only
  (resourceNames), read StorageClasses and IngressClasses, and ask SubjectAccessReviews
  (the `namespaces` check asks one, so a student can check their own work).
No `bind` or `escalate` verb is granted, so RBAC's own escalation prevention refuses a Role
or binding that would grant more than the student holds (a RoleBinding to cluster-admin).

RBAC cannot look inside an object, so one ValidatingAdmissionPolicy (`POLICY`) refuses, to
any ServiceAccount acting on its own classroom namespace (the student's, and any other the
student makes there, so a pod's token is held to the same rules):
- a change of the namespace's labels other than `environment` and a stricter Pod Security
  `enforce` level (the `security` exercise's: privileged, baseline, restricted; never back),
  or of its annotations other than kubectl's last-applied record;
- updating or deleting an object the classroom made (label `MANAGED_BY`): the budget, the
  student's ServiceAccount, Role and RoleBinding; removing the label is an update too;
- a RoleBinding naming anyone but ServiceAccounts of the namespace (a group such as
  `system:authenticated` would hand the student's rights to the whole class).
The instructor, the cluster's controllers and other namespaces are not matched.

What each exercise needs is not listed here: it is the exercise's `grants`, in the registry
(checker/grading/exercises.py). The rules and the rights below hold every grant of today's
exercises (a unit test says so); a grant they do not cover yet, a new exercise's, is added to
the Role, the ClusterRole and `verify`'s questions by `role_rules`, `cluster_rules` and
`rights`, so a new exercise is one value in the registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..gradebook.model import Student
from ..grading.exercises import CLUSTER_WIDE, EXERCISES, NAMESPACE_ITSELF, Exercise, Grant
from .names import (MANAGED_BY, MANAGER, POLICY, ROLE, SERVICE_ACCOUNT, cluster_name,
                    metadata)

RBAC = "rbac.authorization.k8s.io"
READ = ["get", "list", "watch"]
WRITE = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]

_ROLE_RULES: list[dict] = [
    {"apiGroups": [""], "verbs": WRITE,
     "resources": ["pods", "services", "configmaps", "secrets", "serviceaccounts",
                   "persistentvolumeclaims", "resourcequotas", "limitranges"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": READ},
    {"apiGroups": [""], "resources": ["pods/exec", "pods/portforward"],
     "verbs": ["get", "create"]},
    {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
    {"apiGroups": [""], "resources": ["endpoints", "events"], "verbs": READ},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": READ},
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": READ},
    {"apiGroups": ["apps"], "resources": ["deployments", "replicasets", "statefulsets"],
     "verbs": WRITE},
    {"apiGroups": ["apps"],
     "resources": ["deployments/scale", "replicasets/scale", "statefulsets/scale"],
     "verbs": ["get", "update", "patch"]},
    {"apiGroups": ["apps"], "resources": ["controllerrevisions", "daemonsets"], "verbs": READ},
    {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": READ},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": WRITE},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": WRITE},
    {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": WRITE},
    {"apiGroups": [RBAC], "resources": ["roles", "rolebindings"], "verbs": WRITE},
    {"apiGroups": ["metrics.k8s.io"], "resources": ["pods"], "verbs": ["get", "list"]},
]
"""What a student may do in their own namespace: every exercise of EXERCISES.md, `kubectl
rollout` (status, history, undo: deployments and replicasets), logs, exec, port-forward,
eviction and `kubectl top pods`; reading every kind of workload, as `check()` and `rwk audit`
do when a student checks their own work. `role_rules` adds what a new exercise needs."""


def _cluster_rules(ns: str) -> list[dict]:
    """The ClusterRole's rules as the classroom has always written them."""
    return [
        {"apiGroups": [""], "resources": ["namespaces"], "resourceNames": [ns],
         "verbs": ["get", "patch"]},
        {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": READ},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingressclasses"], "verbs": READ},
        # A question, not a write: the `namespaces` check asks it, so a student can run
        # `check()` on their own work.
        {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"],
         "verbs": ["create"]}]


def student_objects(student: Student) -> list[dict]:
    """The ServiceAccount, Role, RoleBinding, ClusterRole and ClusterRoleBinding of one
    student (the namespace and budget are made elsewhere)."""
    ns = student.namespace
    subject = [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": ns}]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": metadata(SERVICE_ACCOUNT, student, ns)},
        {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": metadata(ROLE, student, ns),
         "rules": ROLE_RULES},
        {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
         "metadata": metadata(ROLE, student, ns), "subjects": subject,
         "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": ROLE}},
        {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRole",
         "metadata": metadata(cluster_name(student), student),
         "rules": cluster_rules(ns)},
        {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding",
         "metadata": metadata(cluster_name(student), student), "subjects": subject,
         "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": cluster_name(student)}},
    ]


_IS_NAMESPACE = "request.resource.resource == 'namespaces'"
_LABELLED = (f"has(%s.metadata.labels) && '{MANAGED_BY}' in %s.metadata.labels && "
             f"%s.metadata.labels['{MANAGED_BY}'] == '{MANAGER}'")


def _unchanged_but(old: str, new: str, allowed: list[str]) -> str:
    """CEL: the maps `old` and `new` are equal but for the keys in `allowed`."""
    keys = "[" + ", ".join(f"'{key}'" for key in allowed) + "]"
    return (f"{old}.all(k, k in {keys} || (k in {new} && {new}[k] == {old}[k])) && "
            f"{new}.all(k, k in {keys} || k in {old})")


ENFORCE = "pod-security.kubernetes.io/enforce"
_LEVELS = {"privileged": 0, "baseline": 1, "restricted": 2}


def _level(labels: str) -> str:
    """CEL: how strict the enforce label of `labels` is; unset is privileged (0), a value
    that is no level counts as -1, so a change to it is refused."""
    levels = "{" + ", ".join(f"'{k}': {v}" for k, v in _LEVELS.items()) + "}"
    value = f"{labels}['{ENFORCE}']"
    return (f"('{ENFORCE}' in {labels} ? ({value} in {levels} ? {levels}[{value}] : -1) : 0)")


def policy_objects() -> list[dict]:
    """The ValidatingAdmissionPolicy and its binding, shared by every classroom namespace."""
    labels = {MANAGED_BY: MANAGER}
    rules = [
        {"apiGroups": [""], "apiVersions": ["v1"], "resources": ["namespaces"],
         "operations": ["UPDATE"]},
        {"apiGroups": [""], "apiVersions": ["v1"],
         "resources": ["resourcequotas", "limitranges", "serviceaccounts"],
         "operations": ["UPDATE", "DELETE"]},
        {"apiGroups": [RBAC], "apiVersions": ["v1"], "resources": ["roles", "rolebindings"],
         "operations": ["CREATE", "UPDATE", "DELETE"]},
    ]
    own = "'system:serviceaccount:' + %s + ':'"
    conditions = [
        {"name": "a-service-account-of-the-namespace-itself",
         "expression": f"{_IS_NAMESPACE} ? request.userInfo.username.startsWith("
                       f"{own % 'request.name'}) : request.userInfo.username.startsWith("
                       f"{own % 'request.namespace'})"},
    ]
    variables = [
        {"name": name, "expression": f"{obj} != null && has({obj}.metadata.{field}) ? "
                                     f"{obj}.metadata.{field} : {{}}"}
        for name, obj, field in (("oldLabels", "oldObject", "labels"),
                                 ("newLabels", "object", "labels"),
                                 ("oldAnnotations", "oldObject", "annotations"),
                                 ("newAnnotations", "object", "annotations"))]
    variables += [
        # namespaceObject is there for validations, not for matchConditions.
        {"name": "classroomNamespace",
         "expression": f"{_IS_NAMESPACE} ? ({_LABELLED % (('oldObject',) * 3)}) : "
                       f"(namespaceObject != null && "
                       f"{_LABELLED % (('namespaceObject',) * 3)})"},
        {"name": "madeByClassroom",
         "expression": f"'{MANAGED_BY}' in variables.oldLabels && "
                       f"variables.oldLabels['{MANAGED_BY}'] == '{MANAGER}'"},
    ]
    validations = [
        {"expression": f"!variables.classroomNamespace || !({_IS_NAMESPACE}) || ("
                       + _unchanged_but("variables.oldLabels", "variables.newLabels",
                                        ["environment", ENFORCE]) + ")",
         "reason": "Forbidden",
         "message": "a student may change only the `environment` label of their namespace, "
                    f"and make its {ENFORCE} level stricter (its other pod-security and "
                    "classroom labels are the instructor's)"},
        {"expression": f"!variables.classroomNamespace || !({_IS_NAMESPACE}) || "
                       f"{_level('variables.newLabels')} >= {_level('variables.oldLabels')}",
         "reason": "Forbidden",
         "message": f"a student may make the {ENFORCE} level of their namespace only stricter "
                    "(privileged, then baseline, then restricted), never looser"},
        {"expression": f"!variables.classroomNamespace || !({_IS_NAMESPACE}) || ("
                       + _unchanged_but("variables.oldAnnotations", "variables.newAnnotations",
                                        ["kubectl.kubernetes.io/last-applied-configuration"])
                       + ")",
         "reason": "Forbidden",
         "message": "a student may not change the annotations of their namespace"},
        {"expression": f"!variables.classroomNamespace || {_IS_NAMESPACE} || "
                       "!variables.madeByClassroom",
         "reason": "Forbidden",
         "messageExpression": "request.kind.kind + ' ' + request.name + \" is the "
                              f"classroom's own (label {MANAGED_BY}): a student may not "
                              "change or delete it\""},
        {"expression": "!variables.classroomNamespace || "
                       "request.resource.resource != 'rolebindings' || "
                       "request.operation == 'DELETE' || !has(object.subjects) || "
                       "object.subjects.all(s, s.kind == 'ServiceAccount' && "
                       "s.namespace == request.namespace)",
         "reason": "Forbidden",
         "message": "a RoleBinding in a student's namespace may name only ServiceAccounts "
                    "of that namespace"},
    ]
    policy = {"apiVersion": "admissionregistration.k8s.io/v1",
              "kind": "ValidatingAdmissionPolicy",
              "metadata": {"name": POLICY, "labels": labels},
              "spec": {"failurePolicy": "Fail", "matchConstraints": {"resourceRules": rules},
                       "matchConditions": conditions, "variables": variables,
                       "validations": validations}}
    binding = {"apiVersion": "admissionregistration.k8s.io/v1",
               "kind": "ValidatingAdmissionPolicyBinding",
               "metadata": {"name": POLICY, "labels": labels},
               "spec": {"policyName": POLICY, "validationActions": ["Deny"]}}
    return [policy, binding]


# --- what `verify` asks -------------------------------------------------------------------

OWN, OTHER, CLUSTER = "own", "other", "cluster"
"""Where a right is asked: the student's namespace, another namespace, cluster-wide."""


@dataclass(frozen=True)
class Right:
    """One question `verify` asks the API with the student's own credentials
    (SelfSubjectAccessReview), and the answer it must get."""

    verb: str
    resource: str
    group: str = ""
    where: str = OWN
    allowed: bool = True
    subresource: str | None = None
    name: str | None = None
    """An object's name; `OWN`/`OTHER` stand for the namespace's own name."""

    @property
    def label(self) -> str:
        """How the table names it, as `kubectl auth can-i` would spell it."""
        resource = f"{self.resource}.{self.group}" if self.group else self.resource
        if self.subresource:
            resource += f"/{self.subresource}"
        name = {OWN: " (own)", OTHER: " (other)"}.get(self.name or "", "")
        name = name or (f"/{self.name}" if self.name else "")
        where = {OWN: "", OTHER: " in another namespace", CLUSTER: " cluster-wide"}[self.where]
        return f"{self.verb} {resource}{name}{where}"


def _allow(verb: str, resource: str, group: str = "", **more) -> Right:
    return Right(verb, resource, group, allowed=True, **more)


def _refuse(verb: str, resource: str, group: str = "", **more) -> Right:
    return Right(verb, resource, group, allowed=False, **more)


_ALLOWED: tuple[Right, ...] = (
    _allow("create", "deployments", "apps"),
    _allow("patch", "deployments", "apps"),          # kubectl rollout undo, set image
    _allow("list", "replicasets", "apps"),           # kubectl rollout history
    _allow("create", "statefulsets", "apps"),
    _allow("delete", "pods"),
    _allow("get", "pods", subresource="log"),
    _allow("create", "pods", subresource="exec"),
    _allow("create", "pods", subresource="portforward"),
    _allow("create", "pods", subresource="eviction"),
    _allow("create", "services"),
    _allow("list", "endpoints"),
    _allow("list", "endpointslices", "discovery.k8s.io"),
    _allow("create", "configmaps"),
    _allow("create", "secrets"),
    _allow("get", "secrets"),
    _allow("create", "ingresses", "networking.k8s.io"),
    _allow("create", "horizontalpodautoscalers", "autoscaling"),
    _allow("create", "poddisruptionbudgets", "policy"),
    _allow("create", "persistentvolumeclaims"),
    _allow("create", "serviceaccounts"),
    _allow("create", "roles", RBAC),
    _allow("create", "rolebindings", RBAC),
    _allow("create", "resourcequotas"),
    _allow("create", "limitranges"),
    _allow("list", "events"),
    _allow("list", "daemonsets", "apps"),            # what `check()` and the audit read
    _allow("list", "cronjobs", "batch"),
    _allow("get", "namespaces", where=CLUSTER, name=OWN),
    _allow("patch", "namespaces", where=CLUSTER, name=OWN),   # the `environment` label
    _allow("list", "storageclasses", "storage.k8s.io", where=CLUSTER),
    _allow("list", "ingressclasses", "networking.k8s.io", where=CLUSTER),
    _allow("create", "subjectaccessreviews", "authorization.k8s.io", where=CLUSTER),
)

_REFUSED: tuple[Right, ...] = (
    _refuse("list", "pods", where=OTHER),
    _refuse("get", "secrets", where=OTHER),
    _refuse("create", "deployments", "apps", where=OTHER),
    _refuse("list", "secrets", where=CLUSTER),       # every namespace's
    _refuse("list", "nodes", where=CLUSTER),
    _refuse("create", "namespaces", where=CLUSTER),
    _refuse("delete", "namespaces", where=CLUSTER, name=OWN),
    _refuse("patch", "namespaces", where=CLUSTER, name=OTHER),
    _refuse("create", "clusterroles", RBAC, where=CLUSTER),
    _refuse("create", "clusterrolebindings", RBAC, where=CLUSTER),
    _refuse("create", "validatingadmissionpolicies", "admissionregistration.k8s.io",
            where=CLUSTER),
    _refuse("bind", "clusterroles", RBAC, name="cluster-admin"),    # a RoleBinding to it
    _refuse("create", "daemonsets", "apps"),        # a pod on every node of a shared cluster
    _refuse("escalate", "roles", RBAC),              # a Role with rights the student lacks
    _refuse("create", "serviceaccounts", subresource="token"),
)

ADMISSION_RULES: tuple[str, ...] = (
    "change a label of their namespace other than `environment`, or make its Pod Security "
    "`enforce` level looser (stricter is allowed: `restricted`, for the security exercise)",
    "change an annotation of their namespace",
    "update or delete the classroom's ResourceQuota, LimitRange, ServiceAccount, Role or "
    "RoleBinding",
    "bind anyone but their namespace's ServiceAccounts in a RoleBinding",
)
"""What the admission policy refuses a student, for the docs and `verify`'s footnote."""


# --- what each exercise needs (checker/grading/exercises.py) --------------------------------

def right_of(grant: Grant) -> Right:
    """The question `verify` asks for one grant an exercise needs."""
    if grant.where == NAMESPACE_ITSELF:
        return Right(grant.verb, grant.resource, grant.group, where=CLUSTER,
                     subresource=grant.subresource, name=OWN)
    return Right(grant.verb, grant.resource, grant.group,
                 where=CLUSTER if grant.where == CLUSTER_WIDE else OWN,
                 subresource=grant.subresource)


def needs(exercises: Iterable[Exercise] = EXERCISES) -> dict[str, tuple[Right, ...]]:
    """Each exercise's name to the rights a student must hold for it."""
    return {e.name: tuple(right_of(grant) for grant in e.grants) for e in exercises}


def _needed(exercises: Iterable[Exercise], where: str) -> list[Right]:
    wanted = (right for asked in needs(exercises).values() for right in asked)
    return [right for right in dict.fromkeys(wanted) if right.where == where]


def granted(rules: list[dict], right: Right, name: str | None = None) -> bool:
    """Whether RBAC `rules` allow `right` (on the object `name`), as the authorizer matches."""
    resource = right.resource + (f"/{right.subresource}" if right.subresource else "")
    return any(right.group in rule["apiGroups"] and resource in rule["resources"]
               and right.verb in rule["verbs"]
               and (not rule.get("resourceNames") or name in rule["resourceNames"])
               for rule in rules)


def _rule_for(right: Right, names: list[str] | None = None) -> dict:
    """The narrowest rule that grants `right`; making a kind grants writing it all through."""
    resource = right.resource + (f"/{right.subresource}" if right.subresource else "")
    if right.verb in READ and not names:
        verbs = READ
    elif right.where == OWN and not right.subresource:
        verbs = WRITE      # kubectl apply, edit and delete, not just create
    else:
        verbs = [right.verb]   # a subresource, one named object, a cluster-wide write
    rule = {"apiGroups": [right.group], "resources": [resource], "verbs": verbs}
    return {**rule, "resourceNames": names} if names else rule


def role_rules(exercises: Iterable[Exercise] = EXERCISES) -> list[dict]:
    """The Role's rules: the classroom's own, then one for each need of `exercises` in the
    namespace that those do not grant."""
    rules = list(_ROLE_RULES)
    for right in _needed(exercises, OWN):
        if not granted(rules, right):
            rules.append(_rule_for(right))
    return rules


def cluster_rules(namespace: str, exercises: Iterable[Exercise] = EXERCISES) -> list[dict]:
    """The ClusterRole's rules for the student of `namespace`: the classroom's own, then one
    for each cluster-wide need of `exercises` (on their Namespace only, where it says so)
    that those do not grant."""
    rules = _cluster_rules(namespace)
    for right in _needed(exercises, CLUSTER):
        names = [namespace] if right.name == OWN else None
        if not granted(rules, right, namespace if names else None):
            rules.append(_rule_for(right, names))
    return rules


def rights(exercises: Iterable[Exercise] = EXERCISES) -> tuple[Right, ...]:
    """What `verify` asks: the classroom's own rights, then each need of `exercises` they do
    not ask yet, then what must be refused."""
    exercises = tuple(exercises)
    extra = [r for where in (OWN, CLUSTER) for r in _needed(exercises, where)
             if r not in _ALLOWED]
    return (*_ALLOWED, *extra, *_REFUSED)


NEEDS: dict[str, tuple[Right, ...]] = needs()
"""Each exercise's name to the rights a student needs for it."""

ROLE_RULES: list[dict] = role_rules()
"""The Role each student gets in their own namespace."""

RIGHTS: tuple[Right, ...] = rights()
"""The rights `verify` proves with SelfSubjectAccessReview. What the admission policy
refuses (see the module's docstring) cannot be asked that way: an access review asks the
authorizers, and admission comes after them. tests/integration/test_classroom.py proves those
refusals with real requests."""
