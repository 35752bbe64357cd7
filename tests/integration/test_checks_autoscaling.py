"""`autoscaling`: the reference passes every criterion; each broken variant fails the criterion
it breaks, with a message that names the mistake.

Only the cases that need the HPA controller wait for it: metrics-server has figures for new
pods after about a minute, and the HPA syncs every 15 s. Those four (`WAITING`) are applied
together, each in a namespace of its own, when the first of them starts, so that their waits
overlap instead of following one another. The other tests leave out the two criteria that
need the HPA's syncs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from kubernetes import client

from checker.clusters.base import Kubectl

from .conftest import fresh_namespace
from .exercise_helpers import (Docs, app_container, apply_docs, by_id, find, passes_read_only,
                               reference, variant)
from .grading_helpers import expect_failure, settled

pytestmark = [pytest.mark.cluster, pytest.mark.cost(8)]   # about 90 s for the module

EXERCISE = "autoscaling"
METRICS_WAIT = 90
LIVE = {"hpa-scaling-active", "hpa-replicas-in-bounds"}
"""Criteria that need the HPA controller's syncs and metrics: slow to settle."""


def hpa(docs) -> dict:
    return find(docs, "HorizontalPodAutoscaler")["spec"]


def resources(docs) -> dict:
    return app_container(docs)["resources"]


def _misspelt_target(docs: Docs) -> None:
    hpa(docs)["scaleTargetRef"].update(name="api-servr")


def _without_cpu(docs: Docs) -> None:
    for field in ("requests", "limits"):
        resources(docs)[field].pop("cpu")


WAITING: dict[str, Callable[[Docs], None]] = {
    "reference": lambda docs: None,
    "no cpu": _without_cpu,
    "missing target": _misspelt_target,
    "scaled to zero": lambda docs: find(docs, "Deployment")["spec"].update(replicas=0),
}
"""The cases that wait for the HPA controller, by name: how each changes the reference."""


@pytest.fixture(scope="module")
def waiting(api: client.ApiClient, kubectl: Kubectl) -> Iterator[dict[str, str]]:
    """The namespace of each `WAITING` case, a fresh one each, with the case applied in it."""
    with ExitStack() as namespaces:
        names = {case: namespaces.enter_context(fresh_namespace(api, f"autoscaling {case}"))
                 for case in WAITING}
        for case, mutate in WAITING.items():
            apply_docs(kubectl, variant(mutate)(reference(EXERCISE, names[case])))
        yield names


def test_reference_passes(sandbox, waiting, tmp_path):
    namespace = waiting["reference"]
    report = settled(sandbox, EXERCISE, namespace, timeout=METRICS_WAIT)
    assert report.passed and report.score == report.max_score == 10, report.to_text()
    passes_read_only(sandbox, EXERCISE, namespace, tmp_path)   # HPA status read too


def test_no_cpu_requests_keep_scaling_inactive(sandbox, waiting):
    report = expect_failure(
        sandbox, EXERCISE, waiting["no cpu"], "hpa-scaling-active",
        "reports ScalingActive=False (FailedGetResourceMetric)", "missing request for cpu",
        "utilization is usage divided by the request", also={"hpa-target-requests"},
        timeout=METRICS_WAIT)
    requests = by_id(report)["hpa-target-requests"]
    assert not requests.passed
    assert ("Deployment api-server: container api-server has no resources.requests.cpu: the "
            "HPA measures utilization as usage divided by the request") in requests.message
    assert "utilization needs requests" in by_id(report)["hpa-scaling-active"].hint


def test_requests_defaulted_from_limits_pass_with_a_note(sandbox, kubectl, namespace):
    docs = reference(EXERCISE, namespace)
    resources(docs)["requests"].pop("cpu")
    apply_docs(kubectl, docs)
    report = settled(sandbox, EXERCISE, namespace, LIVE)
    assert "the pods get requests (api-server cpu) from a limit" in by_id(report)[
        "hpa-target-requests"].message


def _value_not_utilization(docs):
    hpa(docs)["metrics"][0]["resource"]["target"] = {"type": "AverageValue",
                                                     "averageValue": "350m"}


# name: (mutation, criterion, message fragments, criteria the same mistake also breaks)
VARIANTS = {
    "averageValue instead of averageUtilization": (
        _value_not_utilization, "hpa-metrics",
        ["spec.metrics[0] (cpu) target is type AverageValue with averageValue 350m: that is "
         "an absolute amount; the task asks type Utilization with averageUtilization 70"], ()),
    "another utilization": (
        lambda d: hpa(d)["metrics"][0]["resource"]["target"].update(averageUtilization=50),
        "hpa-metrics", ["spec.metrics[0] (cpu) target.averageUtilization is 50, expected 70"],
        ()),
    "memory metric missing": (
        lambda d: hpa(d)["metrics"].pop(1),
        "hpa-metrics", ["no memory metric (spec.metrics has: cpu Utilization 70%)"], ()),
    "bounds left at their defaults": (
        lambda d: [hpa(d).pop("minReplicas"), hpa(d).update(maxReplicas=10)],
        "hpa-bounds", ["spec.minReplicas is 1 (the default when not set), expected 2; "
                       "spec.maxReplicas is 10, expected 20"], ()),
    "scaleTargetRef names a missing Deployment": (
        _misspelt_target, "hpa-target",
        ["spec.scaleTargetRef.name is 'api-servr', expected 'api-server'",
         "it names Deployment 'api-servr', which does not exist in namespace",
         "(found 'api-server': misspelt?)"], {"hpa-target-requests"}),
    "scaleTargetRef with an old apiVersion": (
        lambda d: hpa(d)["scaleTargetRef"].update(apiVersion="extensions/v1beta1"),
        "hpa-target", ["spec.scaleTargetRef.apiVersion is 'extensions/v1beta1', expected "
                       "'apps/v1'"], ()),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_fails_its_criterion(sandbox, kubectl, namespace, name):
    mutate, criterion, fragments, also = VARIANTS[name]
    apply_docs(kubectl, variant(mutate)(reference(EXERCISE, namespace)))
    expect_failure(sandbox, EXERCISE, namespace, criterion, *fragments, also={*also, *LIVE})


def test_missing_target_leaves_replicas_unknown(sandbox, waiting):
    report = expect_failure(
        sandbox, EXERCISE, waiting["missing target"], "hpa-replicas-in-bounds",
        "has not read its target's replica count yet", 'deployments.apps "api-servr" not found',
        also={"hpa-target", "hpa-target-requests", "hpa-scaling-active"}, timeout=45)
    assert 'deployments.apps "api-servr" not found' in by_id(report)["hpa-scaling-active"].message


def test_target_scaled_to_zero_is_out_of_bounds(sandbox, waiting):
    report = expect_failure(
        sandbox, EXERCISE, waiting["scaled to zero"], "hpa-replicas-in-bounds",
        "status.currentReplicas is 0, outside minReplicas 2 .. maxReplicas 20: a target scaled "
        "to 0 turns the HPA off", also={"hpa-scaling-active"}, timeout=45)
    assert "ScalingDisabled" in by_id(report)["hpa-scaling-active"].message
