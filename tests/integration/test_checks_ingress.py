"""`ingress`: the reference passes every criterion; each broken variant fails the criterion
it breaks, with a message that names the mistake, and never shows a Secret's value."""

from __future__ import annotations

import base64

import pytest
import yaml

from .exercise_helpers import apply_docs, by_id, find, passes_read_only, reference, variant
from .grading_helpers import expect_failure, settled
from .tls_helpers import certificate, create_tls_secret

pytestmark = pytest.mark.cluster

EXERCISE = "ingress"


def apply_secret(kubectl, namespace: str, data: dict[str, bytes],
                 kind: str = "kubernetes.io/tls", name: str = "tls-cert") -> None:
    """A Secret written as YAML: how a student gets a pair kubectl would have refused."""
    secret = {"apiVersion": "v1", "kind": "Secret", "type": kind,
              "metadata": {"name": name, "namespace": namespace},
              "data": {k: base64.b64encode(v).decode() for k, v in data.items()}}
    done = kubectl("apply", "-f", "-", input=yaml.safe_dump(secret))
    assert done.ok, done.output


def rule_backend(docs, host: str) -> dict:
    rules = find(docs, "Ingress")["spec"]["rules"]
    return next(r for r in rules if r["host"] == host)["http"]["paths"][0]["backend"]["service"]


def test_reference_passes(sandbox, kubectl, namespace, tmp_path):
    create_tls_secret(kubectl, namespace, tmp_path)
    apply_docs(kubectl, reference(EXERCISE, namespace))
    report = settled(sandbox, EXERCISE, namespace)
    assert report.passed and report.score == report.max_score == 10, report.to_text()
    assert {r.id for r in report.results} == {
        "ingress-class", "ingress-frontend", "ingress-rules", "ingress-backends", "ingress-tls",
        "ingress-certificate"}
    # TLS Secret, EndpointSlices and IngressClass read with read-only credentials too.
    passes_read_only(sandbox, EXERCISE, namespace, tmp_path)


def _drop_tls_host(docs):
    find(docs, "Ingress")["spec"]["tls"][0]["hosts"] = ["api.example.com"]


def _frontend_unready(docs):
    # The sandbox's documented readiness switch: the pods run but never turn Ready.
    find(docs, "Deployment", "frontend")["spec"]["template"]["metadata"]["labels"][
        "sandbox.rwk/readiness"] = "fail"


def _frontend_named_target_port(docs):
    find(docs, "Service", "frontend")["spec"]["ports"][0]["targetPort"] = "web"


# name: (mutation of the manifests, criterion, message fragments, criteria it also breaks)
VARIANTS = {
    "backend port 8080 where the Service exposes 80": (
        lambda d: rule_backend(d, "api.example.com")["port"].update(number=8080),
        "ingress-backends", ["api.example.com/ -> api-server:8080: Service api-server has no "
                             "port 8080 (its ports: 80 -> 8080): 8080 is its targetPort"],
        {"ingress-rules"}),
    "misspelt service name": (
        lambda d: rule_backend(d, "app.example.com").update(name="fronted"),
        "ingress-backends", ["Service 'fronted' does not exist (found 'frontend': misspelt?)"],
        {"ingress-rules"}),
    "service selector matches no pod": (
        lambda d: find(d, "Service", "frontend")["spec"].update(selector={"app": "frontnd"}),
        "ingress-backends", ["Service frontend has no ready endpoints: its selector "
                             "app=frontnd matches no pod", "app=frontend"],
        {"ingress-frontend"}),
    "backend pods never Ready": (
        _frontend_unready, "ingress-backends",
        ["Service frontend has no ready endpoints: 2 pod(s) match its selector app=frontend, "
         "none is Ready", "is Running but not Ready: readiness probe failed"], ()),
    "named targetPort no pod declares": (
        _frontend_named_target_port, "ingress-backends",
        ["its targetPort 'web' names no container port"], {"ingress-frontend"}),
    "backend port named but the Service's port is unnamed": (
        lambda d: rule_backend(d, "api.example.com").update(port={"name": "http"}),
        "ingress-backends", ["Service api-server has no port named 'http'"], {"ingress-rules"}),
    "class misspelt": (
        lambda d: find(d, "Ingress")["spec"].update(ingressClassName="ngnix"),
        "ingress-class", ["spec.ingressClassName is 'ngnix', expected 'nginx' (found 'nginx': "
                          "misspelt?)"], ()),
    "no class at all": (
        lambda d: find(d, "Ingress")["spec"].pop("ingressClassName"),
        "ingress-class", ["names no class (spec.ingressClassName is not set)"], ()),
    "pathType Exact": (
        lambda d: find(d, "Ingress")["spec"]["rules"][0]["http"]["paths"][0].update(
            pathType="Exact"),
        "ingress-rules", ["host api.example.com path / has pathType 'Exact', expected 'Prefix'"],
        ()),
    "hosts swapped": (
        lambda d: [rule_backend(d, "api.example.com").update(name="frontend"),
                   rule_backend(d, "app.example.com").update(name="api-server")],
        "ingress-rules", ["host api.example.com path / goes to frontend:80, expected "
                          "api-server:80"], ()),
    "host misspelt": (
        lambda d: find(d, "Ingress")["spec"]["rules"][1].update(host="app.exmaple.com"),
        "ingress-rules", ["no rule for host app.example.com (found 'app.exmaple.com': "
                          "misspelt?)"], ()),
    "TLS lists one host": (
        _drop_tls_host, "ingress-tls", ["spec.tls does not list host app.example.com"], ()),
    "no TLS section": (
        lambda d: find(d, "Ingress")["spec"].pop("tls"),
        "ingress-tls", ["has no spec.tls: it serves its hosts over plain HTTP only"], ()),
    "TLS names another Secret": (
        lambda d: find(d, "Ingress")["spec"]["tls"][0].update(secretName="tls-certs"),
        "ingress-tls", ["spec.tls[0].secretName is 'tls-certs', expected 'tls-cert'"], ()),
    "frontend Service targets podinfo's default port": (
        lambda d: find(d, "Service", "frontend")["spec"]["ports"][0].update(targetPort=9898),
        "ingress-frontend", ["Service frontend sends port 80 to targetPort 9898, expected "
                             "8080"], ()),
    "frontend Service missing": (
        lambda d: d.remove(find(d, "Service", "frontend")),
        "ingress-frontend", ["no Service 'frontend'"], {"ingress-backends"}),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_fails_its_criterion(sandbox, kubectl, namespace, tmp_path, name):
    mutate, criterion, fragments, also = VARIANTS[name]
    create_tls_secret(kubectl, namespace, tmp_path)
    apply_docs(kubectl, variant(mutate)(reference(EXERCISE, namespace)))
    expect_failure(sandbox, EXERCISE, namespace, criterion, *fragments, also=also)


# --- the TLS Secret and its certificate ---------------------------------------------------

def test_tls_secret_missing(sandbox, kubectl, namespace):
    apply_docs(kubectl, reference(EXERCISE, namespace))
    report = expect_failure(sandbox, EXERCISE, namespace, "ingress-tls",
                            f"no Secret 'tls-cert' in namespace {namespace}",
                            also={"ingress-certificate"})
    assert "no Secret 'tls-cert'" in by_id(report)["ingress-certificate"].message


def test_tls_secret_in_another_namespace(sandbox, kubectl, namespace, tmp_path):
    other = f"{namespace}-x"
    assert kubectl("create", "namespace", other).ok
    try:
        create_tls_secret(kubectl, other, tmp_path)
        apply_docs(kubectl, reference(EXERCISE, namespace))
        # Other tests' namespaces on this worker's sandbox may hold a tls-cert too (the
        # solutions' chain's does), and are listed beside `other`.
        expect_failure(sandbox, EXERCISE, namespace, "ingress-tls", "there is one in ", other,
                       "but an Ingress reads only its own namespace's Secrets",
                       also={"ingress-certificate"})
    finally:
        kubectl("delete", "namespace", other, "--wait=false")


def test_tls_secret_of_type_opaque(sandbox, kubectl, namespace):
    cert, key = certificate()
    apply_secret(kubectl, namespace, {"tls.crt": cert, "tls.key": key}, kind="Opaque")
    apply_docs(kubectl, reference(EXERCISE, namespace))
    expect_failure(sandbox, EXERCISE, namespace, "ingress-tls",
                   "Secret tls-cert has type 'Opaque', expected 'kubernetes.io/tls'")


@pytest.mark.parametrize(("pair", "fragment"), [
    (lambda: certificate(["www.example.com"]),
     "the certificate in tls.crt is for DNS:www.example.com, which does not cover "
     "api.example.com, app.example.com"),
    (lambda: certificate(["api.example.com"]),
     "is for DNS:api.example.com, which does not cover app.example.com"),
    (lambda: certificate(["*.example.org"]), "does not cover api.example.com, app.example.com"),
    (lambda: certificate(expired=True), "the certificate expired on"),
], ids=["another host", "one host only", "wildcard of another domain", "expired"])
def test_certificate_variant_fails_ingress_certificate(sandbox, kubectl, namespace, tmp_path,
                                                       pair, fragment):
    create_tls_secret(kubectl, namespace, tmp_path, pair())
    apply_docs(kubectl, reference(EXERCISE, namespace))
    expect_failure(sandbox, EXERCISE, namespace, "ingress-certificate", fragment)


def test_wildcard_certificate_passes(sandbox, kubectl, namespace, tmp_path):
    create_tls_secret(kubectl, namespace, tmp_path, certificate(["*.example.com"]))
    apply_docs(kubectl, reference(EXERCISE, namespace))
    assert settled(sandbox, EXERCISE, namespace).passed


def test_common_name_only_certificate_passes_with_a_note(sandbox, kubectl, namespace, tmp_path):
    create_tls_secret(kubectl, namespace, tmp_path, certificate([], cn="*.example.com"))
    apply_docs(kubectl, reference(EXERCISE, namespace))
    result = by_id(settled(sandbox, EXERCISE, namespace))["ingress-certificate"]
    assert result.passed and "browsers ignore the CN" in result.message


def test_key_of_another_certificate_fails_and_no_value_is_shown(sandbox, kubectl, namespace):
    cert, _ = certificate()
    _, stranger = certificate()
    apply_secret(kubectl, namespace, {"tls.crt": cert, "tls.key": stranger})
    apply_docs(kubectl, reference(EXERCISE, namespace))
    report = expect_failure(sandbox, EXERCISE, namespace, "ingress-certificate",
                            "tls.key is not the private key of the certificate in tls.crt")
    shown = report.to_text(color=True) + report.to_json() + report.to_html() + repr(report)
    body = b"".join(stranger.splitlines()[1:-1]).decode()
    for value in (stranger.decode(), body, body[:40], base64.b64encode(stranger).decode(),
                  cert.decode(), base64.b64encode(cert).decode()[:40]):
        assert value not in shown


def test_unreadable_key_and_certificate(sandbox, kubectl, namespace):
    apply_secret(kubectl, namespace, {"tls.crt": b"-----BEGIN CERTIFICATE-----\nc2VjcmV0\n"
                                                 b"-----END CERTIFICATE-----\n",
                                      "tls.key": b"hunter2-not-a-key"})
    apply_docs(kubectl, reference(EXERCISE, namespace))
    report = expect_failure(sandbox, EXERCISE, namespace, "ingress-certificate",
                            "tls.crt holds a PEM certificate block that does not parse as "
                            "X.509")
    assert "hunter2" not in report.to_json() and "c2VjcmV0" not in report.to_json()
