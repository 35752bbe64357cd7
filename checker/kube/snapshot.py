"""Many namespaces of one cluster read at once: what grading a whole class reads through.

A `Snapshot` serves the `Reader` protocol for every namespace of a class from one LIST per
kind across the cluster, made the first time any check asks for that kind and kept for the
snapshot's life. A class of a hundred students therefore costs a few dozen LISTs, not a
hundred times each check's reads; the checks themselves do not change (the state view is the
seam). Access reviews cannot be listed: they are sent as asked, once each, from as many
threads as grade students.

Label selectors are those the checks use: `key=value`, `key==value`, `key!=value`, `key`
and `!key`, joined by commas. Field selectors: `metadata.name=` and `metadata.namespace=`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..errors import AccessDenied
from .client import Cluster
from .kinds import KINDS


class Snapshot:
    """One LIST per kind, served to any number of namespaces' state views (a Reader)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._kinds: dict[str, list[dict] | AccessDenied] = {}
        self._index: dict[str, dict[tuple[str | None, str], dict]] = {}
        self._reviews: dict[tuple, bool] = {}
        self._lock = threading.Lock()
        self._kind_locks: dict[str, threading.Lock] = {}

    @property
    def context(self) -> str | None:
        return self.cluster.context

    # --- the Reader protocol ------------------------------------------------------------

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        self._all(kind)
        scope = namespace if KINDS[kind].namespaced else None
        return self._index[kind].get((scope, name))

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        wanted = _labels_matcher(selector)
        fields = _fields_matcher(field_selector)
        scoped = KINDS[kind].namespaced and namespace
        return [item for item in self._all(kind)
                if (not scoped or item["metadata"].get("namespace") == namespace)
                and wanted(item["metadata"].get("labels") or {}) and fields(item)]

    def can_i(self, user: str, groups: list[str], verb: str, resource: str, group: str = "",
              namespace: str | None = None) -> bool:
        key = (user, tuple(groups), verb, resource, group, namespace)
        if key not in self._reviews:   # two threads may ask at once: both answers agree
            self._reviews[key] = self.cluster.can_i(user, groups, verb, resource, group,
                                                    namespace)
        return self._reviews[key]

    # --- one LIST per kind --------------------------------------------------------------

    def _all(self, kind: str) -> list[dict]:
        """Every object of a kind in the cluster, listed once (a refusal is kept too)."""
        if kind not in self._kinds:
            with self._lock:
                lock = self._kind_locks.setdefault(kind, threading.Lock())
            with lock:
                if kind not in self._kinds:
                    self._fetch(kind)
        found = self._kinds[kind]
        if isinstance(found, AccessDenied):
            raise found
        return found

    def _fetch(self, kind: str) -> None:
        try:
            items = self.cluster.list(kind)
        except AccessDenied as refused:
            self._kinds[kind] = refused
            return
        self._index[kind] = {(item["metadata"].get("namespace"), item["metadata"]["name"]): item
                             for item in items}
        self._kinds[kind] = items

    @property
    def kinds_listed(self) -> list[str]:
        """The kinds listed so far, for benchmarks and tests."""
        return sorted(self._kinds)


def _labels_matcher(selector: str | None) -> Callable[[dict], bool]:
    """A test of an object's labels against a label selector of the kinds the checks use."""
    terms: list[Callable[[dict], bool]] = []
    for term in filter(None, (part.strip() for part in (selector or "").split(","))):
        if "!=" in term:
            key, value = (side.strip() for side in term.split("!=", 1))
            terms.append(lambda labels, k=key, v=value: labels.get(k) != v)
        elif "=" in term:
            key, value = (side.strip() for side in term.replace("==", "=").split("=", 1))
            terms.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif term.startswith("!"):
            terms.append(lambda labels, k=term[1:].strip(): k not in labels)
        elif " " in term or "(" in term:
            raise ValueError(f"label selector {selector!r}: set-based terms are not served "
                             "from a snapshot")
        else:
            terms.append(lambda labels, k=term: k in labels)
    return lambda labels: all(test(labels) for test in terms)


def _fields_matcher(selector: str | None) -> Callable[[dict], bool]:
    """A test of an object against `metadata.name=` / `metadata.namespace=` terms."""
    wanted: dict[str, str] = {}
    for term in filter(None, (part.strip() for part in (selector or "").split(","))):
        field, _, value = term.replace("==", "=").partition("=")
        if field not in ("metadata.name", "metadata.namespace") or not _:
            raise ValueError(f"field selector {selector!r}: only metadata.name and "
                             "metadata.namespace are served from a snapshot")
        wanted[field.split(".", 1)[1]] = value
    return lambda item: all(item["metadata"].get(key) == value for key, value in wanted.items())
