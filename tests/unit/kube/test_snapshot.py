"""checker.kube.snapshot: one LIST per kind for many namespaces, each namespace served its
own slice, as the live client would answer it."""

from __future__ import annotations

import threading
import time

import pytest

from checker.errors import AccessDenied
from checker.grading.state import ClusterState
from checker.kube.snapshot import Snapshot


def _obj(name: str, namespace: str | None = None, **labels: str) -> dict:
    meta: dict = {"name": name, "labels": labels}
    if namespace:
        meta["namespace"] = namespace
    return {"metadata": meta}


class Recording:
    """Stands in for `Cluster`: answers every-namespace LISTs from memory, recording them."""

    context = "classroom"

    def __init__(self, objects: dict[str, list[dict]], refused: set[str] = frozenset(),
                 delay: float = 0) -> None:
        self.objects, self.refused, self.delay = objects, refused, delay
        self.asked: list[tuple] = []

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        self.asked.append(("list", kind, namespace, selector, field_selector))
        time.sleep(self.delay)
        if kind in self.refused:
            raise AccessDenied("list", kind + "s", all_namespaces=True)
        return self.objects.get(kind, [])

    def can_i(self, user, groups, verb, resource, group="", namespace=None) -> bool:
        self.asked.append(("can-i", user, verb, resource, namespace))
        return namespace == "student-a"


def _class() -> Recording:
    return Recording({
        "namespace": [_obj("student-a"), _obj("student-b")],
        "configmap": [_obj("api-config", "student-a"), _obj("api-config", "student-b"),
                      _obj("other", "student-b")],
        "pod": [_obj("web-1", "student-a", app="web", tier="front"),
                _obj("web-2", "student-a", app="web"), _obj("db-0", "student-a", app="db"),
                _obj("web-1", "student-b", app="web")]})


def test_each_kind_is_listed_once_for_every_namespace() -> None:
    cluster = _class()
    snapshot = Snapshot(cluster)
    for namespace in ("student-a", "student-b"):
        state = ClusterState(snapshot, namespace)
        assert state.get("configmap", "api-config")["metadata"]["namespace"] == namespace
        state.list("pod")
    assert cluster.asked == [("list", "namespace", None, None, None),
                             ("list", "configmap", None, None, None),
                             ("list", "pod", None, None, None)]
    assert snapshot.kinds_listed == ["configmap", "namespace", "pod"]


def test_a_namespace_sees_only_its_own_objects() -> None:
    snapshot = Snapshot(_class())
    assert [o["metadata"]["name"] for o in snapshot.list("configmap", "student-b")] == [
        "api-config", "other"]
    assert snapshot.get("configmap", "other", "student-a") is None
    assert snapshot.get("namespace", "student-b")["metadata"]["name"] == "student-b"
    assert snapshot.get("namespace", "student-c") is None
    assert len(snapshot.list("configmap")) == 3   # every namespace, as the live list


@pytest.mark.parametrize(("selector", "names"), [
    ("app=web", ["web-1", "web-2"]), ("app==web,tier=front", ["web-1"]),
    ("app!=web", ["db-0"]), ("tier", ["web-1"]), ("!tier", ["web-2", "db-0"]),
    ("", ["web-1", "web-2", "db-0"])])
def test_label_selectors_match_as_the_api_does(selector, names) -> None:
    found = Snapshot(_class()).list("pod", "student-a", selector)
    assert [o["metadata"]["name"] for o in found] == names


def test_selectors_it_cannot_serve_are_an_error_not_a_wrong_answer() -> None:
    snapshot = Snapshot(_class())
    with pytest.raises(ValueError, match="set-based"):
        snapshot.list("pod", "student-a", "app in (web, db)")
    with pytest.raises(ValueError, match="only metadata.name"):
        snapshot.list("pod", None, field_selector="status.phase=Running")


def test_field_selectors_by_name_across_namespaces() -> None:
    found = Snapshot(_class()).list("configmap", None, field_selector="metadata.name=other")
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in found] == [
        ("student-b", "other")]


def test_a_refused_list_is_kept_and_raised_to_every_namespace() -> None:
    cluster = Recording({"namespace": [_obj("student-a")]}, refused={"secret"})
    snapshot = Snapshot(cluster)
    for namespace in ("student-a", "student-b"):
        with pytest.raises(AccessDenied):
            snapshot.list("secret", namespace)
    assert cluster.asked.count(("list", "secret", None, None, None)) == 1


def test_access_reviews_are_sent_once_each() -> None:
    cluster = _class()
    snapshot = Snapshot(cluster)
    for _ in range(3):
        assert snapshot.can_i("deployer", [], "create", "deployments", "apps", "student-a")
        assert not snapshot.can_i("deployer", [], "create", "deployments", "apps", "student-b")
    assert len([a for a in cluster.asked if a[0] == "can-i"]) == 2


def test_threads_asking_at_once_share_one_list() -> None:
    cluster = Recording({"pod": [_obj("web-1", "student-a")]}, delay=0.05)
    snapshot = Snapshot(cluster)
    threads = [threading.Thread(target=snapshot.list, args=("pod", "student-a"))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cluster.asked == [("list", "pod", None, None, None)]
