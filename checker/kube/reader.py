"""The reads the grading core asks of a cluster: one small protocol, so that the live client
(`checker.kube.client.Cluster`), a pre-fetched snapshot of many namespaces, or a test's
stand-in can serve them without a change to any check.

Objects are plain dicts in the API's own JSON shape. A read the credentials may not make
raises `checker.errors.AccessDenied`; an unreachable server, `ClusterUnreachable`.
"""

from __future__ import annotations

from typing import Protocol


class Reader(Protocol):
    """What the state view reads through: `checker.kube.client.Cluster`, or a stand-in."""

    @property
    def context(self) -> str | None:
        """The kube context the reads go to, for messages."""
        ...

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        """One object, or None when it does not exist."""
        ...

    def can_i(self, user: str, groups: list[str], verb: str, resource: str, group: str = "",
              namespace: str | None = None) -> bool:
        """Whether a SubjectAccessReview allows `user` to `verb` the resource."""
        ...

    def list(self, kind: str, namespace: str | None = None, selector: str | None = None,
             field_selector: str | None = None) -> list[dict]:
        """Objects of a kind in a namespace, or in all of them for namespace None."""
        ...
