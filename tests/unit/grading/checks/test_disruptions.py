"""The disruptions checks on a fake cluster state (the selector and budget arithmetic they
rest on is tested in test_common.py)."""

from __future__ import annotations

import pytest

from ..fakes import FakeState, pdb, workload

def _state(pdb_labels: dict) -> FakeState:
    budget = pdb()
    budget["spec"]["selector"] = {"matchLabels": pdb_labels}
    return FakeState(deployment=[workload()], poddisruptionbudget=[budget], pod=[])


def test_before_any_pod_runs_the_selector_is_judged_by_the_template():
    from checker.grading.checks.disruptions import selects_app
    from checker.grading.model import Failure

    note = selects_app(_state({"app": "api-server"}))
    assert "no api-server pod runs yet" in note
    with pytest.raises(Failure, match="spec.selector app=apiserver does not match the "
                                      "api-server pod template's labels"):
        selects_app(_state({"app": "apiserver"}))
