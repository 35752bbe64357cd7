"""`namespaces`, `configmaps`, `secrets`: the reference passes every criterion; each broken
variant fails the criterion it breaks, with a message that names the mistake."""

from __future__ import annotations

import pytest

from .conftest import wait_for
from .exercise_helpers import (app_container, apply_docs, by_id, create_secret, find, graded,
                               reference, variant)
from .rollout_helpers import assert_only as only

pytestmark = pytest.mark.cluster

ROLLOUT_IDS = {"configmap-rolled-out"}


def assert_only(report, failing: str, *fragments: str, ignore: set[str] = ROLLOUT_IDS) -> None:
    """As rollout_helpers.assert_only, but a variant may also keep the rollout from finishing."""
    only(report, failing, *fragments, ignore=ignore)


# --- namespaces ---------------------------------------------------------------------------

def test_namespaces_reference_passes(sandbox, kubectl, namespace):
    apply_docs(kubectl, reference("namespaces", namespace))
    report = graded(sandbox, "namespaces", namespace)
    assert report.passed, report.to_text()
    assert report.score == report.max_score == 10


def _cluster_role_binding(docs):
    role = find(docs, "Role")
    role["kind"] = "ClusterRole"
    role["metadata"].pop("namespace")
    role["metadata"]["name"] = "deployer-" + find(docs, "Namespace")["metadata"]["name"]
    binding = find(docs, "RoleBinding")
    binding["kind"] = "ClusterRoleBinding"
    binding["metadata"].pop("namespace")
    binding["metadata"]["name"] = role["metadata"]["name"]
    binding["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                          "name": role["metadata"]["name"]}


NAMESPACE_VARIANTS = {
    "label key misspelt": (
        lambda d: find(d, "Namespace")["metadata"].update(labels={"enviroment": "production"}),
        "namespace-label", "(found 'enviroment': misspelt?)"),
    "label value misspelt": (
        lambda d: find(d, "Namespace")["metadata"].update(labels={"environment": "prod"}),
        "namespace-label", "is 'prod', expected 'production'"),
    "quota lacks limits.memory": (
        lambda d: find(d, "ResourceQuota")["spec"]["hard"].pop("limits.memory"),
        "resource-quota", "does not cap limits.memory"),
    "limit range of type Pod only": (
        lambda d: find(d, "LimitRange")["spec"].update(limits=[{
            "type": "Pod", "max": {"cpu": "2", "memory": "2Gi"}}]),
        "limit-range", "of type Pod only"),
    # (A LimitRange without defaultRequest is no mistake: the API copies `default` into it.)
    "limit range without memory defaults": (
        lambda d: [find(d, "LimitRange")["spec"]["limits"][0][f].pop("memory")
                   for f in ("default", "defaultRequest")],
        "limit-range", "lacks default.memory, defaultRequest.memory"),
    "no role binding": (
        lambda d: d.remove(find(d, "RoleBinding")),
        "deployer-can-deploy", "may not create or update deployments"),
}


@pytest.mark.parametrize("name", NAMESPACE_VARIANTS)
def test_namespaces_variant_fails_its_criterion(sandbox, kubectl, namespace, name):
    mutate, criterion, fragment = NAMESPACE_VARIANTS[name]
    apply_docs(kubectl, variant(mutate)(reference("namespaces", namespace)))
    assert_only(graded(sandbox, "namespaces", namespace), criterion, fragment)


def test_namespaces_cluster_role_binding_is_too_broad(sandbox, kubectl, namespace):
    docs = variant(_cluster_role_binding)(reference("namespaces", namespace))
    apply_docs(kubectl, docs)
    try:
        assert_only(graded(sandbox, "namespaces", namespace), "deployer-scoped",
                    f"ClusterRoleBinding deployer-{namespace} grants it cluster-wide")
    finally:
        kubectl("delete", "clusterrolebinding,clusterrole", f"deployer-{namespace}")


def test_namespaces_terminating_namespace_is_not_active(sandbox, kubectl, namespace):
    apply_docs(kubectl, reference("namespaces", namespace))
    # A finalizer nobody removes keeps the namespace in Terminating.
    assert kubectl("create", "configmap", "held", "-n", namespace).ok
    assert kubectl("patch", "configmap", "held", "-n", namespace, "--type=merge", "-p",
                   '{"metadata":{"finalizers":["example.com/hold"]}}').ok
    assert kubectl("delete", "namespace", namespace, "--wait=false").ok
    try:
        report = graded(sandbox, "namespaces", namespace)
        result = by_id(report)["namespace-active"]
        assert not result.passed
        assert result.message == (f"namespace {namespace} has status.phase 'Terminating', "
                                  "expected 'Active' (a Terminating namespace is being "
                                  "deleted)")
    finally:
        kubectl("patch", "configmap", "held", "-n", namespace, "--type=merge", "-p",
                '{"metadata":{"finalizers":null}}')


def test_absent_namespace_is_a_clean_failure(sandbox):
    for exercise in ("namespaces", "configmaps", "secrets"):
        report = graded(sandbox, exercise, "no-such-namespace")
        assert not report.passed and report.score == 0
        assert all("namespace 'no-such-namespace' does not exist" in r.message
                   for r in report.results), report.to_text()


# --- configmaps ---------------------------------------------------------------------------

def test_configmaps_reference_passes(sandbox, kubectl, namespace):
    apply_docs(kubectl, reference("configmaps", namespace))
    report = graded(sandbox, "configmaps", namespace, wait=60)
    assert report.passed, report.to_text()


def _only_one_key(docs):
    app = app_container(docs)
    app.pop("envFrom")
    app["env"] = [{"name": "LOG_LEVEL", "valueFrom": {"configMapKeyRef": {
        "name": "api-config", "key": "LOG_LEVEL"}}}]


CONFIGMAP_VARIANTS = {
    "key misspelt": (
        lambda d: find(d, "ConfigMap")["data"].update(
            {"LOG_LEVLE": find(d, "ConfigMap")["data"].pop("LOG_LEVEL")}),
        "configmap-values", "key LOG_LEVEL is missing (found 'LOG_LEVLE': misspelt?)"),
    "value in another case": (
        lambda d: find(d, "ConfigMap")["data"].update(LOG_LEVEL="INFO"),
        "configmap-values", "data.LOG_LEVEL is 'INFO', expected 'info' (values are "
        "case-sensitive)"),
    "envFrom names another ConfigMap": (
        lambda d: app_container(d).update(envFrom=[{"configMapRef": {"name": "app-config"}}]),
        "configmap-envfrom", "envFrom refers to ConfigMap app-config, expected 'api-config'"),
    "only one key by valueFrom": (
        _only_one_key, "configmap-envfrom", "takes only LOG_LEVEL from api-config through "
        "env[].valueFrom.configMapKeyRef"),
    "volume declared but not mounted": (
        lambda d: app_container(d).pop("volumeMounts"),
        "configmap-volume", "volume config (ConfigMap api-config) is declared but container "
        "api-server does not mount it"),
    "wrong mount path": (
        lambda d: app_container(d)["volumeMounts"][0].update(mountPath="/etc/configs"),
        "configmap-volume", "mounts api-config at /etc/configs, expected /etc/config"),
}


@pytest.mark.parametrize("name", CONFIGMAP_VARIANTS)
def test_configmaps_variant_fails_its_criterion(sandbox, kubectl, namespace, name):
    mutate, criterion, fragment = CONFIGMAP_VARIANTS[name]
    apply_docs(kubectl, variant(mutate)(reference("configmaps", namespace)))
    assert_only(graded(sandbox, "configmaps", namespace), criterion, fragment)


def test_configmaps_stuck_rollout_fails_rolled_out(sandbox, kubectl, namespace):
    docs = reference("configmaps", namespace)
    apply_docs(kubectl, docs)
    wait_for(lambda: graded(sandbox, "configmaps", namespace).passed, 60, "first rollout")
    # The next version cannot be scheduled anywhere: maxUnavailable keeps old pods, the
    # rollout never completes.
    find(docs, "Deployment")["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "nvme"}
    apply_docs(kubectl, docs)
    # "updated 1/3" alone is what a healthy rollout in progress shows too: wait for the cause
    # (the counts themselves lag the new pod for a moment).
    cause = "is Pending, not scheduled (Unschedulable)"

    def stuck():
        report = graded(sandbox, "configmaps", namespace)
        return report if cause in by_id(report)["configmap-rolled-out"].message else None
    report = wait_for(stuck, 30, "the unschedulable pod's reason")
    assert_only(report, "configmap-rolled-out", "Deployment api-server is not rolled out: "
                "updated ", cause, "node affinity/selector", ignore=set())


# --- secrets ------------------------------------------------------------------------------

def test_secrets_reference_passes(sandbox, kubectl, namespace):
    create_secret(kubectl, namespace)
    apply_docs(kubectl, reference("secrets", namespace))
    report = graded(sandbox, "secrets", namespace)
    assert report.passed, report.to_text()


def test_secrets_key_named_user(sandbox, kubectl, namespace):
    create_secret(kubectl, namespace, keys={"user": "app", "password": "s3cret-value"})
    apply_docs(kubectl, reference("secrets", namespace))
    assert_only(graded(sandbox, "secrets", namespace), "secret-keys",
                "key 'username' is missing (found 'user': misspelt?)")


def test_secrets_username_not_app(sandbox, kubectl, namespace):
    create_secret(kubectl, namespace, username="admin")
    apply_docs(kubectl, reference("secrets", namespace))
    report = graded(sandbox, "secrets", namespace)
    assert_only(report, "secret-keys", "key 'username' does not decode to 'app'")
    assert "admin" not in report.to_json()


def test_secrets_wrong_type(sandbox, kubectl, namespace):
    assert kubectl("apply", "-n", namespace, "-f", "-", input=f"""
apiVersion: v1
kind: Secret
metadata: {{name: db-credentials}}
type: kubernetes.io/basic-auth
stringData: {{username: app, password: pw-{namespace}}}
""").ok
    apply_docs(kubectl, reference("secrets", namespace))
    assert_only(graded(sandbox, "secrets", namespace), "secret-exists",
                "has type 'kubernetes.io/basic-auth', expected 'Opaque'")


def test_secrets_password_env_points_at_username(sandbox, kubectl, namespace):
    create_secret(kubectl, namespace)
    docs = reference("secrets", namespace)
    app_container(docs)["env"][1]["valueFrom"]["secretKeyRef"]["key"] = "username"
    apply_docs(kubectl, docs)
    assert_only(graded(sandbox, "secrets", namespace), "secret-env-refs",
                "env DB_PASSWORD takes key 'username' of Secret db-credentials, expected "
                "key 'password'")


def test_secrets_password_as_plain_value(sandbox, kubectl, namespace):
    create_secret(kubectl, namespace)
    docs = reference("secrets", namespace)
    app_container(docs)["env"][1] = {"name": "DB_PASSWORD", "value": "hunter2-plain"}
    apply_docs(kubectl, docs)
    report = graded(sandbox, "secrets", namespace)
    results = by_id(report)
    assert not results["no-literal-passwords"].passed
    assert ("Deployment api-server, container api-server: env DB_PASSWORD"
            in results["no-literal-passwords"].message)
    assert "env DB_PASSWORD is a literal value" in results["secret-env-refs"].message
    assert "hunter2-plain" not in report.to_json() + report.to_text() + report.to_html()


def test_secrets_created_in_another_namespace(sandbox, kubectl, namespace):
    other = f"{namespace}-x"
    assert kubectl("create", "namespace", other).ok
    try:
        create_secret(kubectl, other)
        apply_docs(kubectl, reference("secrets", namespace))
        report = graded(sandbox, "secrets", namespace)
        result = by_id(report)["secret-exists"]
        assert not result.passed
        # Other tests on this worker's sandbox may hold a db-credentials of their own: the
        # list names every namespace that has one, sorted, so look for ours in it.
        listed = result.message.split("there is one in ", 1)[1].split(", but ")[0].split(", ")
        assert other in listed, result.message
    finally:
        kubectl("delete", "namespace", other, "--wait=false")
