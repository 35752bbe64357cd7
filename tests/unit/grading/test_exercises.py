"""The registry: every exercise of EXERCISES.md by name, and the capstone built from it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from checker.grading import exercises
from checker.errors import UsageError
from checker.grading.model import Criterion

ROOT = Path(__file__).resolve().parents[3]


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


def test_capstone_takes_whole_parts_in_notebook_order_then_partial_ones():
    late = Criterion("ingress-exists", "Ingress app-ingress", 1, "hint", lambda state: None)
    parts = [dataclasses.replace(e, criteria=(late,)) if e.name == "ingress" else e
             for e in exercises.EXERCISES if e.name != "capstone"]
    ids = [c.id for c in exercises.capstone(parts)]
    assert "ingress/ingress-exists" in ids
    assert ids.index("secrets/secret-exists") < ids.index("ingress/ingress-exists") \
        < ids.index("storage/storage-statefulset")
    assert ids[-1].startswith("rolling-updates/")


def test_every_exercise_of_the_contract_is_known():
    assert [e.name for e in exercises.EXERCISES] == [
        "namespaces", "configmaps", "secrets", "resources", "probes", "ingress", "autoscaling",
        "rolling-updates", "storage", "disruptions", "capstone", "gateway", "security"]
    assert exercises.in_words() == "thirteen" and exercises.in_words(13) == "thirteen"
    with pytest.raises(UsageError, match="unknown exercise 'storge'"):
        exercises.criteria("storge")


def test_each_exercise_names_its_notebooks_and_lesson_in_the_repository():
    for exercise in exercises.EXERCISES:
        for folder in ("exercises", "solutions"):
            assert (ROOT / folder / exercise.notebook).is_file(), (folder, exercise.notebook)
        assert (ROOT / exercise.lesson).is_file(), exercise.lesson
        assert exercise.criteria and exercise.grants, exercise.name
    assert sorted(e.notebook for e in exercises.EXERCISES) == sorted(
        p.name for p in (ROOT / "exercises").glob("[0-9][0-9]-*.ipynb"))


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


def test_the_security_exercise_names_the_namespace_the_kind_backend_runs_its_controller_in():
    from checker.clusters.kind import INGRESS_NAMESPACE
    from checker.grading.checks import security
    assert security.INGRESS_NAMESPACE == INGRESS_NAMESPACE
