"""`disruptions`: the reference passes every criterion, each broken variant fails the
criterion it breaks; and Kubernetes itself holds a drain that the budget forbids."""

from __future__ import annotations

import json

import pytest

from .conftest import get, wait_for
from .exercise_helpers import apply_docs, by_id, find, graded, passes_read_only, reference
from .rollout_helpers import assert_only, fast, rollout

pytestmark = pytest.mark.cluster

EXERCISE = "disruptions"


def budget(docs):
    return find(docs, "PodDisruptionBudget", "api-server-pdb")


def app(docs):
    return find(docs, "Deployment", "api-server")["spec"]["template"]["spec"]["containers"][0]


def frontend(namespace: str) -> dict:
    """A second, audit-clean app, so a budget can select too much."""
    docs = fast(reference(EXERCISE, namespace))
    dep = find(docs, "Deployment", "api-server")
    dep["metadata"]["name"] = "frontend"
    dep["spec"]["replicas"] = 1
    dep["spec"]["selector"]["matchLabels"] = {"app": "frontend"}
    dep["spec"]["template"]["metadata"]["labels"] = {"app": "frontend"}
    return dep


def applied(kubectl, namespace: str, docs) -> None:
    apply_docs(kubectl, docs)
    rollout(kubectl, namespace)


def test_reference_passes(sandbox, kubectl, namespace, tmp_path):
    apply_docs(kubectl, reference(EXERCISE, namespace))
    report = graded(sandbox, EXERCISE, namespace, wait=60)
    assert report.passed, report.to_text()
    passes_read_only(sandbox, EXERCISE, namespace, tmp_path)


def test_min_available_2_passes_too(sandbox, kubectl, namespace):
    docs = fast(reference(EXERCISE, namespace))
    budget(docs)["spec"] = {"minAvailable": 2, "selector": {"matchLabels": {"app": "api-server"}}}
    applied(kubectl, namespace, docs)
    report = graded(sandbox, EXERCISE, namespace)
    assert report.passed, report.to_text()


def _second_budget(docs):
    extra = json.loads(json.dumps(budget(docs)))
    extra["metadata"]["name"] = "api-server-extra"
    docs.append(extra)


def _selects_frontend_too(docs):
    docs.append(frontend(budget(docs)["metadata"]["namespace"]))
    budget(docs)["spec"]["selector"] = {"matchExpressions": [
        {"key": "app", "operator": "In", "values": ["api-server", "frontend"]}]}


def _no_readiness_probe(docs):
    app(docs).pop("readinessProbe")


AUDIT = {"audit-clean"}
"""A budget that protects nothing, or forbids every eviction, is an audit finding too."""

VARIANTS = {
    "selector matching no pod": (
        lambda d: budget(d)["spec"].update(selector={"matchLabels": {"app": "apiserver"}}),
        "pdb-selects-app", "spec.selector app=apiserver matches no pod in namespace", AUDIT),
    "selector matching frontend too": (
        _selects_frontend_too, "pdb-selects-app",
        "spec.selector app in (api-server,frontend) also selects 1 pod(s) that are not "
        "api-server's: frontend-", set()),
    "selector matching one version only": (
        lambda d: budget(d)["spec"]["selector"]["matchLabels"].update(track="canary"),
        "pdb-selects-app", "spec.selector app=api-server,track=canary matches no pod", AUDIT),
    "two budgets on the same pods": (
        _second_budget, "pdb-selects-app", "selected by PodDisruptionBudget api-server-pdb and "
        "also by api-server-extra: the eviction API refuses pods that more than one budget "
        "covers", AUDIT),
    "minAvailable 3": (
        lambda d: budget(d)["spec"].update(minAvailable=3, maxUnavailable=None),
        "pdb-allows-one", "minAvailable 3 with 3 pods allows no disruption, so `kubectl drain` "
        "waits forever", AUDIT),
    "minAvailable 1": (
        lambda d: budget(d)["spec"].update(minAvailable=1, maxUnavailable=None),
        "pdb-allows-one", "minAvailable 1 with 3 pods allows 2 pods down at once, expected 1 "
        "(keep at least 2 of 3)", set()),
    "maxUnavailable 50%": (
        lambda d: budget(d)["spec"].update(maxUnavailable="50%"),
        "pdb-allows-one", "maxUnavailable 50% with 3 pods allows 2 pods down at once", set()),
    "no readiness probe": (
        _no_readiness_probe, "audit-clean", "rwk audit finds 1 pitfall(s): Deployment "
        "api-server, container api-server: no-readiness-probe", set()),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_fails_its_criterion(sandbox, kubectl, namespace, name):
    mutate, criterion, fragment, ignore = VARIANTS[name]
    docs = fast(reference(EXERCISE, namespace))
    mutate(docs)
    for doc in docs:   # `None` above removes the field
        if doc["kind"] == "PodDisruptionBudget":
            doc["spec"] = {k: v for k, v in doc["spec"].items() if v is not None}
    applied(kubectl, namespace, docs)
    assert_only(graded(sandbox, EXERCISE, namespace), criterion, fragment, ignore=ignore)


def test_no_budget_at_all(sandbox, kubectl, namespace):
    docs = fast(reference(EXERCISE, namespace))
    docs.remove(budget(docs))
    applied(kubectl, namespace, docs)
    report = graded(sandbox, EXERCISE, namespace)
    results = by_id(report)
    assert "no PodDisruptionBudget 'api-server-pdb'" in results["pdb-selects-app"].message
    assert "Deployment api-server: no-pdb" in results["audit-clean"].message


# --- what the budget does to `kubectl drain` ------------------------------------------------

def _nodes_of(kubectl, namespace: str) -> list[str]:
    pods = get(kubectl, namespace, "pods", "-l", "app=api-server")["items"]
    return sorted({p["spec"].get("nodeName") for p in pods if p["spec"].get("nodeName")})


def _drain(kubectl, node: str, timeout: str):
    return kubectl("drain", node, "--ignore-daemonsets", "--delete-emptydir-data",
                   "--pod-selector=app=api-server", f"--timeout={timeout}", timeout=120)


def test_drain_is_held_by_a_budget_that_allows_no_disruption(sandbox, kubectl, namespace):
    docs = fast(reference(EXERCISE, namespace))
    budget(docs)["spec"] = {"minAvailable": 3, "selector": {"matchLabels": {"app": "api-server"}}}
    applied(kubectl, namespace, docs)
    wait_for(lambda: get(kubectl, namespace, "pdb", "api-server-pdb").get("status", {})
             .get("currentHealthy") == 3, 30, "the budget to count 3 healthy pods")
    node = _nodes_of(kubectl, namespace)[0]
    try:
        drained = _drain(kubectl, node, "6s")
        assert not drained.ok, drained.output
        assert "violate the pod's disruption budget" in drained.output, drained.output
        # Nothing was evicted: all three pods still run.
        pods = get(kubectl, namespace, "pods", "-l", "app=api-server")["items"]
        assert len([p for p in pods if not p["metadata"].get("deletionTimestamp")]) == 3
    finally:
        kubectl("uncordon", node)
    assert "allows no disruption" in by_id(graded(sandbox, EXERCISE, namespace))[
        "pdb-allows-one"].message


def test_drain_goes_through_the_reference_budget_one_pod_at_a_time(sandbox, kubectl,
                                                                   namespace):
    applied(kubectl, namespace, fast(reference(EXERCISE, namespace)))
    node = _nodes_of(kubectl, namespace)[0]
    try:
        drained = _drain(kubectl, node, "60s")
        assert drained.ok, drained.output
        assert "evicted" in drained.output
        rollout(kubectl, namespace)
        assert node not in _nodes_of(kubectl, namespace)
    finally:
        kubectl("uncordon", node)
    report = graded(sandbox, EXERCISE, namespace, wait=30)
    assert report.passed, report.to_text()
