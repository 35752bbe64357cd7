"""checker.kube.client: what each refusal of the API server becomes, without a server."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from kubernetes import client

from checker.grading import exercises
from checker.grading.state import ClusterState
from checker.kube.client import KINDS, Cluster
from checker.errors import AccessDenied, ClusterUnreachable
from checker.grading.runner import run_criteria

FORBIDDEN_SECRETS = ('secrets is forbidden: User "system:serviceaccount:production:reader" '
                     'cannot list resource "secrets" in API group "" in the namespace '
                     '"production"')


@pytest.fixture
def cluster(tmp_path: Path) -> Cluster:
    """A Cluster on a kubeconfig whose server nobody answers: every call is faked."""
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "course",
              "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
              "users": [{"name": "u", "user": {"token": "t"}}],
              "contexts": [{"name": "course", "context": {"cluster": "c", "user": "u"}}]}
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    return Cluster(kubeconfig=path)


def answering(cluster: Cluster, status: int, reason: str, message: str = "") -> list[tuple]:
    """Make every call of `cluster` fail with `status`; returns the (path, method) asked."""
    asked: list[tuple] = []

    def call_api(path: str, method: str, **_: object) -> None:
        asked.append((path, method))
        error = client.ApiException(status=status, reason=reason)
        error.body = json.dumps({"kind": "Status", "status": "Failure", "message": message,
                                 "reason": reason, "code": status})
        raise error

    cluster._api.call_api = call_api   # type: ignore[method-assign]
    return asked


def test_a_forbidden_list_names_the_right_that_is_missing(cluster: Cluster) -> None:
    answering(cluster, 403, "Forbidden", FORBIDDEN_SECRETS)
    with pytest.raises(AccessDenied) as caught:
        cluster.list("secret", "production")
    refused = caught.value
    assert (refused.verb, refused.resource, refused.namespace) == ("list", "secrets",
                                                                    "production")
    assert refused.user == "system:serviceaccount:production:reader"
    assert str(refused).startswith(
        "the credentials may not list secrets in namespace production (403 Forbidden")
    assert "system:serviceaccount:production:reader" in str(refused)
    assert "context 'course'" in str(refused)
    assert "`kubectl auth can-i list secrets -n production`" in str(refused)


def test_a_forbidden_refusal_is_not_an_unreachable_cluster(cluster: Cluster) -> None:
    answering(cluster, 403, "Forbidden")
    with pytest.raises(AccessDenied) as caught:
        cluster.get("secret", "db-credentials", "production")
    assert not isinstance(caught.value, ClusterUnreachable)
    assert caught.value.exit_code != ClusterUnreachable.exit_code


@pytest.mark.parametrize("read, right", [
    (lambda c: c.get("deployment", "api-server", "shop"),
     "may not get deployments.apps in namespace shop (403 Forbidden on "
     "deployments.apps/api-server"),
    (lambda c: c.list("secret", None, field_selector="metadata.name=db-credentials"),
     "may not list secrets in all namespaces"),
    (lambda c: c.list("storageclass"), "may not list storageclasses.storage.k8s.io ("),
    (lambda c: c.get("namespace", "production"), "may not get namespaces (403 Forbidden on "
     "namespaces/production"),
    (lambda c: c.list("horizontalpodautoscaler", "p"),
     "may not list horizontalpodautoscalers.autoscaling in namespace p"),
    (lambda c: c.can_i("system:serviceaccount:p:deployer", [], "create", "deployments",
                       "apps", "p"),
     "may not create subjectaccessreviews.authorization.k8s.io ("),
    (lambda c: c.server_version(), "may not get /version ("),
])
def test_each_read_names_its_verb_resource_and_scope(cluster: Cluster, read, right) -> None:
    answering(cluster, 403, "Forbidden")
    with pytest.raises(AccessDenied) as caught:
        read(cluster)
    assert right in str(caught.value)


def test_a_forbidden_answer_without_a_user_still_names_the_right(cluster: Cluster) -> None:
    answering(cluster, 403, "Forbidden", "no user named here")
    with pytest.raises(AccessDenied) as caught:
        cluster.list("pod", "production")
    assert caught.value.user is None
    assert str(caught.value).startswith(
        "the credentials may not list pods in namespace production (403 Forbidden, on "
        "context 'course')")


def test_refused_credentials_still_stop_the_run(cluster: Cluster) -> None:
    answering(cluster, 401, "Unauthorized")
    with pytest.raises(ClusterUnreachable, match="refused the credentials") as caught:
        cluster.list("secret", "production")
    assert caught.value.exit_code == 3


def test_a_missing_object_is_none_not_an_error(cluster: Cluster) -> None:
    asked = answering(cluster, 404, "Not Found")
    assert cluster.get("secret", "db-credentials", "production") is None
    assert asked == [("/api/v1/namespaces/production/secrets/db-credentials", "GET")]


@pytest.mark.parametrize("kind, resource", [
    ("secret", "secrets"), ("deployment", "deployments.apps"),
    ("ingress", "ingresses.networking.k8s.io"), ("endpointslice",
                                                  "endpointslices.discovery.k8s.io"),
    ("clusterrolebinding", "clusterrolebindings.rbac.authorization.k8s.io"),
])
def test_kinds_name_their_resource_as_rbac_does(kind: str, resource: str) -> None:
    assert KINDS[kind].resource == resource


def serving(cluster: Cluster, objects: dict[str, dict], forbidden: str) -> list[str]:
    """Make `cluster` answer GETs of the paths in `objects`, an empty list for other
    collections, 404 for other objects, and 403 (as the API server words it) for every
    path holding `forbidden`. Returns the paths asked."""
    asked: list[str] = []

    def call_api(path: str, method: str, **_: object) -> SimpleNamespace:
        asked.append(path)
        if forbidden in path:
            error = client.ApiException(status=403, reason="Forbidden")
            error.body = json.dumps({"kind": "Status", "code": 403, "reason": "Forbidden",
                                     "message": FORBIDDEN_SECRETS})
            raise error
        if path in objects:
            return SimpleNamespace(data=json.dumps(objects[path]).encode())
        if path.rsplit("/", 1)[-1] in {k.plural for k in KINDS.values()}:
            return SimpleNamespace(data=b'{"items": []}')
        raise client.ApiException(status=404, reason="Not Found")

    cluster._api.call_api = call_api   # type: ignore[method-assign]
    return asked


def test_a_run_where_secrets_are_forbidden_completes(cluster: Cluster) -> None:
    """The API reader, the state view and the runner together: a 403 on the Secret fails the
    two criteria that read it and leaves the others to pass; nothing aborts."""
    env = [{"name": var, "valueFrom": {"secretKeyRef": {"name": "db-credentials", "key": key}}}
           for var, key in (("DB_USERNAME", "username"), ("DB_PASSWORD", "password"))]
    deployment = {"kind": "Deployment", "metadata": {"name": "api-server"},
                  "spec": {"template": {"spec": {"containers": [
                      {"name": "api-server", "env": env}]}}}}
    asked = serving(cluster, {
        "/api/v1/namespaces/production": {"metadata": {"name": "production"}},
        "/apis/apps/v1/namespaces/production/deployments/api-server": deployment,
        "/apis/apps/v1/namespaces/production/deployments": {"items": [deployment]},
    }, forbidden="/secrets")
    results = run_criteria(exercises.criteria("secrets"), ClusterState(cluster, "production"))
    assert [(r.id, r.passed) for r in results] == [
        ("secret-exists", False), ("secret-keys", False), ("secret-env-refs", True),
        ("no-literal-passwords", True)]
    for result in results[:2]:
        assert result.message.startswith("the credentials may not get secrets in namespace "
                                         "production (403 Forbidden on secrets/db-credentials, "
                                         "as system:serviceaccount:production:reader"), \
            result.message
    assert asked.count("/api/v1/namespaces/production/secrets/db-credentials") == 1
