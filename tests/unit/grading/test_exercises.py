"""The registry: every exercise of EXERCISES.md by name, and the capstone built from it."""

from __future__ import annotations

import pytest

from checker.grading import exercises
from checker.errors import UsageError
from checker.grading.model import Criterion


def test_capstone_prefixes_each_criterion_with_its_exercise():
    ids = [c.id for c in exercises.criteria("capstone")]
    assert len(ids) == len(set(ids))
    assert "configmaps/configmap-values" in ids
    assert "disruptions/audit-clean" in ids
    assert "storage/storage-claims-bound" in ids
    # Only the strategy part of rolling-updates.
    assert [i for i in ids if i.startswith("rolling-updates/")] == [
        "rolling-updates/rollout-strategy", "rolling-updates/rollout-replicas",
        "rolling-updates/rollout-history-kept"]
    assert not any(i.startswith(("namespaces/", "capstone/")) for i in ids)


def test_capstone_picks_up_a_part_registered_later(monkeypatch):
    late = Criterion("ingress-exists", "Ingress app-ingress", 1, "hint", lambda state: None)
    monkeypatch.setitem(exercises.EXERCISES, "ingress", (late,))
    ids = [c.id for c in exercises.criteria("capstone")]
    assert "ingress/ingress-exists" in ids
    assert ids.index("secrets/secret-exists") < ids.index("ingress/ingress-exists") \
        < ids.index("storage/storage-statefulset")


def test_every_exercise_of_the_contract_is_known():
    for name in ("namespaces", "configmaps", "secrets", "ingress", "resources", "probes",
                 "autoscaling", "rolling-updates", "storage", "disruptions", "capstone"):
        assert name in exercises.EXERCISES or name == "capstone"
    with pytest.raises(UsageError, match="unknown exercise 'storge'"):
        exercises.criteria("storge")


@pytest.mark.parametrize("typed, meant", [
    ("configmap", "configmaps"), ("storge", "storage"), ("Secrets", "secrets"),
    ("rolling-update", "rolling-updates"), ("roll", "rolling-updates"), ("ingres", "ingress"),
    ("cap", "capstone"), ("disruption", "disruptions")])
def test_an_unknown_name_is_answered_with_the_closest_exercise(typed, meant):
    with pytest.raises(UsageError) as caught:
        exercises.criteria(typed)
    message = str(caught.value)
    assert message.startswith(f"unknown exercise {typed!r}; did you mean {meant}? ")
    assert "capstone" in message.rsplit("choose one of", 1)[1]   # the whole list still follows
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("typed", ["nope", "xyz", "pdb", ""])
def test_a_name_close_to_none_suggests_nothing(typed):
    with pytest.raises(UsageError) as caught:
        exercises.criteria(typed)
    assert "did you mean" not in str(caught.value)
    assert str(caught.value).startswith(f"unknown exercise {typed!r}; choose one of ")
