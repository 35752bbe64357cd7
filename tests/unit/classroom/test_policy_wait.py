"""`rwk classroom create` waits, asking as a student, until the API server enforces the
admission policy on the namespaces it made (pure logic: a stand-in for the student's Writer;
tests/integration/test_classroom.py holds the real policy to it)."""

from __future__ import annotations

from pathlib import Path

from checker.classroom import provision
from checker.errors import ClusterUnreachable


class _Student:
    namespace = "student-ada"


def _run(monkeypatch, answers, limit=60.0):
    asked, said, now = [], [], [0.0]

    class Writer:
        def __init__(self, kubeconfig, connections):
            self.kubeconfig = kubeconfig

        def may_patch(self, api_version, kind, name, patch, namespace=None):
            asked.append((kind, name, patch))
            answer = answers.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer

    monkeypatch.setattr(provision, "Writer", Writer)
    monkeypatch.setattr(provision.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(provision.time, "sleep", lambda s: now.__setitem__(0, now[0] + s))
    provision._wait_for_the_policy(Path("k"), _Student(), said.append, limit=limit)
    return asked, said


def test_it_asks_for_a_forbidden_label_until_it_is_refused(monkeypatch):
    asked, said = _run(monkeypatch, [True, True, True, False])
    assert len(asked) == 4
    kind, name, patch = asked[0]
    assert (kind, name) == ("Namespace", "student-ada")
    assert "pod-security.kubernetes.io/enforce" in patch["metadata"]["labels"]
    assert said == [f"classroom: {provision.POLICY} in force after 2 s"]


def test_a_policy_in_force_at_once_costs_one_question_and_says_nothing(monkeypatch):
    asked, said = _run(monkeypatch, [False])
    assert len(asked) == 1 and said == []


def test_it_warns_and_points_at_verify_when_the_policy_never_comes(monkeypatch):
    asked, said = _run(monkeypatch, [True] * 100, limit=3)
    assert "still does not enforce" in said[-1] and "rwk classroom verify" in said[-1]


def test_a_server_it_cannot_reach_is_said_not_raised(monkeypatch):
    asked, said = _run(monkeypatch, [ClusterUnreachable("no route to host")])
    assert "could not ask" in said[-1] and "no route to host" in said[-1]
