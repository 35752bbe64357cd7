"""checker.grading.state: the state view reads one namespace through a Reader, each object
once, keeps refusals, and remembers the secret values it saw."""

from __future__ import annotations

import base64

import pytest

from checker.errors import AccessDenied
from checker.grading.model import Failure
from checker.grading.state import ClusterState
from checker.kube.reader import Reader

READER_MEMBERS = {name for name in vars(Reader) if not name.startswith("_")}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _ns(name: str) -> dict:
    return {"metadata": {"name": name}, "status": {"phase": "Active"}}


def _cm(name: str, namespace: str) -> dict:
    return {"metadata": {"name": name, "namespace": namespace}, "data": {"LOG_LEVEL": "info"}}


class Snapshot:
    """Objects of many namespaces, answered from memory, recording every read asked of it
    and every attribute the state view touches."""

    def __init__(self, objects: dict[str, list[dict]], refused: frozenset[str] = frozenset()):
        self.objects = objects
        self.refused = refused
        self.reads: list[tuple] = []
        self.touched: set[str] = set()

    def __getattribute__(self, name: str):
        if not name.startswith("_") and name not in {"objects", "refused", "reads", "touched"}:
            object.__getattribute__(self, "touched").add(name)
        return object.__getattribute__(self, name)

    @property
    def context(self) -> str:
        return "classroom"

    def _in(self, kind: str, namespace: str | None) -> list[dict]:
        if kind in self.refused:
            raise AccessDenied("list", kind + "s", namespace)
        return [o for o in self.objects.get(kind, [])
                if namespace is None or kind == "namespace"
                or o["metadata"].get("namespace") == namespace]

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        self.reads.append(("get", kind, name, namespace))
        return next((o for o in self._in(kind, namespace) if o["metadata"]["name"] == name), None)

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        self.reads.append(("list", kind, namespace, selector, field_selector))
        return self._in(kind, namespace)

    def can_i(self, user: str, groups: list[str], verb: str, resource: str, group: str = "",
              namespace: str | None = None) -> bool:
        self.reads.append(("can-i", user, verb, resource, namespace))
        return namespace == "team-a"


def _class() -> Snapshot:
    return Snapshot({"namespace": [_ns("team-a"), _ns("team-b")],
                     "configmap": [_cm("app-config", "team-a"), _cm("other", "team-b")]})


def test_each_object_is_read_once_per_run() -> None:
    snapshot = _class()
    state = ClusterState(snapshot, "team-a")
    for _ in range(3):
        assert state.get("configmap", "app-config")["data"] == {"LOG_LEVEL": "info"}
        state.list("configmap")
    assert snapshot.reads == [("get", "namespace", "team-a", None),
                              ("get", "configmap", "app-config", "team-a"),
                              ("list", "configmap", "team-a", None, None)]


def test_reads_are_bound_to_the_target_namespace() -> None:
    snapshot = _class()
    a, b = ClusterState(snapshot, "team-a"), ClusterState(snapshot, "team-b")
    assert [o["metadata"]["name"] for o in a.list("configmap")] == ["app-config"]
    assert [o["metadata"]["name"] for o in b.list("configmap")] == ["other"]
    assert b.get("configmap", "app-config") is None


def test_a_cluster_wide_list_asks_for_every_namespace() -> None:
    snapshot = _class()
    found = ClusterState(snapshot, "team-a").list_cluster("configmap", field_selector="x=y")
    assert len(found) == 2
    assert snapshot.reads == [("list", "configmap", None, None, "x=y")]


def test_a_missing_namespace_fails_naming_it_and_the_context() -> None:
    state = ClusterState(_class(), "team-c")
    with pytest.raises(Failure, match="namespace 'team-c' does not exist on context "
                                      "'classroom'"):
        state.get("configmap", "app-config")


def test_a_refused_read_is_raised_again_without_a_second_request() -> None:
    snapshot = Snapshot({"namespace": [_ns("team-a")]}, refused=frozenset({"secret"}))
    state = ClusterState(snapshot, "team-a")
    for _ in range(2):
        with pytest.raises(AccessDenied):
            state.get("secret", "db-credentials")
    assert snapshot.reads.count(("get", "secret", "db-credentials", "team-a")) == 1


def test_access_reviews_are_asked_once_each() -> None:
    snapshot = _class()
    state = ClusterState(snapshot, "team-a")
    assert state.can_i("deployer", [], "create", "deployments", "apps", "team-a")
    assert state.can_i("deployer", [], "create", "deployments", "apps", "team-a")
    assert not state.can_i("deployer", [], "create", "deployments", "apps", "team-b")
    assert len([r for r in snapshot.reads if r[0] == "can-i"]) == 2


def _secret(name: str, where: str, kind: str = "Opaque", **values: str) -> dict:
    return {"metadata": {"name": name, "namespace": where}, "type": kind,
            "data": {key: _b64(value) for key, value in values.items()}}


def test_every_secret_value_of_the_namespace_is_known_whether_read_or_not() -> None:
    snapshot = Snapshot({"namespace": [_ns("team-a")], "secret": [
        _secret("db-credentials", "team-a", username="app", password="s3cr3t-Pa55"),
        _secret("api-token", "team-a", token="tok-123"),
        _secret("elsewhere", "team-b", password="not-ours")]})
    state = ClusterState(snapshot, "team-a")
    assert state.secret_values() == ["s3cr3t-Pa55", "tok-123"]   # nothing read before
    assert snapshot.reads == [("list", "secret", "team-a", None, None)]
    state.secret_values()
    state.list("secret")   # the checks' own list is the same read
    assert len(snapshot.reads) == 2   # the namespace once, for state.list; the Secrets once


def test_a_secret_of_another_namespace_a_check_read_is_known_too() -> None:
    snapshot = Snapshot({"namespace": [_ns("team-a")], "secret": [
        _secret("db-credentials", "team-b", password="from-b")]})
    state = ClusterState(snapshot, "team-a")
    assert state.secret_values() == []
    state.list_cluster("secret", field_selector="metadata.name=db-credentials")
    assert state.secret_values() == ["from-b"]


def test_values_that_are_not_secret_are_not_masked() -> None:
    token = _secret("sa-token", "team-a", "kubernetes.io/service-account-token",
                    namespace="team-a", token="eyJhbGc", **{"ca.crt": "-----BEGIN CERT"})
    snapshot = Snapshot({"namespace": [_ns("team-a")], "secret": [
        token, _secret("db-credentials", "team-a", username="app", namespace="kept")]})
    assert ClusterState(snapshot, "team-a").secret_values() == ["eyJhbGc", "kept"]


def test_a_refused_list_of_the_secrets_is_raised_for_the_caller_to_withhold() -> None:
    snapshot = Snapshot({"namespace": [_ns("team-a")]}, refused=frozenset({"secret"}))
    with pytest.raises(AccessDenied, match="list secrets"):
        ClusterState(snapshot, "team-a").secret_values()



def test_the_state_view_asks_its_reader_for_nothing_outside_the_reader_protocol() -> None:
    snapshot = _class()
    state = ClusterState(snapshot, "team-c")
    with pytest.raises(Failure):
        state.require_namespace()          # reads the context for its message
    state = ClusterState(snapshot, "team-a")
    state.get("configmap", "app-config")
    state.list("configmap")
    state.list_cluster("namespace")
    state.can_i("deployer", [], "get", "pods", namespace="team-a")
    assert snapshot.touched <= READER_MEMBERS
    assert snapshot.touched == READER_MEMBERS
