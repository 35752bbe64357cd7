"""`probes`: the reference passes every criterion; each broken variant fails the criterion it
breaks, with a message that names the mistake."""

from __future__ import annotations

import pytest

from .conftest import get
from .exercise_helpers import (app_container, apply_docs, by_id, passes_read_only, reference,
                               variant)
from .grading_helpers import expect_failure, settled

pytestmark = pytest.mark.cluster

EXERCISE = "probes"


def liveness(docs) -> dict:
    return app_container(docs)["livenessProbe"]


def readiness(docs) -> dict:
    return app_container(docs)["readinessProbe"]


def test_reference_passes(sandbox, kubectl, namespace, tmp_path):
    apply_docs(kubectl, reference(EXERCISE, namespace))
    report = settled(sandbox, EXERCISE, namespace)
    assert report.passed and report.score == report.max_score == 7, report.to_text()
    passes_read_only(sandbox, EXERCISE, namespace, tmp_path)


def _named_ports(docs):
    liveness(docs)["httpGet"]["port"] = "http"
    readiness(docs)["httpGet"]["port"] = "http"


def _startup_guard(docs):
    liveness(docs)["initialDelaySeconds"] = 0
    app_container(docs)["startupProbe"] = {"httpGet": {"path": "/healthz", "port": 8080},
                                           "periodSeconds": 5, "failureThreshold": 12}


@pytest.mark.parametrize("mutate", [_named_ports, _startup_guard],
                         ids=["named port http", "startupProbe guards a liveness delay of 0"])
def test_equivalent_solutions_also_pass(sandbox, kubectl, namespace, mutate):
    apply_docs(kubectl, variant(mutate)(reference(EXERCISE, namespace)))
    report = settled(sandbox, EXERCISE, namespace)
    if mutate is _startup_guard:
        assert "the startupProbe guards the start (60s)" in by_id(report)[
            "liveness-not-aggressive"].message


def _short_startup(docs):
    _startup_guard(docs)
    app_container(docs)["startupProbe"].update(periodSeconds=2, failureThreshold=2)


# name: (mutation, criterion, message fragments, criteria the same mistake also breaks)
VARIANTS = {
    "port 9898, podinfo's default": (
        lambda d: liveness(d)["httpGet"].update(port=9898),
        "liveness-probe", ["livenessProbe.httpGet.port is 9898, expected 8080: 9898 is "
                           "podinfo's default port, but the app is started with --port=8080"],
        ()),
    "readiness path /ready": (
        lambda d: readiness(d)["httpGet"].update(path="/ready"),
        "readiness-probe", ["readinessProbe.httpGet.path is '/ready', expected '/readyz' "
                            "(podinfo serves readiness at /readyz"], ()),
    "readiness on the liveness endpoint": (
        lambda d: readiness(d)["httpGet"].update(path="/healthz"),
        "readiness-probe", ["path is '/healthz', expected '/readyz' (that is the "
                            "livenessProbe endpoint)"], ()),
    "liveness failureThreshold 1": (
        lambda d: liveness(d).update(failureThreshold=1),
        "liveness-not-aggressive", ["livenessProbe.failureThreshold is 1: a single slow "
                                    "answer"], ()),
    "readiness probe missing": (
        lambda d: app_container(d).pop("readinessProbe"),
        "readiness-probe", ["container api-server has no readinessProbe - without one, a pod "
                            "receives traffic as soon as its container starts"], ()),
    "named port that does not exist": (
        lambda d: liveness(d)["httpGet"].update(port="web"),
        "liveness-probe", ["livenessProbe.httpGet.port is 'web', but container api-server "
                           "has no port named 'web' (its ports: http=8080)"], ()),
    "named port of another number": (
        lambda d: [app_container(d)["ports"].append({"name": "metrics", "containerPort": 9797}),
                   readiness(d)["httpGet"].update(port="metrics")],
        "readiness-probe", ["readinessProbe.httpGet.port is 'metrics' (named port 'metrics' "
                            "is 9797), expected 8080"], ()),
    "liveness initialDelaySeconds left out": (
        lambda d: liveness(d).pop("initialDelaySeconds"),
        "liveness-not-aggressive", ["livenessProbe.initialDelaySeconds is 0 (the default) "
                                    "and no startupProbe guards it: the container is probed "
                                    "before the app has started"], ()),
    "startupProbe too short to guard": (
        _short_startup, "liveness-not-aggressive",
        ["the startupProbe gives the app only 4s to start"], ()),
    "liveness by tcpSocket": (
        lambda d: app_container(d).update(livenessProbe={"tcpSocket": {"port": 8080},
                                                         "initialDelaySeconds": 15}),
        "liveness-probe", ["livenessProbe uses tcpSocket, expected httpGet on /healthz port "
                           "8080"], ()),
    "liveness probe missing": (
        lambda d: app_container(d).pop("livenessProbe"),
        "liveness-probe", ["container api-server has no livenessProbe"],
        {"liveness-not-aggressive"}),
    "HTTPS scheme": (
        lambda d: liveness(d)["httpGet"].update(scheme="HTTPS"),
        "liveness-probe", ["livenessProbe.httpGet.scheme is 'HTTPS': podinfo serves plain "
                           "HTTP"], ()),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_fails_its_criterion(sandbox, kubectl, namespace, name):
    mutate, criterion, fragments, also = VARIANTS[name]
    apply_docs(kubectl, variant(mutate)(reference(EXERCISE, namespace)))
    expect_failure(sandbox, EXERCISE, namespace, criterion, *fragments, also=also)


def test_unready_pod_fails_pods_ready(sandbox, kubectl, namespace):
    apply_docs(kubectl, reference(EXERCISE, namespace))
    settled(sandbox, EXERCISE, namespace)
    pod = get(kubectl, namespace, "pods", "-l", "app=api-server")["items"][0]["metadata"]["name"]
    # The sandbox's documented readiness switch: this pod's readiness probe starts failing.
    assert kubectl("-n", namespace, "label", "pod", pod, "sandbox.rwk/readiness=fail").ok
    expect_failure(sandbox, EXERCISE, namespace, "probes-pods-ready",
                   "Deployment api-server is not rolled out: updated 3/3, ready 2/3",
                   f"pod {pod} is Running but not Ready: readiness probe failed")


def test_crash_looping_pod_fails_pods_ready(sandbox, kubectl, namespace):
    apply_docs(kubectl, reference(EXERCISE, namespace))
    settled(sandbox, EXERCISE, namespace)
    pod = get(kubectl, namespace, "pods", "-l", "app=api-server")["items"][0]["metadata"]["name"]
    # What a failing liveness probe looks like from outside: restarts, then back-off.
    assert kubectl("-n", namespace, "label", "pod", pod, "sandbox.rwk/crash=true").ok
    expect_failure(sandbox, EXERCISE, namespace, "probes-pods-ready", f"pod {pod}: container "
                   "api-server", "restarted", timeout=60)
