"""`gateway`: the reference passes every criterion; each broken variant fails the criterion
it breaks, with a message that names the mistake. On the sandbox the routes' status is the
simulated controller's (checker/clusters/sandbox_gateway_stages.yaml); the variants run
again on kind (tests/kind/test_variants_on_kind.py), where Traefik writes it, so a variant
that a real controller would also refuse lists `gateway-status` among the criteria it may
break."""

from __future__ import annotations

import json

import pytest

from .exercise_helpers import apply_docs, find, passes_read_only, reference, variant
from .grading_helpers import expect_failure, settled
from .test_checks_ingress import apply_secret
from .tls_helpers import certificate, create_tls_secret

pytestmark = pytest.mark.cluster

EXERCISE = "gateway"
CRITERIA = {"gateway-class", "gateway-listeners", "gateway-redirect", "gateway-route",
            "gateway-backends", "gateway-status", "gateway-canary"}
STATUS = "gateway-status"


def backend(docs, name: str) -> dict:
    refs = find(docs, "HTTPRoute", "api")["spec"]["rules"][0]["backendRefs"]
    return next(ref for ref in refs if ref["name"] == name)


def listener(docs, name: str) -> dict:
    return next(item for item in find(docs, "Gateway")["spec"]["listeners"]
                if item["name"] == name)


def redirect_filter(docs) -> dict:
    return find(docs, "HTTPRoute", "api-redirect")["spec"]["rules"][0]["filters"][0]


def test_reference_passes(sandbox, kubectl, namespace, tmp_path):
    create_tls_secret(kubectl, namespace, tmp_path)
    apply_docs(kubectl, reference(EXERCISE, namespace))
    report = settled(sandbox, EXERCISE, namespace)
    assert report.passed and report.score == report.max_score == 12, report.to_text()
    assert {r.id for r in report.results} == CRITERIA
    # The routes, the Gateway and the TLS Secret's type read with read-only credentials too.
    passes_read_only(sandbox, EXERCISE, namespace, tmp_path)


# name: (mutation of the manifests, criterion, message fragments, criteria it also breaks)
VARIANTS = {
    "backend port 8080, the pods' port": (
        lambda d: backend(d, "api-server").update(port=8080), "gateway-backends",
        ["backendRef api-server:8080: Service api-server has no port 8080 (its ports: "
         "80 -> 8080): 8080 is its targetPort, where the pods listen"], {STATUS}),
    "weights 10/90, swapped": (
        lambda d: [backend(d, "api-server").update(weight=10),
                   backend(d, "api-server-canary").update(weight=90)], "gateway-route",
        ["the weights are api-server 10, api-server-canary 90, expected api-server 90, "
         "api-server-canary 10: swapped"], ()),
    "no weights at all (1 each: 50/50)": (
        lambda d: [backend(d, name).pop("weight") for name in ("api-server",
                                                               "api-server-canary")],
        "gateway-route", ["the weights are api-server 1, api-server-canary 1"], ()),
    "route api attached to listener http (no TLS)": (
        lambda d: find(d, "HTTPRoute", "api")["spec"]["parentRefs"][0].update(
            sectionName="http"), "gateway-route",
        ["its parentRef is attached to listener 'http', expected 'https': requests to it "
         "travel without TLS"], {STATUS}),
    "route api with no sectionName (every listener)": (
        lambda d: find(d, "HTTPRoute", "api")["spec"]["parentRefs"][0].pop("sectionName"),
        "gateway-route", ["names no sectionName, so it attaches to every listener"], {STATUS}),
    "redirect without a hostname": (
        lambda d: find(d, "HTTPRoute", "api-redirect")["spec"].pop("hostnames"),
        "gateway-redirect", ["HTTPRoute api-redirect: spec.hostnames is empty, so it catches "
                             "every host its listener takes"], ()),
    "redirect with the default status (302)": (
        lambda d: redirect_filter(d)["requestRedirect"].pop("statusCode"), "gateway-redirect",
        ["the RequestRedirect filter's statusCode is 302, expected 301"], ()),
    "redirect to http": (
        lambda d: redirect_filter(d)["requestRedirect"].update(scheme="http"),
        "gateway-redirect", ["the RequestRedirect filter's scheme is 'http', expected "
                             "'https'"], ()),
    "class misspelt": (
        lambda d: find(d, "Gateway")["spec"].update(gatewayClassName="rwx"), "gateway-class",
        ["spec.gatewayClassName is 'rwx', expected 'rwk'"], {STATUS}),
    "https listener on port 8443": (
        lambda d: listener(d, "https").update(port=8443), "gateway-listeners",
        ["listener https has port 8443, expected 443"], {STATUS}),
    "https listener without its hostname": (
        lambda d: listener(d, "https").pop("hostname"), "gateway-listeners",
        ["listener https has hostname not set, expected 'api.example.com'"], ()),
    "https listener names another Secret": (
        lambda d: listener(d, "https")["tls"]["certificateRefs"][0].update(name="tls-certs"),
        "gateway-listeners", ["tls.certificateRefs names tls-certs, expected Secret "
                              "'tls-cert'"], {STATUS}),
    "backend Service misspelt": (
        lambda d: backend(d, "api-server-canary").update(name="api-server-canry"),
        "gateway-backends", ["Service 'api-server-canry' does not exist (found "
                             "'api-server-canary': misspelt?)"], {"gateway-route", STATUS}),
    "canary with two replicas": (
        lambda d: find(d, "Deployment", "api-server-canary")["spec"].update(replicas=2),
        "gateway-canary", ["spec.replicas is 2, expected 1"], ()),
    "canary on the stable image": (
        lambda d: find(d, "Deployment", "api-server-canary")["spec"]["template"]["spec"][
            "containers"][0].update(image="ghcr.io/stefanprodan/podinfo:6.7.0"),
        "gateway-canary", ["its image is ghcr.io/stefanprodan/podinfo:6.7.0, expected "
                           "ghcr.io/stefanprodan/podinfo:6.7.1"], ()),
}

ON_KIND = ("backend port 8080, the pods' port", "weights 10/90, swapped",
           "route api attached to listener http (no TLS)", "redirect without a hostname",
           "class misspelt")
"""The variants run again on kind: the mistakes EXERCISES.md names (the Opaque Secret is a test
of its own) and the class no controller serves."""


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_fails_its_criterion(sandbox, kubectl, namespace, tmp_path, name):
    mutate, criterion, fragments, also = VARIANTS[name]
    create_tls_secret(kubectl, namespace, tmp_path)
    apply_docs(kubectl, variant(mutate)(reference(EXERCISE, namespace)))
    expect_failure(sandbox, EXERCISE, namespace, criterion, *fragments, also=also)


def test_tls_secret_of_type_opaque(sandbox, kubectl, namespace):
    cert, key = certificate(["api.example.com"])
    apply_secret(kubectl, namespace, {"tls.crt": cert, "tls.key": key}, kind="Opaque")
    apply_docs(kubectl, reference(EXERCISE, namespace))
    report = expect_failure(sandbox, EXERCISE, namespace, "gateway-listeners",
                            "Secret tls-cert has type 'Opaque', expected 'kubernetes.io/tls'",
                            also={STATUS})
    assert key.decode() not in report.to_text()


def test_tls_secret_missing(sandbox, kubectl, namespace):
    apply_docs(kubectl, reference(EXERCISE, namespace))
    expect_failure(sandbox, EXERCISE, namespace, "gateway-listeners",
                   f"no Secret 'tls-cert' in namespace {namespace}", also={STATUS})


def test_a_route_its_controller_refused_fails_the_status_criterion(sandbox, kubectl, namespace,
                                                                    tmp_path):
    """What a controller writes when a backend cannot be resolved (as Traefik does on kind),
    written here by the test: the sandbox's simulated controller accepts every route."""
    create_tls_secret(kubectl, namespace, tmp_path)
    apply_docs(kubectl, reference(EXERCISE, namespace))
    settled(sandbox, EXERCISE, namespace)
    route = kubectl.json("get", "httproute", "api", "-n", namespace)
    parent = route["status"]["parents"][0]
    for condition in parent["conditions"]:
        if condition["type"] == "ResolvedRefs":
            condition.update(status="False", reason="BackendNotFound",
                             message="Service production/api-server-canary not found")
    done = kubectl("patch", "httproute", "api", "-n", namespace, "--subresource=status",
                   "--type=merge", "-p", json.dumps({"status": route["status"]}))
    assert done.ok, done.output
    expect_failure(sandbox, EXERCISE, namespace, STATUS,
                   "HTTPRoute api, parent web: ResolvedRefs is False (BackendNotFound: Service "
                   "production/api-server-canary not found)")


def test_a_route_no_controller_took_up_fails_the_status_criterion(sandbox, kubectl, namespace,
                                                                  tmp_path):
    """A route whose status names no parent web (its status cleared, as on a cluster whose
    controller ignores the class)."""
    create_tls_secret(kubectl, namespace, tmp_path)
    apply_docs(kubectl, reference(EXERCISE, namespace))
    settled(sandbox, EXERCISE, namespace)
    route = kubectl.json("get", "httproute", "api-redirect", "-n", namespace)
    parent = route["status"]["parents"][0]
    parent["parentRef"]["name"] = "elsewhere"
    done = kubectl("patch", "httproute", "api-redirect", "-n", namespace,
                   "--subresource=status", "--type=merge", "-p",
                   json.dumps({"status": route["status"]}))
    assert done.ok, done.output
    expect_failure(sandbox, EXERCISE, namespace, STATUS,
                   "HTTPRoute api-redirect has no status for Gateway web: no controller has "
                   "taken it up")
