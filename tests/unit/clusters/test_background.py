"""`rwk up` in the background (Binder's start): its state, what `rwk status` says meanwhile,
and a second `rwk up` waiting for it. The background process here is a real short command."""

from __future__ import annotations

import os
import sys
import time

import pytest

from checker.clusters import _proc, background
from checker.clusters.sandbox import Sandbox


@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("RWK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(background.CHILD_ENV, raising=False)
    return tmp_path / "cache"


def _write(cache, pid: int, log: str, rc: int | None = None) -> None:
    logs = cache / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / "background-up.pid").write_text(f"{pid}\n")
    (logs / "background-up.log").write_text(log)
    if rc is not None:
        (logs / "background-up.rc").write_text(f"{rc}\n")


def test_no_background_start_means_no_state(cache):
    assert background.state() is None
    assert background.running_elsewhere() is None


def test_last_line_skips_blank_lines():
    assert background.last_line("a\n  b  \n\n\n") == "b"
    assert background.last_line("") == ""


def test_a_running_start_says_still_starting_with_the_last_log_line(cache):
    _write(cache, 4242, "$ rwk up\nstarting the sandbox control plane on port 32443\n\n")
    found = background.state(alive=lambda pid: pid == 4242)
    assert found.running and found.exit_code is None
    text = found.describe()
    assert "still starting" in text
    assert "starting the sandbox control plane on port 32443" in text
    assert str(cache / "logs" / "background-up.log") in text


def test_a_failed_start_names_its_exit_code_and_last_line(cache):
    _write(cache, 4242, "$ rwk up\nerror: kwokctl create failed\n(exit 1)\n", rc=1)
    found = background.state(alive=lambda pid: True)
    assert not found.running and found.exit_code == 1
    assert "failed (exit 1)" in found.describe()
    (cache / "logs" / "background-up.rc").unlink()
    _write(cache, 4242, "$ rwk up\nstarting\n")
    killed = background.state(alive=lambda pid: False)
    assert killed.exit_code is None and "killed" in killed.describe()


def test_a_pid_that_is_not_ours_is_not_running(cache):
    _write(cache, os.getpid(), "$ rwk up\n")     # this pytest process: alive, but not ours
    assert background.state().running is False


def _unreachable(args, env=None, input=None, timeout=None) -> _proc.Result:
    return _proc.Result(tuple(args), 1, "", "The connection to the server was refused")


def test_status_while_starting_says_so_instead_of_failing(cache, monkeypatch):
    _write(cache, 4242, "$ rwk up\nbuilding nothing; starting etcd\n")
    real_state = background.state
    monkeypatch.setattr(background, "state", lambda: real_state(alive=lambda pid: True))
    status = Sandbox(name="bg-test", runner=_unreachable).status()
    text = status.render()
    assert not status.healthy
    assert "still starting" in text and "building nothing; starting etcd" in text
    assert "no sandbox exists" not in text


def test_status_after_a_finished_start_is_the_ordinary_one(cache):
    _write(cache, 4242, "$ rwk up\nsandbox 'rwk' is up\n(exit 0)\n", rc=0)
    status = Sandbox(name="bg-test", runner=_unreachable).status()
    assert "no sandbox exists" in status.render()


def _gated(flag) -> list[str]:
    """A command that prints "one", waits until `flag` exists (30 s at most), prints "two"."""
    return [sys.executable, "-c",
            "import os, time; print('one', flush=True)\n"
            f"for _ in range(300):\n    if os.path.exists({str(flag)!r}): break\n"
            "    time.sleep(0.1)\nprint('two')"]


def _until(predicate, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


def test_a_real_background_command_runs_detached_and_records_its_end(cache, monkeypatch,
                                                                     tmp_path):
    flag = tmp_path / "go-on"
    pid = background.start(_gated(flag))
    early = _until(lambda: (found := background.state()) and found.last_line == "one"
                   and found)
    assert early.pid == pid and early.running
    assert background.running_elsewhere() == early
    monkeypatch.setenv(background.CHILD_ENV, "1")
    assert background.running_elsewhere() is None      # the child's own `rwk up`
    monkeypatch.delenv(background.CHILD_ENV)
    flag.touch()
    said: list[str] = []
    done = background.wait(said.append, timeout=30, poll=0.1)
    assert not done.running and done.exit_code == 0
    assert done.last_line == "(exit 0)"
    assert "[background] two" in said


def test_the_module_entry_point_returns_at_once(cache, tmp_path):
    flag = tmp_path / "go-on"
    began = time.monotonic()
    assert background.main(_gated(flag)) == 0
    assert time.monotonic() - began < 5      # the command itself waits up to 30 s
    assert background.state().running
    flag.touch()
    done = background.wait(lambda line: None, timeout=30, poll=0.1)
    assert done.exit_code == 0


def test_the_module_without_a_command_is_a_usage_error(cache, capsys):
    assert background.main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_a_child_that_dies_before_it_logs_leaves_its_reason_in_the_log(cache, tmp_path,
                                                                       monkeypatch):
    broken = tmp_path / "python"     # stands in for an interpreter that cannot start
    broken.write_text("#!/bin/sh\necho 'ModuleNotFoundError: no checker here' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(broken))
    began = time.monotonic()
    background.start(["true"])
    assert time.monotonic() - began < background.STARTED_WAIT   # it did not wait it out
    # start() returns at the child's first line; the child exits just after writing it, and
    # until it has, it runs (CI once read it in that moment).
    deadline = time.monotonic() + 5
    while (found := background.state()).running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not found.running and found.exit_code is None
    assert found.last_line == "ModuleNotFoundError: no checker here"
    assert "no checker here" in found.describe()
