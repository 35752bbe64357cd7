"""One value per exercise (checker/grading/exercises.py): a new one, and nothing else, shows
up in every list derived from the registry: the capstone, the count, the handed-in notebooks,
what a classroom grants and `verify` asks. (The gradebooks' columns are the names graded,
which `rwk grade --exercises all` takes from progress.ALL.)"""

from __future__ import annotations

from checker.classroom import grading, handed_in, rights
from checker.grading import exercises, progress
from checker.grading.exercises import CLUSTER_WIDE, EXERCISES, Exercise, Grant
from checker.grading.model import Criterion


def _gateway() -> Exercise:
    """A throwaway exercise, as the gateway exercise of EXERCISES.md might be written."""
    routes = Criterion("gateway-routes", "HTTPRoute api", 2, "see lessons/12-gateway.ipynb",
                       lambda state: None)
    group = "gateway.networking.k8s.io"
    return Exercise("gateway", "12-gateway.ipynb", "lessons/12-gateway.ipynb", (routes,),
                    capstone=True,
                    grants=(Grant("create", "gateways", group), Grant("create", "httproutes", group),
                            Grant("list", "gatewayclasses", group, where=CLUSTER_WIDE)))


def test_the_lists_of_today_are_derived_from_the_registry():
    names = [e.name for e in EXERCISES]
    assert list(progress.ALL) == list(grading.ALL) == names
    assert list(handed_in.NOTEBOOKS) == sorted(names, key=handed_in.NOTEBOOKS.get)
    assert handed_in.NOTEBOOKS == {e.name: e.notebook for e in EXERCISES}
    assert list(rights.NEEDS) == names
    assert exercises.in_words() == "eleven" == exercises.in_words(len(names))


def test_a_new_exercise_appears_in_every_derived_list():
    gateway = _gateway()
    parts = (*EXERCISES[:-1], gateway)
    course = (*EXERCISES, gateway)

    assert "gateway/gateway-routes" in [c.id for c in exercises.capstone(parts)]
    assert exercises.in_words(len(course)) == "twelve"
    notebooks = handed_in.notebooks(course)
    assert list(notebooks)[-1] == "gateway" and notebooks["gateway"] == "12-gateway.ipynb"

    needed = rights.needs(course)["gateway"]
    assert [r.label for r in needed] == [
        "create gateways.gateway.networking.k8s.io",
        "create httproutes.gateway.networking.k8s.io",
        "list gatewayclasses.gateway.networking.k8s.io cluster-wide"]
    role, cluster = rights.role_rules(course), rights.cluster_rules("student-ann", course)
    for right in needed:
        rules = cluster if right.where == rights.CLUSTER else role
        assert rights.granted(rules, right), right.label
        assert not rights.granted(rights.ROLE_RULES + rights._cluster_rules("student-ann"),
                                  right), right.label
    # Making a kind lets the student apply, edit and delete it; cluster-wide, only read.
    assert rights.granted(role, rights.Right("delete", "httproutes", "gateway.networking.k8s.io"))
    assert not rights.granted(cluster, rights.Right("create", "gatewayclasses",
                                                    "gateway.networking.k8s.io", where="cluster"))
    for rule in role + cluster:
        assert not {"bind", "escalate", "impersonate", "*"} & set(rule["verbs"]), rule
    asked = rights.rights(course)
    assert asked[:len(rights._ALLOWED)] == rights._ALLOWED
    assert asked[len(rights._ALLOWED):-len(rights._REFUSED)] == needed
    assert asked[-len(rights._REFUSED):] == rights._REFUSED

