"""Exercise `disruptions`: api-server-pdb keeps 2 of the 3 api-server pods through a drain.

How many disruptions a budget allows is computed the way the disruption controller does it
(pkg/controller/disruption): percentages round up, and with every pod healthy the budget
allows `expected - desiredHealthy` evictions. The pitfall-audit criterion of this exercise
is added beside these by the registry (checker/exercises.py), from checker/audit.py.
"""

from __future__ import annotations

from ..model import Criterion, Failure
from .common import APP, deployment, listing, near
from .state import ClusterState

LESSON = "lessons/10-pitfalls.ipynb"
NAME = "api-server-pdb"
WANT_ALLOWED = 1


# --- label selectors (pure) ---------------------------------------------------------------

def selector_matches(selector: dict | None, labels: dict | None) -> bool:
    """Whether a LabelSelector (matchLabels, matchExpressions) selects `labels`.

    A null selector selects nothing; an empty one ({}) selects everything, as in policy/v1.
    """
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def selector_text(selector: dict | None) -> str:
    """A selector as kubectl writes one: `app=api-server,tier in (web)`."""
    if selector is None:
        return "(none)"
    parts = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = ",".join(expression.get("values") or [])
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                      "Exists": f"{key}", "DoesNotExist": f"!{key}"}.get(operator,
                                                                       f"{key} {operator}"))
    return ",".join(parts) or "(empty: every pod)"


def allowed_when_healthy(spec: dict, expected: int) -> int:
    """How many of `expected` healthy pods a PDB spec lets be evicted at once."""
    def scaled(value: int | str) -> int:
        if isinstance(value, str) and value.endswith("%"):
            return -(-int(value[:-1]) * expected // 100)   # percentages round up
        return int(value)

    if spec.get("maxUnavailable") is not None:
        desired_healthy = max(expected - scaled(spec["maxUnavailable"]), 0)
    elif spec.get("minAvailable") is not None:
        desired_healthy = scaled(spec["minAvailable"])
    else:
        desired_healthy = 0
    return max(expected - desired_healthy, 0)


def budget_text(spec: dict) -> str:
    for field in ("minAvailable", "maxUnavailable"):
        if spec.get(field) is not None:
            return f"{field} {spec[field]}"
    return "neither minAvailable nor maxUnavailable"


# --- reads --------------------------------------------------------------------------------

def live_pods(state: ClusterState) -> list[dict]:
    """Pods of the namespace that are not being deleted."""
    return [p for p in state.list("pod") if not p["metadata"].get("deletionTimestamp")]


def budgets_for(state: ClusterState, labels: dict) -> list[dict]:
    """The PodDisruptionBudgets that select pods carrying `labels`."""
    return [pdb for pdb in state.list("poddisruptionbudget")
            if selector_matches((pdb.get("spec") or {}).get("selector"), labels)]


def _budget(state: ClusterState) -> dict:
    found = state.get("poddisruptionbudget", NAME)
    if found is None:
        others = [p["metadata"]["name"] for p in state.list("poddisruptionbudget")]
        raise Failure(f"no PodDisruptionBudget {NAME!r} in namespace {state.namespace}"
                      f"{near(NAME, others)}; PodDisruptionBudgets there: {listing(others)}")
    return found


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
