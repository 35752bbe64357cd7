"""`storage`: the reference passes every criterion; each broken variant fails the criterion
it breaks, with a message that names the mistake."""

from __future__ import annotations

import copy

import pytest

from .conftest import wait_for
from .exercise_helpers import (apply_docs, by_id, create_secret, find, graded, passes_read_only,
                               reference)
from .rollout_helpers import assert_only, fast, rollout

pytestmark = pytest.mark.cluster

EXERCISE = "storage"
# Criteria that cannot hold while the thing a variant breaks is broken: a claim that never
# binds keeps the pod from starting, and so on.
DOWNSTREAM = {"storage-claims-bound", "storage-pod-ready"}


def sts(docs):
    return find(docs, "StatefulSet", "postgres")


def db(docs):
    return sts(docs)["spec"]["template"]["spec"]["containers"][0]


def setup(kubectl, namespace: str, docs) -> None:
    create_secret(kubectl, namespace)
    apply_docs(kubectl, docs)


def settled(sandbox, namespace: str, criterion: str, fragment: str):
    """Grade until `criterion`'s message holds `fragment` (claims and pods take a moment)."""
    def look():
        report = graded(sandbox, EXERCISE, namespace)
        return report if fragment in by_id(report)[criterion].message else None
    return wait_for(look, 30, f"{criterion} to say {fragment!r}", interval=0.5)


def test_reference_passes(sandbox, kubectl, namespace, tmp_path):
    setup(kubectl, namespace, reference(EXERCISE, namespace))
    report = graded(sandbox, EXERCISE, namespace, wait=60)
    assert report.passed, report.to_text()
    assert report.score == report.max_score == 11
    passes_read_only(sandbox, EXERCISE, namespace, tmp_path)


def test_a_deployment_with_a_claim_instead(sandbox, kubectl, namespace):
    docs = fast(reference(EXERCISE, namespace))
    stateful = sts(docs)
    template = stateful["spec"].pop("volumeClaimTemplates")[0]
    docs.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                 "metadata": {"name": "postgres-data", "namespace": namespace},
                 "spec": template["spec"]})
    stateful["kind"] = "Deployment"
    stateful["spec"].pop("serviceName")
    stateful["spec"]["template"]["spec"]["volumes"] = [
        {"name": "data", "persistentVolumeClaim": {"claimName": "postgres-data"}}]
    setup(kubectl, namespace, docs)
    report = graded(sandbox, EXERCISE, namespace)
    result = by_id(report)["storage-statefulset"]
    assert not result.passed
    assert ("postgres is a Deployment with claim postgres-data: every replica and every "
            "rolling update would mount that one ReadWriteOnce volume") in result.message
    # Every other criterion says what it misses, rather than crash or pass.
    for other in report.results:
        if other.id != "storage-statefulset":
            assert not other.passed
            assert "postgres is a Deployment, not a StatefulSet" in other.message, other


def _non_headless(docs):
    find(docs, "Service", "postgres")["spec"].pop("clusterIP")


def _service_elsewhere(docs):
    sts(docs)["spec"]["serviceName"] = "postgres-hl"


def _named_claim(replicas):
    def mutate(docs):
        stateful = sts(docs)
        template = stateful["spec"].pop("volumeClaimTemplates")[0]
        stateful["spec"]["replicas"] = replicas
        docs.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                     "metadata": {"name": "postgres-data",
                                  "namespace": stateful["metadata"]["namespace"]},
                     "spec": template["spec"]})
        stateful["spec"]["template"]["spec"]["volumes"] = [
            {"name": "data", "persistentVolumeClaim": {"claimName": "postgres-data"}}]
    return mutate


def _empty_dir(docs):
    stateful = sts(docs)
    stateful["spec"].pop("volumeClaimTemplates")
    stateful["spec"]["template"]["spec"]["volumes"] = [{"name": "data", "emptyDir": {}}]


def _password_literal(docs):
    db(docs)["env"] = [{"name": "POSTGRES_PASSWORD", "value": "hunter2-in-git"}]


VARIANTS = {
    "serviceName of a non-headless Service": (
        _non_headless, "storage-headless-service",
        "Service postgres is not headless: spec.clusterIP is '10.", set()),
    "serviceName of a missing Service": (
        _service_elsewhere, "storage-headless-service",
        "spec.serviceName 'postgres-hl' names no Service", set()),
    "headless Service without port 5432": (
        lambda d: find(d, "Service", "postgres")["spec"].update(
            ports=[{"name": "pg", "port": 5433, "targetPort": 5432}]),
        "storage-headless-service", "Service postgres exposes port(s) 5433, expected 5432",
        set()),
    "headless Service selecting other pods": (
        lambda d: find(d, "Service", "postgres")["spec"].update(selector={"app": "pg"}),
        "storage-headless-service", "spec.selector app=pg does not match the StatefulSet's "
        "pod labels (app=postgres)", set()),
    "mount path /var/lib/postgresql": (
        lambda d: db(d)["volumeMounts"][0].update(mountPath="/var/lib/postgresql"),
        "storage-data-mount", "container postgres mounts nothing at /var/lib/postgresql/data "
        "(its mounts: /var/lib/postgresql); postgres keeps its files in "
        "/var/lib/postgresql/data (PGDATA), a subdirectory of /var/lib/postgresql", set()),
    "data in an emptyDir": (
        _empty_dir, "storage-data-mount", "/var/lib/postgresql/data is mounted from volume "
        "'data' of type emptyDir, not from a PersistentVolumeClaim: the data is lost with the "
        "pod", {"storage-claim-spec", "storage-claims-bound"}),
    "one named claim shared by 2 replicas": (
        _named_claim(2), "storage-data-mount", "/var/lib/postgresql/data comes from claim "
        "'postgres-data', named in the pod template: all 2 replicas would share it; use "
        "volumeClaimTemplates", set()),
    "claim of 1G": (
        lambda d: sts(d)["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]
        .update(storage="1G"),
        "storage-claim-spec", "volumeClaimTemplate data: spec.resources.requests.storage is "
        "'1G', expected 1Gi (1073741824 bytes)", set()),
    "claim ReadWriteMany": (
        lambda d: sts(d)["spec"]["volumeClaimTemplates"][0]["spec"].update(
            accessModes=["ReadWriteMany"]),
        "storage-claim-spec", "spec.accessModes is ['ReadWriteMany'], expected [ReadWriteOnce]",
        set()),
    "image postgres:16": (
        lambda d: db(d).update(image="postgres:16"), "storage-postgres-container",
        "image is 'postgres:16', expected 'postgres:16-alpine'", set()),
    "password written in the manifest": (
        _password_literal, "storage-postgres-container", "env POSTGRES_PASSWORD is a literal "
        "value (not shown here)", set()),
    "password from the wrong key": (
        lambda d: db(d)["env"][0]["valueFrom"]["secretKeyRef"].update(key="username"),
        "storage-postgres-container", "env POSTGRES_PASSWORD takes Secret 'db-credentials' key "
        "'username', expected Secret 'db-credentials' key 'password'", set()),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_fails_its_criterion(sandbox, kubectl, namespace, name):
    mutate, criterion, fragment, ignore = VARIANTS[name]
    docs = fast(reference(EXERCISE, namespace))
    mutate(docs)
    setup(kubectl, namespace, docs)
    rollout(kubectl, namespace, target="statefulset/postgres")   # all else settled
    report = graded(sandbox, EXERCISE, namespace)
    assert_only(report, criterion, fragment, ignore=ignore)
    assert "hunter2" not in report.to_json()


def test_storage_class_the_cluster_lacks(sandbox, kubectl, namespace):
    docs = fast(reference(EXERCISE, namespace))
    sts(docs)["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] = "gp3"
    setup(kubectl, namespace, docs)
    # The StatefulSet controller makes the claim a moment before the pod: wait for both.
    settled(sandbox, namespace, "storage-claims-bound", "data-postgres-0 is Pending")
    report = settled(sandbox, namespace, "storage-pod-ready", "pod postgres-0 is Pending")
    assert_only(report, "storage-claims-bound", "claim data-postgres-0 is Pending: its "
                "StorageClass 'gp3' does not exist in this cluster (it has standard (default)), "
                "so no volume is ever provisioned", ignore={"storage-claim-spec", "storage-pod-ready"})
    results = by_id(report)
    assert "kubectl get storageclass" in results["storage-claims-bound"].hint
    assert "spec.storageClassName 'gp3' is no StorageClass of this cluster" in \
        results["storage-claim-spec"].message
    assert "pod postgres-0 is Pending and not Ready: not scheduled" in \
        results["storage-pod-ready"].message


def test_pod_not_ready(sandbox, kubectl, namespace):
    docs = reference(EXERCISE, namespace)
    sts(docs)["spec"]["template"]["metadata"]["labels"]["sandbox.rwk/readiness"] = "fail"
    setup(kubectl, namespace, docs)
    # A healthy pod is Running and not yet Ready for a second or two as well; only the
    # failing probe says why, so the test waits for that.
    cause = "pod postgres-0 is Running and not Ready: readiness probe failed"
    report = settled(sandbox, namespace, "storage-pod-ready", cause)
    assert_only(report, "storage-pod-ready", cause)


def test_single_claim_by_name_passes_with_a_note(sandbox, kubectl, namespace):
    docs = fast(reference(EXERCISE, namespace))
    _named_claim(1)(docs)
    setup(kubectl, namespace, docs)
    report = graded(sandbox, EXERCISE, namespace, wait=60)
    assert report.passed, report.to_text()
    assert "volumeClaimTemplates would give each replica a claim of its own" in \
        by_id(report)["storage-data-mount"].message


def test_a_differently_named_headless_service_passes_with_a_note(sandbox, kubectl, namespace):
    docs = fast(reference(EXERCISE, namespace))
    service = copy.deepcopy(find(docs, "Service", "postgres"))
    service["metadata"]["name"] = "postgres-hl"
    docs.append(service)
    _service_elsewhere(docs)
    setup(kubectl, namespace, docs)
    report = graded(sandbox, EXERCISE, namespace, wait=60)
    assert report.passed, report.to_text()
    assert "the task names it 'postgres'" in by_id(report)["storage-headless-service"].message
