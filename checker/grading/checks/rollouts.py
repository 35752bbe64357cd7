"""Exercise `rolling-updates`: a safe strategy, an update to 6.7.1, then a rollback to 6.7.0.

The history is read from the Deployment's ReplicaSets: each carries the revision it last
served (`deployment.kubernetes.io/revision`), and a rollback gives the old ReplicaSet a new,
higher revision. So "6.7.1 happened, then was undone" is a 6.7.1 ReplicaSet whose revision is
lower than the Deployment's current one.
"""

from __future__ import annotations

from ..model import Criterion, Failure
from .common import (APP, condition, container, deployment, fail_on, hpa_for, listing,
                     replica_sets, revision, rollout_diagnosis, scaled)
from ..state import ClusterState

LESSON = "lessons/08-rolling-updates.ipynb"
REPLICAS = 3
MAX_SURGE, MAX_UNAVAILABLE = 1, 0
UPDATE_TAG, CURRENT_TAG = "6.7.1", "6.7.0"
DEFAULT_ROLLING = "25%"
"""What the API server writes into maxSurge and maxUnavailable that a manifest leaves out."""
HISTORY = "deployment.kubernetes.io/revision-history"
"""Earlier revisions of a ReplicaSet that a rollback brought back."""


# --- pure helpers -------------------------------------------------------------------------

def rolling_bounds(strategy: dict | None, replicas: int) -> tuple[int, int]:
    """(surge, unavailable) a RollingUpdate strategy means for `replicas` pods.

    maxSurge rounds up, maxUnavailable rounds down, and when both come to 0 the controller
    lets one pod be unavailable (k8s.io/kubernetes/pkg/controller/deployment/util).
    """
    rolling = (strategy or {}).get("rollingUpdate") or {}

    def resolved(field: str, round_up: bool) -> int:
        value = rolling.get(field)
        return scaled(DEFAULT_ROLLING if value is None else value, replicas, round_up)

    surge, unavailable = resolved("maxSurge", True), resolved("maxUnavailable", False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def image_tag(image: str) -> str:
    """The tag of an image reference ('latest' when none is given; '' for a digest only)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.rsplit(":", 1)[1]
    return "" if "@" in image else "latest"


def _tag_of(workload: dict) -> str:
    try:
        return image_tag(container(workload).get("image", ""))
    except Failure:
        return "?"


# --- criteria -----------------------------------------------------------------------------

def strategy_values(state: ClusterState) -> str | None:
    dep = deployment(state)
    spec = dep["spec"]
    strategy = spec.get("strategy") or {}
    kind = strategy.get("type", "RollingUpdate")
    if kind != "RollingUpdate":
        raise Failure(f"spec.strategy.type is {kind!r}, expected 'RollingUpdate' (Recreate "
                      "stops every old pod before starting a new one: downtime)")
    replicas = spec.get("replicas", 1)
    rolling = strategy.get("rollingUpdate") or {}
    surge, unavailable = rolling_bounds(strategy, replicas)
    problems, notes = [], []
    for field, got, want, rounding in (("maxSurge", surge, MAX_SURGE, "up"),
                                       ("maxUnavailable", unavailable, MAX_UNAVAILABLE, "down")):
        raw = rolling.get(field)
        spelled = f"not set (default {DEFAULT_ROLLING})" if raw is None else repr(raw)
        meaning = f" resolves to {got} of {replicas} replicas (rounded {rounding})" \
            if raw is None or isinstance(raw, str) else ""
        if got != want:
            why = (" so a pod can stop before its replacement is Ready"
                   if field == "maxUnavailable" else "")
            problems.append(f"spec.strategy.rollingUpdate.{field} is {spelled}{meaning}, "
                            f"expected {want}{why}")
        elif meaning:
            notes.append(f"{field} {spelled}{meaning}; write {want} so it stays {want} at "
                         "any replica count")
    fail_on(problems)
    return "; ".join(notes) or None


def replica_count(state: ClusterState) -> str | None:
    dep = deployment(state)
    replicas = dep["spec"].get("replicas", 1)
    hpa = hpa_for(state, "Deployment", APP)
    if hpa is None:
        if replicas != REPLICAS:
            raise Failure(f"spec.replicas is {replicas}, expected {REPLICAS} (no "
                          f"HorizontalPodAutoscaler targets Deployment {APP})")
        return None
    spec = hpa.get("spec") or {}
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas", 1)
    name = hpa["metadata"]["name"]
    if not low <= replicas <= high:
        raise Failure(f"spec.replicas is {replicas}, outside HorizontalPodAutoscaler {name}'s "
                      f"bounds {low}..{high}")
    return f"HorizontalPodAutoscaler {name} decides the replicas ({replicas} now, {low}..{high})"


def history_kept(state: ClusterState) -> None:
    limit = deployment(state)["spec"].get("revisionHistoryLimit", 10)
    if limit == 0:
        raise Failure("spec.revisionHistoryLimit is 0: old ReplicaSets are deleted at once, "
                      "so there is no revision to roll back to")


def updated_then_undone(state: ClusterState) -> str | None:
    dep = deployment(state)
    current = revision(dep)
    sets = replica_sets(state, dep)
    updates = [rs for rs in sets if _tag_of(rs) == UPDATE_TAG]
    seen = listing(f"{rs['metadata']['name']} (tag {_tag_of(rs)}, revision {revision(rs)})"
                   for rs in sets)
    if not updates:
        if dep["spec"].get("revisionHistoryLimit", 10) == 0 and current and current > 1:
            raise Failure(f"no ReplicaSet of {APP} runs tag {UPDATE_TAG}: "
                          "spec.revisionHistoryLimit 0 deleted the old ones (revision "
                          f"{current} now); ReplicaSets: {seen}")
        if current in (None, 1):
            raise Failure(f"Deployment {APP} is at revision {current or 1}: tag {UPDATE_TAG} "
                          f"was never rolled out; ReplicaSets: {seen}")
        raise Failure(f"no ReplicaSet of {APP} runs tag {UPDATE_TAG}; ReplicaSets: {seen}")
    newest = updates[-1]
    if current is not None and (revision(newest) or 0) >= current:
        earlier = (newest["metadata"].get("annotations") or {}).get(HISTORY)
        again = (f" (it was revision {earlier} before: the rollback was itself undone; "
                 "`kubectl rollout history` lists them)" if earlier else
                 ": the update happened but was never rolled back")
        raise Failure(f"ReplicaSet {newest['metadata']['name']} (tag {UPDATE_TAG}) is the "
                      f"current revision {current}{again}")
    return (f"tag {UPDATE_TAG} was revision {revision(newest)}; the current revision is "
            f"{current}")


def current_tag(state: ClusterState) -> None:
    image = container(deployment(state)).get("image", "")
    tag = image_tag(image)
    if tag != CURRENT_TAG:
        again = " (the update is still in place: roll it back)" if tag == UPDATE_TAG else ""
        raise Failure(f"container {APP} image is {image!r}: tag {tag or '(digest only)'!r}, "
                      f"expected {CURRENT_TAG!r}{again}")


def rollout_complete(state: ClusterState) -> None:
    dep = deployment(state)
    problem = rollout_diagnosis(state, dep)
    if not problem:
        return None
    progressing = condition(dep, "Progressing")
    if progressing.get("status") == "False":
        problem += f"; Progressing is False ({progressing.get('reason')})"
    raise Failure(f"Deployment {APP} is not rolled out: {problem}")


STRATEGY = (
    Criterion("rollout-strategy", "api-server rolls out with RollingUpdate, maxSurge 1, "
              "maxUnavailable 0", 2,
              f"set spec.strategy.rollingUpdate to {{maxSurge: 1, maxUnavailable: 0}}: one "
              f"extra pod at a time, none down before its replacement is Ready; see {LESSON}, "
              "'Strategy fields'", strategy_values),
    Criterion("rollout-replicas", "api-server runs 3 replicas (or what its HPA decides)", 1,
              f"spec.replicas: 3, unless a HorizontalPodAutoscaler targets the Deployment; "
              f"see {LESSON}, 'Strategy fields'", replica_count),
    Criterion("rollout-history-kept", "revisionHistoryLimit is not 0", 1,
              f"leave spec.revisionHistoryLimit out (default 10) or set it above 0; "
              f"`kubectl rollout history deployment/api-server`; see {LESSON}, "
              "'Rollout history'", history_kept),
)
"""The strategy part, which the capstone grades too."""

CRITERIA = STRATEGY + (
    Criterion("rollout-updated-then-undone", "tag 6.7.1 was rolled out, then rolled back", 2,
              f"`kubectl set image deployment/api-server api-server=ghcr.io/stefanprodan/"
              f"podinfo:{UPDATE_TAG}`, watch `kubectl rollout status`, then `kubectl rollout "
              f"undo deployment/api-server`; see {LESSON}, 'Rolling back'",
              updated_then_undone),
    Criterion("rollout-current-tag", "the pod template runs tag 6.7.0 again", 1,
              f"`kubectl rollout undo deployment/api-server` returns to the previous "
              f"revision; see {LESSON}, 'Rolling back'", current_tag),
    Criterion("rollout-complete", "the rollout is complete", 1,
              f"`kubectl rollout status deployment/api-server`; a pod that never becomes "
              f"Ready holds the rollout; see {LESSON}, 'Watching a rollout'", rollout_complete),
)
