"""checker.grading.checks.namespaces: the classroom's own budget is never the student's work."""

from __future__ import annotations

import pytest

from checker.classroom import names
from checker.grading.checks import namespaces
from checker.grading.model import Failure

from ..fakes import FakeState

HARD = {"pods": "10", "requests.cpu": "2", "requests.memory": "2Gi", "limits.memory": "4Gi"}
DEFAULTS = [{"type": "Container", "default": {"cpu": "500m", "memory": "512Mi"},
             "defaultRequest": {"cpu": "100m", "memory": "128Mi"}}]
CLASSROOM = {names.MANAGED_BY: names.MANAGER}


def _quota(name: str, labels: dict | None = None) -> dict:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"hard": HARD}}


def _range(name: str, labels: dict | None = None) -> dict:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"limits": DEFAULTS}}


def test_the_grading_core_knows_the_classroom_label() -> None:
    assert namespaces.CLASSROOM_LABEL == (names.MANAGED_BY, names.MANAGER)


def test_the_classroom_budget_alone_fails_naming_it() -> None:
    state = FakeState(resourcequota=[_quota("classroom-budget", CLASSROOM)],
                      limitrange=[_range("classroom-limits", CLASSROOM)])
    with pytest.raises(Failure, match="no ResourceQuota in namespace production "
                                      r"\(classroom-budget is the classroom's budget"):
        namespaces.quota_covers(state)
    with pytest.raises(Failure, match="no LimitRange in namespace production "
                                      r"\(classroom-limits is the classroom's budget"):
        namespaces.limitrange_defaults(state)


def test_the_students_own_beside_the_classroom_budget_passes() -> None:
    state = FakeState(resourcequota=[_quota("classroom-budget", CLASSROOM),
                                     _quota("compute-quota")],
                      limitrange=[_range("classroom-limits", CLASSROOM),
                                  _range("container-defaults")])
    assert namespaces.quota_covers(state) is None
    assert namespaces.limitrange_defaults(state) is None


def test_without_a_classroom_the_message_is_as_before() -> None:
    with pytest.raises(Failure) as failed:
        namespaces.quota_covers(FakeState())
    assert failed.value.message == "no ResourceQuota in namespace production"
