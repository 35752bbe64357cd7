"""checker.kube.reader: the live client serves the Reader protocol, and so does a snapshot of
many namespaces, which is what lets class grading reuse every check unchanged."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml

from checker.kube.client import Cluster
from checker.kube.reader import Reader

READS = ("get", "list", "can_i")


def _members(protocol: type) -> set[str]:
    return {name for name in vars(protocol) if not name.startswith("_")}


def test_the_protocol_is_the_context_and_three_reads() -> None:
    assert _members(Reader) == {"context", *READS}


@pytest.mark.parametrize("read", READS)
def test_the_live_client_serves_each_read_with_the_same_parameters(read: str) -> None:
    assert (inspect.signature(getattr(Cluster, read)).parameters
            == inspect.signature(getattr(Reader, read)).parameters)


def test_the_live_client_names_its_context(tmp_path: Path) -> None:
    config = {"apiVersion": "v1", "kind": "Config", "current-context": "course",
              "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
              "users": [{"name": "u", "user": {"token": "t"}}],
              "contexts": [{"name": "course", "context": {"cluster": "c", "user": "u"}}]}
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    assert Cluster(kubeconfig=path).context == "course"   # no request is made


class Snapshot:
    """Objects of many namespaces read once, answered from memory: the shape a class's
    pre-fetched snapshot takes. It has the Reader's members and nothing of the client."""

    context = "classroom"

    def __init__(self, objects: dict[str, list[dict]]) -> None:
        self.objects = objects

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        return next((o for o in self.list(kind, namespace) if o["metadata"]["name"] == name),
                    None)

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        return [o for o in self.objects.get(kind, [])
                if namespace is None or o["metadata"].get("namespace") in (None, namespace)]

    def can_i(self, user: str, groups: list[str], verb: str, resource: str, group: str = "",
              namespace: str | None = None) -> bool:
        return False


def test_a_snapshot_has_the_readers_members_with_the_same_parameters() -> None:
    assert _members(Reader) <= set(dir(Snapshot))
    for read in READS:
        assert (inspect.signature(getattr(Snapshot, read)).parameters
                == inspect.signature(getattr(Reader, read)).parameters)
