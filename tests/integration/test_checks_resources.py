"""`resources`: the reference passes every criterion; each broken variant fails the criterion
it breaks, with a message that names the mistake."""

from __future__ import annotations

import pytest
import yaml

from .conftest import get
from .exercise_helpers import (app_container, apply_docs, by_id, find, passes_read_only, reference,
                               variant)
from .grading_helpers import expect_failure, settled

pytestmark = pytest.mark.cluster

EXERCISE = "resources"


def resources(docs) -> dict:
    return app_container(docs)["resources"]


def test_reference_passes(sandbox, kubectl, namespace, tmp_path):
    apply_docs(kubectl, reference(EXERCISE, namespace))
    report = settled(sandbox, EXERCISE, namespace)
    assert report.passed and report.score == report.max_score == 5, report.to_text()
    passes_read_only(sandbox, EXERCISE, namespace, tmp_path)


def test_same_amounts_spelt_otherwise_pass(sandbox, kubectl, namespace):
    docs = reference(EXERCISE, namespace)
    app_container(docs)["resources"] = {"requests": {"cpu": "0.1", "memory": "134217728"},
                                        "limits": {"cpu": 0.5, "memory": "0.5Gi"}}
    apply_docs(kubectl, docs)
    assert settled(sandbox, EXERCISE, namespace).passed


def _limits_only(docs):
    resources(docs).pop("requests")


def _sidecar(docs):
    spec = find(docs, "Deployment")["spec"]["template"]["spec"]
    spec["containers"].append({"name": "log-shipper", "image": "busybox:1.36",
                               "args": ["sleep", "infinity"]})


# name: (mutation, criterion, message fragments, criteria the same mistake also breaks)
VARIANTS = {
    "128M for 128Mi": (
        lambda d: resources(d)["requests"].update(memory="128M"),
        "resources-values", ["resources.requests.memory is '128M' (128,000,000 bytes: M is a "
                             "power of 10, Mi a power of 2), expected 128Mi (134,217,728 "
                             "bytes)"], ()),
    "limits only": (
        _limits_only, "resources-set",
        ["container api-server: resources.requests.cpu, resources.requests.memory not set",
         "Kubernetes silently sets the request to the limit: cpu 500m, memory 512Mi"],
        {"resources-values"}),
    "memory limit missing": (
        lambda d: resources(d)["limits"].pop("memory"),
        "resources-set", ["container api-server: resources.limits.memory not set"],
        {"resources-values"}),
    "a second container without resources": (
        _sidecar, "resources-set",
        ["container log-shipper: resources.requests.cpu, resources.requests.memory, "
         "resources.limits.cpu, resources.limits.memory not set"], ()),
    "lower-case m for memory": (
        lambda d: resources(d)["requests"].update(memory="128m"),
        "resources-values", ["resources.requests.memory is '128m' (0.128 bytes: a lower-case "
                             "m means milli, a thousandth; memory takes Mi)"], ()),
    "no resources at all": (
        lambda d: app_container(d).pop("resources"),
        "resources-rolled-out", ["container api-server of Deployment api-server sets no "
                                 "resources (neither resources.requests nor resources.limits)"],
        {"resources-set", "resources-values"}),
    "another cpu amount": (
        lambda d: resources(d)["limits"].update(cpu="1"),
        "resources-values", ["resources.limits.cpu is '1' (1 core), expected 500m (0.5 "
                             "cores)"], ()),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_fails_its_criterion(sandbox, kubectl, namespace, name):
    mutate, criterion, fragments, also = VARIANTS[name]
    apply_docs(kubectl, variant(mutate)(reference(EXERCISE, namespace)))
    expect_failure(sandbox, EXERCISE, namespace, criterion, *fragments, also=also)


def test_limits_only_pods_get_requests_equal_to_limits(sandbox, kubectl, namespace):
    """What the message says is what the cluster does: requests default to the limits."""
    apply_docs(kubectl, variant(_limits_only)(reference(EXERCISE, namespace)))
    settled(sandbox, EXERCISE, namespace, {"resources-set", "resources-values"})
    pods = get(kubectl, namespace, "pods", "-l", "app=api-server")["items"]
    assert pods and all(p["spec"]["containers"][0]["resources"]["requests"] ==
                        {"cpu": "500m", "memory": "512Mi"} for p in pods)


def test_requests_above_limits_is_refused_and_the_hint_says_so(sandbox, kubectl, namespace):
    docs = reference(EXERCISE, namespace)
    apply_docs(kubectl, docs)
    resources(docs)["requests"]["cpu"] = "1"
    refused = kubectl("apply", "-f", "-", input=yaml.safe_dump_all(docs))
    assert not refused.ok and "must be less than or equal to cpu limit" in refused.output
    # The cluster keeps what it had; the hint tells the student why the change never landed.
    report = settled(sandbox, EXERCISE, namespace)
    assert report.passed
    assert "rejected by the API server" in by_id(report)["resources-set"].hint


def test_cpu_in_cores_instead_of_millicores_cannot_be_scheduled(sandbox, kubectl, namespace):
    docs = reference(EXERCISE, namespace)
    resources(docs)["requests"]["cpu"] = "100"
    resources(docs)["limits"]["cpu"] = "500"
    apply_docs(kubectl, docs)
    report = expect_failure(sandbox, EXERCISE, namespace, "resources-rolled-out",
                            "is Pending, not scheduled (Unschedulable)", "Insufficient cpu",
                            also={"resources-values"})
    values = by_id(report)["resources-values"].message
    assert ("resources.requests.cpu is '100' (100 cores: m means millicores, a thousandth of a "
            "core), expected 100m") in values, values


def test_limit_range_default_below_the_request_refuses_every_pod(sandbox, kubectl, namespace):
    docs = reference(EXERCISE, namespace)
    resources(docs)["requests"]["memory"] = "1Gi"
    resources(docs)["limits"].pop("memory")
    docs.insert(0, {"apiVersion": "v1", "kind": "LimitRange",
                 "metadata": {"name": "defaults", "namespace": namespace},
                 "spec": {"limits": [{"type": "Container", "default": {"memory": "512Mi"}}]}})
    apply_docs(kubectl, docs)
    expect_failure(sandbox, EXERCISE, namespace, "resources-rolled-out",
                   "cannot create pods (FailedCreate)",
                   "must be less than or equal to memory limit",
                   also={"resources-set", "resources-values"})
