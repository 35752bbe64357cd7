"""`rolling-updates`: the reference (applied, updated to 6.7.1, rolled back) passes every
criterion; each broken variant fails the criterion it breaks, with the intended message."""

from __future__ import annotations

import pytest

from .exercise_helpers import apply_docs, by_id, find, graded, passes_read_only, reference
from .conftest import wait_for
from .rollout_helpers import PODINFO, assert_only, fast, rollout

pytestmark = pytest.mark.cluster

EXERCISE = "rolling-updates"


def update(kubectl, namespace: str) -> None:
    rollout(kubectl, namespace, "set", "image", "deployment/api-server",
            f"api-server={PODINFO}:6.7.1")


def undo(kubectl, namespace: str) -> None:
    rollout(kubectl, namespace, "rollout", "undo", "deployment/api-server")


def deployment(docs):
    return find(docs, "Deployment", "api-server")


def test_reference_passes_after_update_and_rollback(sandbox, kubectl, namespace, tmp_path):
    apply_docs(kubectl, reference(EXERCISE, namespace))     # as committed: real pod delays
    rollout(kubectl, namespace)
    update(kubectl, namespace)
    undo(kubectl, namespace)
    report = graded(sandbox, EXERCISE, namespace, wait=30)
    assert report.passed, report.to_text()
    assert "tag 6.7.1 was revision 2; the current revision is 3" in \
        by_id(report)["rollout-updated-then-undone"].message
    passes_read_only(sandbox, EXERCISE, namespace, tmp_path)


def test_updated_but_never_rolled_back(sandbox, kubectl, namespace):
    apply_docs(kubectl, fast(reference(EXERCISE, namespace)))
    rollout(kubectl, namespace)
    update(kubectl, namespace)
    report = graded(sandbox, EXERCISE, namespace)
    assert_only(report, "rollout-updated-then-undone", "(tag 6.7.1) is the current revision 2: "
                "the update happened but was never rolled back", ignore={"rollout-current-tag"})
    assert_only(report, "rollout-current-tag", "tag '6.7.1', expected '6.7.0' (the update is "
                "still in place: roll it back)", ignore={"rollout-updated-then-undone"})


def test_rollback_undone_again(sandbox, kubectl, namespace):
    apply_docs(kubectl, fast(reference(EXERCISE, namespace)))
    rollout(kubectl, namespace)
    update(kubectl, namespace)
    undo(kubectl, namespace)
    undo(kubectl, namespace)   # `undo` of an undo goes forward to 6.7.1 again
    report = graded(sandbox, EXERCISE, namespace)
    assert_only(report, "rollout-updated-then-undone", "(tag 6.7.1) is the current revision 4 "
                "(it was revision 2 before: the rollback was itself undone",
                ignore={"rollout-current-tag"})


def test_never_updated(sandbox, kubectl, namespace):
    apply_docs(kubectl, fast(reference(EXERCISE, namespace)))
    rollout(kubectl, namespace)
    assert_only(graded(sandbox, EXERCISE, namespace), "rollout-updated-then-undone",
                "Deployment api-server is at revision 1: tag 6.7.1 was never rolled out")


def test_revision_history_limit_zero(sandbox, kubectl, namespace):
    docs = fast(reference(EXERCISE, namespace))
    deployment(docs)["spec"]["revisionHistoryLimit"] = 0
    apply_docs(kubectl, docs)
    rollout(kubectl, namespace)
    update(kubectl, namespace)
    # With no history kept, `rollout undo` has nothing to return to: the student can only
    # apply 6.7.0 again, which makes a new revision.
    rollout(kubectl, namespace, "set", "image", "deployment/api-server",
            f"api-server={PODINFO}:6.7.0")
    report = graded(sandbox, EXERCISE, namespace)
    assert_only(report, "rollout-history-kept", "spec.revisionHistoryLimit is 0",
                ignore={"rollout-updated-then-undone"})
    assert "spec.revisionHistoryLimit 0 deleted the old ones" in \
        by_id(report)["rollout-updated-then-undone"].message


STRATEGY_VARIANTS = {
    "maxUnavailable 1": (
        lambda d: d["spec"]["strategy"]["rollingUpdate"].update(maxUnavailable=1),
        "rollout-strategy", "spec.strategy.rollingUpdate.maxUnavailable is 1, expected 0 so a "
        "pod can stop before its replacement is Ready"),
    "maxSurge 34% resolves to 2": (
        lambda d: d["spec"]["strategy"]["rollingUpdate"].update(maxSurge="34%"),
        "rollout-strategy", "maxSurge is '34%' resolves to 2 of 3 replicas (rounded up), "
        "expected 1"),
    "Recreate": (
        lambda d: d["spec"].update(strategy={"type": "Recreate"}),
        "rollout-strategy", "spec.strategy.type is 'Recreate', expected 'RollingUpdate'"),
    "2 replicas": (
        lambda d: d["spec"].update(replicas=2),
        "rollout-replicas", "spec.replicas is 2, expected 3 (no HorizontalPodAutoscaler "
        "targets Deployment api-server)"),
}


@pytest.mark.parametrize("name", STRATEGY_VARIANTS)
def test_strategy_variant_fails_its_criterion(sandbox, kubectl, namespace, name):
    mutate, criterion, fragment = STRATEGY_VARIANTS[name]
    docs = fast(reference(EXERCISE, namespace))
    mutate(deployment(docs))
    apply_docs(kubectl, docs)
    rollout(kubectl, namespace)
    update(kubectl, namespace)
    undo(kubectl, namespace)
    assert_only(graded(sandbox, EXERCISE, namespace), criterion, fragment)


def test_percentages_that_mean_1_and_0_pass_with_a_note(sandbox, kubectl, namespace):
    docs = fast(reference(EXERCISE, namespace))
    deployment(docs)["spec"]["strategy"]["rollingUpdate"] = {"maxSurge": "33%",
                                                             "maxUnavailable": "0%"}
    apply_docs(kubectl, docs)
    rollout(kubectl, namespace)
    result = by_id(graded(sandbox, EXERCISE, namespace))["rollout-strategy"]
    assert result.passed, result.message
    assert "maxSurge '33%' resolves to 1 of 3 replicas (rounded up)" in result.message


def test_replicas_decided_by_an_hpa_pass(sandbox, kubectl, namespace):
    docs = fast(reference(EXERCISE, namespace))
    deployment(docs)["spec"]["replicas"] = 4
    docs.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                 "metadata": {"name": "api-server-hpa", "namespace": namespace},
                 "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": "api-server"},
                          "minReplicas": 2, "maxReplicas": 20,
                          "metrics": [{"type": "Resource", "resource": {
                              "name": "cpu", "target": {"type": "Utilization",
                                                        "averageUtilization": 70}}}]}})
    apply_docs(kubectl, docs)
    result = by_id(graded(sandbox, EXERCISE, namespace))["rollout-replicas"]
    assert result.passed, result.message
    assert "HorizontalPodAutoscaler api-server-hpa decides the replicas" in result.message


def test_stuck_rollout_is_not_complete(sandbox, kubectl, namespace):
    apply_docs(kubectl, fast(reference(EXERCISE, namespace)))
    rollout(kubectl, namespace)
    update(kubectl, namespace)
    undo(kubectl, namespace)
    # A change whose pods can be scheduled nowhere: maxUnavailable 0 keeps all old pods up
    # and the rollout never completes.
    done = kubectl("patch", "deployment", "api-server", "-n", namespace, "--type=merge", "-p",
                   '{"spec":{"template":{"spec":{"nodeSelector":{"disk":"nvme"}}}}}')
    assert done.ok, done.output
    # "updated 1/3" alone is what a healthy rollout in progress shows too: wait for the cause
    # (the counts themselves lag the new pod for a moment).
    cause = "is Pending, not scheduled (Unschedulable)"

    def stuck():
        report = graded(sandbox, EXERCISE, namespace)
        return report if cause in by_id(report)["rollout-complete"].message else None
    report = wait_for(stuck, 30, "the unschedulable pod's reason")
    assert_only(report, "rollout-complete", "Deployment api-server is not rolled out: "
                "updated ", cause, "node affinity/selector")
