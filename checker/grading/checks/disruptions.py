"""Exercise `disruptions`: api-server-pdb keeps 2 of the 3 api-server pods through a drain.

How many disruptions a budget allows is computed the way the disruption controller does it,
by `allowed_when_healthy` in checks/common.py, which the audit uses too. The pitfall-audit
criterion of this exercise is added beside these by the registry (checker/grading/exercises.py),
from checker/grading/audit.py.
"""

from __future__ import annotations

from ..model import Criterion, Failure
from .common import (APP, allowed_when_healthy, budget_text, budgets_for, deployment, listing,
                     live_pods, require, selector_matches, selector_text)
from ..state import ClusterState

LESSON = "lessons/10-pitfalls.ipynb"
NAME = "api-server-pdb"
WANT_ALLOWED = 1


def _budget(state: ClusterState) -> dict:
    return require(state, "poddisruptionbudget", NAME)


# --- criteria -----------------------------------------------------------------------------

def selects_app(state: ClusterState) -> str | None:
    pdb = _budget(state)
    selector = (pdb.get("spec") or {}).get("selector")
    dep = deployment(state)
    app_selector = dep["spec"].get("selector")
    pods = live_pods(state)
    app = {p["metadata"]["name"] for p in pods
           if selector_matches(app_selector, p["metadata"].get("labels"))}
    chosen = {p["metadata"]["name"] for p in pods
              if selector_matches(selector, p["metadata"].get("labels"))}
    shown = selector_text(selector)
    template_labels = dep["spec"]["template"]["metadata"].get("labels") or {}
    labels = listing(f"{k}={v}" for k, v in template_labels.items())
    if not app:   # no pod yet (just applied, or scaled to 0): judge by the pod template
        if selector_matches(selector, template_labels):
            return (f"no {APP} pod runs yet; spec.selector {shown} matches the labels of its "
                    "pod template")
        raise Failure(f"PodDisruptionBudget {NAME}: spec.selector {shown} does not match the "
                      f"{APP} pod template's labels ({labels})")
    if not chosen:
        raise Failure(f"PodDisruptionBudget {NAME}: spec.selector {shown} matches no pod in "
                      f"namespace {state.namespace} (the {APP} pods carry {labels})")
    extra, missing = sorted(chosen - app), sorted(app - chosen)
    if extra:
        raise Failure(f"PodDisruptionBudget {NAME}: spec.selector {shown} also selects "
                      f"{len(extra)} pod(s) that are not {APP}'s: {listing(extra)}")
    if missing:
        raise Failure(f"PodDisruptionBudget {NAME}: spec.selector {shown} selects only "
                      f"{len(app) - len(missing)} of the {len(app)} {APP} pods (misses "
                      f"{listing(missing)})")
    labels = dep["spec"]["template"]["metadata"].get("labels") or {}
    twins = [p["metadata"]["name"] for p in budgets_for(state, labels)
             if p["metadata"]["name"] != NAME]
    if twins:
        raise Failure(f"the {APP} pods are selected by PodDisruptionBudget {NAME} and also by "
                      f"{listing(twins)}: the eviction API refuses pods that more than one "
                      "budget covers, so drains hang")


def allows_one(state: ClusterState) -> None:
    spec = _budget(state).get("spec") or {}
    expected = deployment(state)["spec"].get("replicas", 1)
    allowed = allowed_when_healthy(spec, expected)
    if allowed == WANT_ALLOWED:
        return None
    said = budget_text(spec)
    if allowed == 0:
        raise Failure(f"PodDisruptionBudget {NAME}: {said} with {expected} pods allows no "
                      "disruption, so `kubectl drain` waits forever on every node that runs "
                      f"an {APP} pod")
    raise Failure(f"PodDisruptionBudget {NAME}: {said} with {expected} pods allows {allowed} "
                  f"pods down at once, expected {WANT_ALLOWED} (keep at least "
                  f"{expected - WANT_ALLOWED} of {expected})")


CRITERIA = (
    Criterion("pdb-selects-app", "PodDisruptionBudget api-server-pdb selects exactly the "
              "api-server pods", 2,
              f"spec.selector.matchLabels must equal the pods' labels (app: {APP}); compare "
              f"`kubectl get pods --show-labels`; see {LESSON}, 'PodDisruptionBudgets'",
              selects_app),
    Criterion("pdb-allows-one", "the budget allows exactly 1 disruption while all pods are "
              "healthy", 2,
              f"maxUnavailable: 1 (or minAvailable: 2 with 3 replicas); `kubectl get pdb` shows "
              f"ALLOWED DISRUPTIONS; see {LESSON}, 'PodDisruptionBudgets'", allows_one),
)
