"""One value per exercise (checker/grading/exercises.py): a new one, and nothing else, shows
up in every list derived from the registry: the capstone, the count, the handed-in notebooks,
what a classroom grants and `verify` asks. (The gradebooks' columns are the names graded,
which `rwk grade --exercises all` takes from progress.ALL.)"""

from __future__ import annotations

from checker.classroom import grading, handed_in, rights
from checker.grading import exercises, progress
from checker.grading.exercises import CLUSTER_WIDE, EXERCISES, Exercise, Grant
from checker.grading.model import Criterion


def _jobs() -> Exercise:
    """A throwaway exercise, as a lesson on Jobs and CronJobs might add one."""
    schedule = Criterion("jobs-schedule", "CronJob backup", 2, "see lessons/14-jobs.ipynb",
                         lambda state: None)
    return Exercise("jobs", "14-jobs.ipynb", "lessons/14-jobs.ipynb", (schedule,),
                    capstone=True,
                    grants=(Grant("create", "cronjobs", "batch"),
                            Grant("create", "limitranges"),     # granted already: not added
                            Grant("list", "runtimeclasses", "node.k8s.io", where=CLUSTER_WIDE)))


def test_the_lists_of_today_are_derived_from_the_registry():
    names = [e.name for e in EXERCISES]
    assert list(progress.ALL) == list(grading.ALL) == names
    assert list(handed_in.NOTEBOOKS) == sorted(names, key=handed_in.NOTEBOOKS.get)
    assert handed_in.NOTEBOOKS == {e.name: e.notebook for e in EXERCISES}
    assert list(rights.NEEDS) == names
    assert exercises.in_words() == "thirteen" == exercises.in_words(len(names))


def test_a_new_exercise_appears_in_every_derived_list():
    jobs = _jobs()
    parts = (*EXERCISES[:-3], jobs)
    course = (*EXERCISES, jobs)

    assert "jobs/jobs-schedule" in [c.id for c in exercises.capstone(parts)]
    assert exercises.in_words(len(course)) == "fourteen"
    notebooks = handed_in.notebooks(course)
    assert list(notebooks)[-1] == "jobs" and notebooks["jobs"] == "14-jobs.ipynb"

    needed = rights.needs(course)["jobs"]
    assert [r.label for r in needed] == [
        "create cronjobs.batch", "create limitranges",
        "list runtimeclasses.node.k8s.io cluster-wide"]
    role, cluster = rights.role_rules(course), rights.cluster_rules("student-ann", course)
    today = rights.ROLE_RULES + rights.cluster_rules("student-ann")
    for right in needed:
        rules = cluster if right.where == rights.CLUSTER else role
        assert rights.granted(rules, right), right.label
        assert rights.granted(today, right) == (right.resource == "limitranges"), right.label
    # Making a kind lets the student apply, edit and delete it; cluster-wide, only read.
    assert rights.granted(role, rights.Right("delete", "cronjobs", "batch"))
    assert not rights.granted(cluster, rights.Right("create", "runtimeclasses", "node.k8s.io",
                                                    where="cluster"))
    for rule in role + cluster:
        assert not {"bind", "escalate", "impersonate", "*"} & set(rule["verbs"]), rule
    asked = rights.rights(course)
    assert asked[:len(rights._ALLOWED)] == rights._ALLOWED
    new = [r for r in needed if r not in rights.RIGHTS]
    assert len(asked) == len(rights.RIGHTS) + len(new) and set(asked) - set(rights.RIGHTS) == \
        set(new)
    assert asked[-len(rights._REFUSED):] == rights._REFUSED

