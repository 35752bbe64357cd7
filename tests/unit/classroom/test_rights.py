"""The rights table: what `verify` asks agrees with what the Role and ClusterRole grant, no
right to escalate is granted, and the admission policy is shaped as the API wants it."""

from __future__ import annotations

import pytest

from checker.classroom.names import MANAGED_BY, POLICY, cluster_name
from checker.classroom.provision import describe, holds
from checker.classroom import rights
from checker.classroom.rights import (CLUSTER, NEEDS, OTHER, OWN, RIGHTS, ROLE_RULES, Right,
                                      policy_objects, student_objects)
from checker.grading.exercises import EXERCISES
from checker.gradebook.model import Student

ANN = Student("ann", "student-ann")


def grants(rules: list[dict], right: Right, name: str | None = None) -> bool:
    """Whether RBAC `rules` allow `right`, as the RBAC authorizer matches them."""
    resource = right.resource + (f"/{right.subresource}" if right.subresource else "")
    for rule in rules:
        if (right.group in rule["apiGroups"] and resource in rule["resources"]
                and right.verb in rule["verbs"]
                and (not rule.get("resourceNames") or name in rule["resourceNames"])):
            return True
    return False


def test_every_right_asked_in_the_own_namespace_is_what_the_role_grants():
    for right in RIGHTS:
        if right.where == OWN:
            assert grants(ROLE_RULES, right) == right.allowed, right.label


def test_the_cluster_role_grants_exactly_the_cluster_wide_rights_asked():
    cluster_role = next(o for o in student_objects(ANN) if o["kind"] == "ClusterRole")
    for right in RIGHTS:
        if right.where == CLUSTER:
            name = {OWN: "student-ann", OTHER: "student-bob"}.get(right.name or "", right.name)
            assert grants(cluster_role["rules"], right, name) == right.allowed, right.label
    assert cluster_role["rules"][0]["resourceNames"] == ["student-ann"]


def test_every_exercise_has_its_needs_and_the_classroom_grants_and_asks_them():
    assert list(NEEDS) == [e.name for e in EXERCISES]
    cluster_role = next(o for o in student_objects(ANN) if o["kind"] == "ClusterRole")
    for name, needed in NEEDS.items():
        assert needed, f"{name} names no grant (checker/grading/exercises.py)"
        for right in needed:
            assert right in RIGHTS, (name, right.label)
            rules = cluster_role["rules"] if right.where == CLUSTER else ROLE_RULES
            assert grants(rules, right, "student-ann" if right.name == OWN else None), \
                (name, right.label)
    # The classroom's own rules held the first eleven exercises; `gateway` and `security`
    # (lessons 12 and 13) are the first whose grants are derived from the registry alone: one
    # rule per new kind, the cluster-wide read of GatewayClasses, and verify's questions,
    # refusals still last. (security's patch of its namespace was granted already.)
    group = "gateway.networking.k8s.io"
    assert ROLE_RULES == [*rights._ROLE_RULES,
                          {"apiGroups": [group], "resources": ["gateways"],
                           "verbs": rights.WRITE},
                          {"apiGroups": [group], "resources": ["httproutes"],
                           "verbs": rights.WRITE},
                          {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"],
                           "verbs": rights.WRITE}]
    assert cluster_role["rules"] == [*rights._cluster_rules("student-ann"),
                                     {"apiGroups": [group], "resources": ["gatewayclasses"],
                                      "verbs": rights.READ}]
    added = [r.label for r in RIGHTS[len(rights._ALLOWED):-len(rights._REFUSED)]]
    assert added == [f"create gateways.{group}", f"create httproutes.{group}",
                     "create networkpolicies.networking.k8s.io",
                     f"list gatewayclasses.{group} cluster-wide"]
    assert RIGHTS[:len(rights._ALLOWED)] == rights._ALLOWED
    assert RIGHTS[-len(rights._REFUSED):] == rights._REFUSED


def test_no_rule_grants_escalation_or_wildcards():
    for rule in ROLE_RULES:
        assert not {"bind", "escalate", "impersonate", "*"} & set(rule["verbs"]), rule
        assert "*" not in rule["resources"] and "*" not in rule["apiGroups"], rule
    assert not any("serviceaccounts/token" in r["resources"] for r in ROLE_RULES)


def test_both_ways_every_kind_of_place():
    places = {(r.where, r.allowed) for r in RIGHTS}
    assert {(OWN, True), (OWN, False), (OTHER, False), (CLUSTER, True),
            (CLUSTER, False)} <= places


@pytest.mark.parametrize("right, label", [
    (Right("create", "pods", subresource="eviction"), "create pods/eviction"),
    (Right("list", "pods", where=OTHER, allowed=False), "list pods in another namespace"),
    (Right("patch", "namespaces", where=CLUSTER, name=OWN), "patch namespaces (own) "
                                                            "cluster-wide"),
    (Right("bind", "clusterroles", "rbac.authorization.k8s.io", name="cluster-admin"),
     "bind clusterroles.rbac.authorization.k8s.io/cluster-admin"),
])
def test_labels(right, label):
    assert right.label == label


def test_student_objects_are_labelled_and_bound_to_the_students_account():
    objects = student_objects(ANN)
    assert [o["kind"] for o in objects] == ["ServiceAccount", "Role", "RoleBinding",
                                           "ClusterRole", "ClusterRoleBinding"]
    for obj in objects:
        assert obj["metadata"]["labels"][MANAGED_BY] == "rwk-classroom"
    for binding in (objects[2], objects[4]):
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "student",
                                        "namespace": "student-ann"}]
    assert objects[4]["roleRef"]["name"] == cluster_name(ANN) == "rwk-classroom:student-ann"


def test_the_policy_and_its_binding():
    policy, binding = policy_objects()
    assert policy["metadata"]["name"] == binding["spec"]["policyName"] == POLICY
    assert binding["spec"]["validationActions"] == ["Deny"]
    spec = policy["spec"]
    assert spec["failurePolicy"] == "Fail"
    names = [v["name"] for v in spec["variables"]]
    assert len(names) == len(set(names))
    for validation in spec["validations"]:
        assert validation["expression"].startswith("!variables.classroomNamespace")
        assert validation.get("message") or validation.get("messageExpression")
    # Only service accounts acting on their own namespace: never the instructor.
    (condition,) = spec["matchConditions"]
    assert "system:serviceaccount:" in condition["expression"]


def test_holds_and_describe():
    live = {"a": 1, "b": {"c": [1, {"d": 2, "e": 3}]}, "status": {}}
    assert holds(live, {"b": {"c": [1, {"d": 2}]}})
    assert not holds(live, {"b": {"c": [1]}})
    assert not holds(live, {"b": {"c": [1, {"d": 5}]}})
    assert not holds(live, {"z": 1})
    assert describe([]) == "unchanged"
    assert describe(["created Namespace", "created Role", "repaired RoleBinding",
                     "wrote ann.kubeconfig (a new token, 12 h)"]) == \
        "created Namespace, Role; repaired RoleBinding; wrote ann.kubeconfig (a new token, 12 h)"
