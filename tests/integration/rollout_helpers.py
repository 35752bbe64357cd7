"""Helpers the rolling-updates, storage, disruptions, audit and capstone tests share."""

from __future__ import annotations

from checker.clusters.base import Kubectl

from ..workloads import PODINFO  # noqa: F401  (the tests' image)
from .exercise_helpers import Docs, by_id

FAST = {"sandbox.rwk/ready-delay": "100ms"}
"""Pod annotation: the sandbox makes the pod Ready after 100 ms instead of 1-2.5 s, so a
three-step rollout takes a second, not ten. Checks never read it."""


def fast(docs: Docs) -> Docs:
    """The manifests with every pod template's pods made Ready quickly."""
    for doc in docs:
        if doc["kind"] in ("Deployment", "StatefulSet"):
            meta = doc["spec"]["template"].setdefault("metadata", {})
            meta.setdefault("annotations", {}).update(FAST)
    return docs


def rollout(kubectl: Kubectl, namespace: str, *change: str,
            target: str = "deployment/api-server") -> None:
    """Run one kubectl change (if any), then wait until the rollout completes."""
    if change:
        done = kubectl(*change, "-n", namespace)
        assert done.ok, done.output
    done = kubectl("rollout", "status", target, "-n", namespace, "--timeout=120s",
                   timeout=150)
    assert done.ok, done.output


def assert_only(report, failing: str, *fragments: str, ignore=frozenset()) -> None:
    """`failing` fails with a message containing each of `fragments`; nothing else fails but
    `ignore`."""
    results = by_id(report)
    assert not results[failing].passed, f"{failing} passed but the variant breaks it"
    for fragment in fragments:
        assert fragment in results[failing].message, results[failing].message
    others = [r for r in report.results if r.id not in {failing, *ignore} and not r.passed]
    assert not others, [(r.id, r.message) for r in others]
