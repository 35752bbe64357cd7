"""Pure helpers of the disruptions checks: label selectors, and how many disruptions a
budget allows, computed as the disruption controller does."""

from __future__ import annotations

import pytest

from checker.checks.disruptions import allowed_when_healthy, selector_matches, selector_text

from .fakes import FakeState, pdb, workload

APP = {"app": "api-server", "tier": "web"}


@pytest.mark.parametrize("selector, expected", [
    ({"matchLabels": {"app": "api-server"}}, True),
    ({"matchLabels": {"app": "apiserver"}}, False),
    ({"matchLabels": {"app": "api-server", "tier": "db"}}, False),
    ({}, True),                                   # empty: every pod (policy/v1)
    (None, False),                                # null: no pod
    ({"matchExpressions": [{"key": "app", "operator": "In",
                            "values": ["api-server", "frontend"]}]}, True),
    ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["api-server"]}]},
     False),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, False),
    ({"matchLabels": {"app": "api-server"},
      "matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]}, True),
])
def test_selector_matches(selector, expected):
    assert selector_matches(selector, APP) is expected


def test_selector_text():
    assert selector_text({"matchLabels": {"app": "api-server"}}) == "app=api-server"
    assert selector_text({"matchExpressions": [
        {"key": "app", "operator": "In", "values": ["a", "b"]},
        {"key": "x", "operator": "DoesNotExist"}]}) == "app in (a,b),!x"
    assert selector_text({}) == "(empty: every pod)"


@pytest.mark.parametrize("spec, expected_pods, allowed", [
    ({"maxUnavailable": 1}, 3, 1),
    ({"minAvailable": 2}, 3, 1),
    ({"minAvailable": 3}, 3, 0),
    ({"minAvailable": 1}, 3, 2),
    ({"maxUnavailable": 0}, 3, 0),
    ({"minAvailable": "50%"}, 3, 1),     # 1.5 rounds up to 2 that must stay
    ({"maxUnavailable": "34%"}, 3, 2),   # 1.02 rounds up to 2
    ({"maxUnavailable": "33%"}, 3, 1),
    ({"minAvailable": "100%"}, 3, 0),
    ({"maxUnavailable": 5}, 3, 3),
    ({"minAvailable": 4}, 3, 0),
    ({}, 3, 3),
])
def test_allowed_when_healthy(spec, expected_pods, allowed):
    assert allowed_when_healthy(spec, expected_pods) == allowed


def _state(pdb_labels: dict) -> FakeState:
    budget = pdb()
    budget["spec"]["selector"] = {"matchLabels": pdb_labels}
    return FakeState(deployment=[workload()], poddisruptionbudget=[budget], pod=[])


def test_before_any_pod_runs_the_selector_is_judged_by_the_template():
    from checker.checks.disruptions import selects_app
    from checker.model import Failure

    note = selects_app(_state({"app": "api-server"}))
    assert "no api-server pod runs yet" in note
    with pytest.raises(Failure, match="spec.selector app=apiserver does not match the "
                                      "api-server pod template's labels"):
        selects_app(_state({"app": "apiserver"}))
