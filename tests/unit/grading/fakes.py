"""A cluster state answered from dicts, and builders of the objects the unit tests feed it.

The checks and the audit read only through the state interface of checker/grading/state.py,
so one fake serves every unit test of a check or a rule.
"""

from __future__ import annotations

import copy

APP = "api-server"
IMAGE = "ghcr.io/stefanprodan/podinfo:6.7.0"


class FakeState:
    """The reads a check makes (ClusterState's interface), answered from lists of objects
    given by kind: `FakeState(deployment=[...], pod=[...])`. An object whose metadata names
    another namespace is seen only by `list_cluster`."""

    def __init__(self, namespace: str = "production", **kinds: list[dict]):
        self.namespace = namespace
        self.kinds = kinds

    def require_namespace(self) -> dict:
        return {"metadata": {"name": self.namespace}, "status": {"phase": "Active"}}

    def _here(self, kind: str) -> list[dict]:
        return [o for o in self.kinds.get(kind, [])
                if o["metadata"].get("namespace", self.namespace) == self.namespace]

    def list(self, kind: str, selector: str | None = None) -> list[dict]:
        found = self._here(kind)
        if selector:
            wanted = dict(term.split("=", 1) for term in selector.split(","))
            found = [o for o in found if all((o["metadata"].get("labels") or {}).get(k) == v
                                             for k, v in wanted.items())]
        return found

    def get(self, kind: str, name: str) -> dict | None:
        return next((o for o in self._here(kind) if o["metadata"]["name"] == name), None)

    def list_cluster(self, kind: str, field_selector: str | None = None) -> list[dict]:
        found = self.kinds.get(kind, [])
        if field_selector and field_selector.startswith("metadata.name="):
            name = field_selector.split("=", 1)[1]
            found = [o for o in found if o["metadata"]["name"] == name]
        return found


def container(name: str = APP, **fields) -> dict:
    """A podinfo container named `name`, with `fields` added."""
    return {"name": name, "image": IMAGE, **copy.deepcopy(fields)}


def workload(name: str = APP, replicas: int = 3, containers: list[dict] | None = None,
             volumes: list[dict] | None = None, kind: str = "Deployment",
             uid: str | None = None) -> dict:
    """A Deployment (or StatefulSet) as the API lists it: pods labelled app=NAME."""
    pod: dict = {"containers": copy.deepcopy(containers or [container(name)])}
    if volumes:
        pod["volumes"] = copy.deepcopy(volumes)
    metadata: dict = {"name": name}
    if uid:
        metadata["uid"] = uid
    return {"kind": kind, "metadata": metadata, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": pod}}}


def pdb(name: str = "api-server-pdb", app: str = APP, **budget) -> dict:
    """A PodDisruptionBudget selecting app=APP; maxUnavailable 1 unless `budget` says."""
    return {"metadata": {"name": name}, "spec": {
        "selector": {"matchLabels": {"app": app}}, **(budget or {"maxUnavailable": 1})}}


def hpa(low: int, high: int, name: str = "api-server-hpa", target: str = APP) -> dict:
    """An HPA on Deployment `target`, minReplicas `low`, maxReplicas `high`."""
    return {"metadata": {"name": name}, "spec": {
        "scaleTargetRef": {"kind": "Deployment", "name": target},
        "minReplicas": low, "maxReplicas": high}}
