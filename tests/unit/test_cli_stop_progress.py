"""`rwk progress`, `rwk stop` and `rwk down --yes` as the parser and main take them (issue 14);
the library calls are stood in for, so nothing here needs a cluster."""

from __future__ import annotations

import pytest

import checker.clusters as clusters
from checker import cli
from checker.grading import progress as progress_module
from checker.grading.progress import Progress
from checker.grading.report import Report


def _exit_code(argv: list[str]) -> int:
    try:
        return cli.main(argv)
    except SystemExit as done:
        return done.code


@pytest.fixture
def asked(monkeypatch):
    """What `progress` was asked for, answering with one failing exercise."""
    calls: list[dict] = []

    def fake(namespace=None, context=None, kubeconfig=None):
        calls.append({"namespace": namespace, "context": context, "kubeconfig": kubeconfig})
        report = Report(exercise="namespaces", namespace=namespace or "production",
                        context="kwok-rwk", results=())
        return Progress(namespace=namespace or "production", context="kwok-rwk",
                        reports=(report,))

    monkeypatch.setattr(progress_module, "progress", fake)
    return calls


@pytest.mark.parametrize("flag", ["-n", "--namespace"])
def test_progress_takes_n_for_namespace(asked, capsys, flag):
    assert _exit_code(["progress", flag, "student-a", "--context", "c"]) == 1
    assert asked == [{"namespace": "student-a", "context": "c", "kubeconfig": None}]
    assert capsys.readouterr().out.startswith("progress: namespace student-a")


def test_progress_json(asked, capsys):
    assert _exit_code(["progress", "--output", "json"]) == 1
    assert '"namespace": "production"' in capsys.readouterr().out


def test_progress_bad_output_is_exit_2(asked):
    assert _exit_code(["progress", "--output", "yaml"]) == 2
    assert asked == []


@pytest.mark.parametrize("command", ["check", "audit", "progress"])
def test_every_command_that_takes_a_namespace_takes_n(command):
    args = cli.parser().parse_args([command, *(["configmaps"] if command == "check" else []),
                                    "-n", "ns1"])
    assert args.namespace == "ns1"


def test_stop_calls_the_backends_stop(monkeypatch):
    stopped: list = []
    monkeypatch.setattr(clusters, "stop", lambda say, name=None: stopped.append(name))
    assert _exit_code(["stop", "--backend", "sandbox"]) == 0
    assert stopped == ["sandbox"]


def test_down_asks_unless_yes_and_cannot_ask_without_a_terminal(monkeypatch):
    seen: list[dict] = []
    monkeypatch.setattr(clusters, "down", lambda say, name=None, **kw: seen.append(kw) or True)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert _exit_code(["down"]) == 0
    assert _exit_code(["down", "--yes"]) == 0
    assert seen == [{"yes": False, "confirm": None}, {"yes": True, "confirm": None}]


def test_down_not_confirmed_is_exit_1(monkeypatch):
    monkeypatch.setattr(clusters, "down", lambda say, name=None, **kw: False)
    assert _exit_code(["down"]) == 1
