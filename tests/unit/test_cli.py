"""`rwk`: argument errors exit 2, library errors become one line and their exit code."""

from __future__ import annotations

import pytest

import checker.clusters as clusters
from checker import cli
from checker.clusters.base import ClusterStatus, Component, NodeState
from checker.errors import ClusterUnreachable, DockerUnavailable


class FakeBackend:
    backend_name = "sandbox"
    context = "kwok-rwk"

    def __init__(self, error: Exception | None = None, status: ClusterStatus | None = None):
        self.error = error
        self._status = status
        self.calls: list[str] = []

    def _maybe_fail(self, what: str):
        self.calls.append(what)
        if self.error:
            raise self.error

    def up(self, say):
        self._maybe_fail("up")

    def down(self, say):
        self._maybe_fail("down")

    def status(self):
        self._maybe_fail("status")
        return self._status

    def reset(self, say):
        self._maybe_fail("reset")
        return ["lesson-1"]


@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("RWK_CACHE_DIR", str(tmp_path / "cache"))


def _exit_code(argv: list[str]) -> int:
    """main's exit code, whether it returns it or argparse raises SystemExit."""
    try:
        return cli.main(argv)
    except SystemExit as done:
        return done.code


# --- argument errors ----------------------------------------------------------------------

def test_unknown_backend_exits_2(capsys):
    assert _exit_code(["up", "--backend", "minikube"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'minikube'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["status", "down", "reset"])
def test_unknown_backend_exits_2_for_every_command(capsys, command):
    assert _exit_code([command, "--backend", "docker-desktop"]) == 2


def test_unknown_subcommand_exits_2(capsys):
    assert _exit_code(["start"]) == 2
    assert "invalid choice: 'start'" in capsys.readouterr().err


def test_no_subcommand_exits_2(capsys):
    assert _exit_code([]) == 2


def test_help_lists_the_commands(capsys):
    assert _exit_code(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: rwk")
    for command in ("up", "down", "status", "reset"):
        assert command in out


def test_up_help_lists_the_backends(capsys):
    assert _exit_code(["up", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--backend {auto,sandbox,kind,existing}" in out
    assert "--binary-source" in out


def test_binary_source_with_kind_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.setattr(clusters, "up", lambda *a, **k: pytest.fail("must not start anything"))
    assert _exit_code(["up", "--backend", "kind", "--binary-source", "build"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rwk up: ") and "sandbox backend only" in err


# --- library errors -----------------------------------------------------------------------

def test_unreachable_cluster_on_status_is_one_line_and_exit_3(capsys, monkeypatch):
    fake = FakeBackend(ClusterUnreachable("context 'kwok-rwk' does not answer; run `rwk up`"))
    monkeypatch.setattr(clusters, "current", lambda name=None, **options: fake)
    assert cli.main(["status"]) == 3
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines == ["rwk status: context 'kwok-rwk' does not answer; run `rwk up`"]
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert fake.calls == ["status"]


def test_unreachable_cluster_on_reset_exits_3(capsys, monkeypatch):
    fake = FakeBackend(ClusterUnreachable("no server"))
    monkeypatch.setattr(clusters, "current", lambda name=None, **options: fake)
    assert cli.main(["reset"]) == 3
    assert capsys.readouterr().err == "rwk reset: no server\n"


def test_kind_without_docker_exits_1_with_the_message(capsys, monkeypatch):
    def up(name, say, **options):
        raise DockerUnavailable("the kind backend needs Docker and kind: no Docker daemon. "
                                "Without Docker, use `rwk up --backend sandbox`.")
    monkeypatch.setattr(clusters, "up", up)
    assert cli.main(["up", "--backend", "kind"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rwk up: the kind backend needs Docker")
    assert "--backend sandbox" in err


def test_status_passes_the_named_backend(capsys, monkeypatch):
    asked: list[str | None] = []
    status = ClusterStatus("existing", "workshop", True, "v1.36.3",
                           (NodeState("n1", True, "worker"),),
                           (Component("kube-apiserver", True),))
    monkeypatch.setattr(clusters, "current",
                        lambda name=None, **o: asked.append(name) or FakeBackend(status=status))
    assert cli.main(["status", "--backend", "existing"]) == 0
    assert asked == ["existing"]
    assert capsys.readouterr().out == status.render() + "\n"


def test_unhealthy_status_exits_1(capsys, monkeypatch):
    status = ClusterStatus("sandbox", "kwok-rwk", False, note="run `rwk up` to start it")
    monkeypatch.setattr(clusters, "current", lambda name=None, **o: FakeBackend(status=status))
    assert cli.main(["status"]) == 1
    assert "not reachable" in capsys.readouterr().out


def test_up_prints_the_backend_and_context(capsys, monkeypatch, cache):
    fake = FakeBackend()
    monkeypatch.setattr(clusters, "make", lambda name, **options: fake)
    assert cli.main(["up", "--backend", "sandbox"]) == 0
    assert capsys.readouterr().out == "cluster ready: backend sandbox, context kwok-rwk\n"
    assert fake.calls == ["up"]
    assert clusters.recalled() == "sandbox"


def test_reset_prints_what_it_removed(capsys, monkeypatch):
    monkeypatch.setattr(clusters, "current", lambda name=None, **o: FakeBackend())
    assert cli.main(["reset"]) == 0
    assert capsys.readouterr().out == "removed 1 namespace(s): lesson-1\n"


# --- the commands that read a namespace ---------------------------------------------------

@pytest.mark.parametrize("flag", ["-n", "--namespace"])
@pytest.mark.parametrize("argv", [["check", "configmaps"], ["audit"]], ids=["check", "audit"])
def test_every_reading_command_takes_the_same_target_options(argv, flag):
    args = cli.parser().parse_args([*argv, flag, "team-a", "--context", "ctx",
                                    "--kubeconfig", "kc", "--output", "json"])
    assert (args.namespace, args.context, args.kubeconfig, args.output) == (
        "team-a", "ctx", "kc", "json")
    defaults = cli.parser().parse_args(argv)
    assert (defaults.namespace, defaults.context, defaults.kubeconfig, defaults.output) == (
        None, None, None, "text")


def test_audit_dash_n_reaches_the_audit(monkeypatch, capsys):
    from checker.grading import audit as audit_module

    seen = {}

    def fake_audit(namespace=None, context=None, kubeconfig=None, strict=False):
        seen["namespace"] = namespace
        return audit_module.AuditReport(namespace=namespace, context=context, findings=())

    monkeypatch.setattr(audit_module, "audit", fake_audit)
    assert cli.main(["audit", "-n", "team-a"]) == 0
    assert seen == {"namespace": "team-a"}
    assert "audit: namespace team-a" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "fragment"), [
    (["--exercises", "configmap"], "unknown exercise 'configmap'"),
    (["--exercises", ","], "(none named)"),
    (["--format", "excel"], "unknown gradebook format 'excel'"),
    (["--submissions", "handed-in"], "--submissions handed-in: no such folder"),
    (["--jobs", "0"], "must be 1 or more"),
    (["--wait", "soon"], "not a number of seconds"),
])
def test_grade_refuses_bad_options_before_reading_the_cluster(capsys, tmp_path, args,
                                                              fragment):
    roster = tmp_path / "roster.csv"
    roster.write_text("student\nada\n")
    missing = tmp_path / "no-kubeconfig"   # reading the cluster would fail otherwise
    try:
        code = cli.main(["grade", str(roster), "--kubeconfig", str(missing), *args])
    except SystemExit as exit_:   # argparse's own refusals
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_grade_without_a_roster_file_exits_2(capsys, tmp_path):
    assert cli.main(["grade", str(tmp_path / "absent.csv")]) == 2
    assert "absent.csv" in capsys.readouterr().err
