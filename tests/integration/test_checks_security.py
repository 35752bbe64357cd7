"""`security`: the reference passes every criterion; each broken variant fails the criterion
it breaks, with a message that names the mistake. Pod Security admission is the API
server's, so the sandbox refuses a pod that is not locked down as kind does: a variant
admission refuses also fails `security-admitted`, with the API server's own words."""

from __future__ import annotations

import pytest

from .exercise_helpers import (apply_docs, app_container, by_id, find, passes_read_only,
                               reference, variant)
from .grading_helpers import expect_failure, settled

pytestmark = pytest.mark.cluster

EXERCISE = "security"
CRITERIA = {"security-namespace", "security-pod", "security-container", "security-filesystem",
            "security-admitted", "security-default-deny", "security-allow-ingress",
            "security-allow-dns"}
ADMITTED = "security-admitted"


def pod_spec(docs) -> dict:
    return find(docs, "Deployment", "api-server")["spec"]["template"]["spec"]


def context(docs) -> dict:
    return app_container(docs)["securityContext"]


def allow(docs) -> dict:
    return find(docs, "NetworkPolicy", "allow-api")["spec"]


def deny(docs) -> dict:
    return find(docs, "NetworkPolicy", "default-deny")["spec"]


def _root_image(docs) -> None:
    """runAsNonRoot with an image whose user is root, and no runAsUser (busybox is root)."""
    for field in ("runAsUser", "runAsGroup"):
        pod_spec(docs)["securityContext"].pop(field)
    app_container(docs).update(image="busybox:1.36", command=["sleep", "3600"], args=[])


def test_reference_passes(sandbox, kubectl, namespace, tmp_path):
    apply_docs(kubectl, reference(EXERCISE, namespace))
    report = settled(sandbox, EXERCISE, namespace)
    assert report.passed and report.score == report.max_score == 14, report.to_text()
    assert {r.id for r in report.results} == CRITERIA
    passes_read_only(sandbox, EXERCISE, namespace, tmp_path)


# name: (mutation of the manifests, criterion, message fragments, criteria it also breaks)
VARIANTS = {
    "namespace not labelled": (
        lambda d: d.remove(find(d, "Namespace")), "security-namespace",
        ["label pod-security.kubernetes.io/enforce is not set, expected 'restricted'"], ()),
    "namespace at baseline": (
        lambda d: find(d, "Namespace")["metadata"]["labels"].update(
            {"pod-security.kubernetes.io/enforce": "baseline"}), "security-namespace",
        ["label pod-security.kubernetes.io/enforce is 'baseline', expected 'restricted'"], ()),
    "runAsNonRoot with a root image and no runAsUser": (
        _root_image, "security-pod",
        ["runAsUser is not set: with runAsNonRoot alone, an image whose user is root never "
         "starts"], {ADMITTED}),
    "runAsUser 0": (
        lambda d: pod_spec(d)["securityContext"].update(runAsUser=0), "security-pod",
        ["runAsUser is 0, which is root"], {ADMITTED}),
    "no seccomp profile": (
        lambda d: pod_spec(d)["securityContext"].pop("seccompProfile"), "security-pod",
        ["no seccompProfile (expected type RuntimeDefault)"], {ADMITTED}),
    "the ServiceAccount token mounted": (
        lambda d: pod_spec(d).pop("automountServiceAccountToken"), "security-pod",
        ["automountServiceAccountToken is not false"], ()),
    "capabilities drop all in lower case": (
        lambda d: context(d)["capabilities"].update(drop=["all"]), "security-container",
        ["'all' in lower case drops nothing the restricted level counts"], {ADMITTED}),
    "privilege escalation allowed": (
        lambda d: context(d).pop("allowPrivilegeEscalation"), "security-container",
        ["allowPrivilegeEscalation is not false"], {ADMITTED}),
    "a writable root filesystem": (
        lambda d: context(d).update(readOnlyRootFilesystem=False), "security-filesystem",
        ["readOnlyRootFilesystem is not true"], ()),
    "nothing mounted at /tmp": (
        lambda d: [app_container(d).pop("volumeMounts"), pod_spec(d).pop("volumes")],
        "security-filesystem", ["nothing is mounted at /tmp"], ()),
    "default-deny for ingress only": (
        lambda d: deny(d).update(policyTypes=["Ingress"]), "security-default-deny",
        ["policyTypes lacks Egress: that direction stays open"], ()),
    "default-deny selecting api-server only": (
        lambda d: deny(d).update(podSelector={"matchLabels": {"app": "api-server"}}),
        "security-default-deny", ["its podSelector is app=api-server: a default selects every "
                                  "pod"], ()),
    "allow-api selects the namespace by a label it does not carry": (
        lambda d: allow(d)["ingress"][0]["from"][0].update(
            namespaceSelector={"matchLabels": {"name": "traefik"}}), "security-allow-ingress",
        ["selects namespaces by name=traefik, expected kubernetes.io/metadata.name=traefik"],
        ()),
    "allow-api lets everyone in": (
        lambda d: allow(d)["ingress"][0].pop("from"), "security-allow-ingress",
        ["ingress[0] has no 'from': it lets every pod of every namespace in"], ()),
    "allow-api opens the Service's port, not the pods'": (
        lambda d: allow(d)["ingress"][0]["ports"][0].update(port=80), "security-allow-ingress",
        ["ingress[0] opens TCP 80, expected TCP 8080 only"], ()),
    "DNS forgotten": (
        lambda d: allow(d).pop("egress"), "security-allow-dns",
        ["no egress rule: under default-deny the app cannot resolve a name"], ()),
    "DNS over UDP only": (
        lambda d: allow(d)["egress"][0].update(ports=[{"protocol": "UDP", "port": 53}]),
        "security-allow-dns", ["egress lacks TCP 53"], ()),
    "DNS sent to the app's own namespace": (
        lambda d: allow(d)["egress"][0].update(to=[{"podSelector": {}}]),
        "security-allow-dns", ["egress[0] goes to this namespace, expected namespace "
                               "kube-system"], ()),
}

ON_KIND = ("capabilities drop all in lower case", "allow-api selects the namespace by a label "
           "it does not carry", "DNS forgotten", "a writable root filesystem")
"""The variants run again on kind (tests/kind/test_variants_on_kind.py): the mistakes
EXERCISES.md names (the root image has a kind test of its own, tests/kind/test_locked_down.py)
and a filesystem the real container then writes to."""


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_fails_its_criterion(sandbox, kubectl, namespace, name):
    mutate, criterion, fragments, also = VARIANTS[name]
    apply_docs(kubectl, variant(mutate)(reference(EXERCISE, namespace)))
    expect_failure(sandbox, EXERCISE, namespace, criterion, *fragments, also=also)


def test_admission_refuses_a_pod_that_is_not_locked_down_and_the_check_says_so(
        sandbox, kubectl, namespace):
    docs = variant(lambda d: context(d).pop("allowPrivilegeEscalation"))(
        reference(EXERCISE, namespace))
    apply_docs(kubectl, docs)
    report = expect_failure(sandbox, EXERCISE, namespace, "security-container",
                            "allowPrivilegeEscalation is not false", also={ADMITTED})
    admitted = by_id(report)[ADMITTED]
    assert not admitted.passed
    assert "cannot create pods" in admitted.message and "violates PodSecurity" in \
        admitted.message and "allowPrivilegeEscalation" in admitted.message, admitted.message


def test_pods_admitted_before_the_label_are_named(sandbox, kubectl, namespace):
    """The template locked down, but the namespace labelled after the pods started: the pods
    pass; an old plain template still running is what the pod criterion names."""
    plain = reference("gateway", namespace)
    apply_docs(kubectl, [find(plain, "Deployment", "api-server")])
    settled(sandbox, "security", namespace, failing=CRITERIA - {ADMITTED})
    docs = reference(EXERCISE, namespace)
    apply_docs(kubectl, [d for d in docs if d["kind"] != "Deployment"])
    report = expect_failure(sandbox, EXERCISE, namespace, "security-pod",
                            "Deployment api-server's pod template: runAsNonRoot is not true",
                            also={"security-container", "security-filesystem"})
    assert by_id(report)[ADMITTED].passed     # admitted before the label: they keep running
