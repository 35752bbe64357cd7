"""A sandbox component that exits right after `kwokctl create` is started once more; a
second exit removes the half-started cluster. (CI saw metrics-server panic on a refused
first connection to a loaded API server.) The commands are recorded, not run."""

from __future__ import annotations

import pytest

from checker.clusters import _proc
from checker.clusters.sandbox import Sandbox
from checker.errors import StartFailed

BINS = {"kwokctl": "/cache/kwokctl"}


def _sandbox(tmp_path, monkeypatch, dead_runs: list[list[str]]) -> tuple[Sandbox, list]:
    monkeypatch.setenv("KWOK_WORKDIR", str(tmp_path))
    monkeypatch.setenv("RWK_CACHE_DIR", str(tmp_path / "cache"))
    issued: list[tuple[str, ...]] = []

    def runner(args, **_):
        issued.append(tuple(args))
        return _proc.Result(tuple(args), 0, "", "")

    box = Sandbox(name="t", port=0, runner=runner)
    monkeypatch.setattr(box, "_dead_components", lambda: dead_runs.pop(0))
    return box, issued


def test_a_component_that_exits_once_is_started_again(tmp_path, monkeypatch):
    box, issued = _sandbox(tmp_path, monkeypatch, [["metrics-server"], []])
    said: list[str] = []
    box._verify_components(BINS, said.append)
    assert issued == [("/cache/kwokctl", "start", "cluster", "--name", "t", "--wait", "60s")]
    assert said == ["metrics-server exited right after starting; starting it again"]


def test_a_component_that_exits_twice_removes_the_cluster_and_says_which(tmp_path,
                                                                         monkeypatch):
    box, issued = _sandbox(tmp_path, monkeypatch, [["metrics-server"], ["metrics-server"]])
    with pytest.raises(StartFailed, match="metrics-server exited right after starting, twice"):
        box._verify_components(BINS, lambda _: None)
    assert [args[1:3] for args in issued] == [("start", "cluster"), ("delete", "cluster")]


def test_nothing_is_started_again_when_every_component_runs(tmp_path, monkeypatch):
    box, issued = _sandbox(tmp_path, monkeypatch, [[]])
    box._verify_components(BINS, lambda _: None)
    assert issued == []
