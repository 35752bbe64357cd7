"""A sandbox component that exits right after `kwokctl create` is started once more; a
second exit removes the half-started cluster. (CI saw metrics-server panic on a refused
first connection to a loaded API server.) The commands are recorded, not run."""

from __future__ import annotations

import pytest

from checker.clusters import _proc
from checker.clusters.sandbox import GRADING_FLAGS, SMALL_FLAGS, Sandbox, merged
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
    box, issued = _sandbox(tmp_path, monkeypatch, [[]])
    said: list[str] = []
    box._verify_components(BINS, said.append, ["metrics-server"])
    assert issued == [("/cache/kwokctl", "start", "cluster", "--name", "t", "--wait", "60s")]
    assert said == ["metrics-server exited right after starting; starting it again"]


def test_a_component_that_exits_twice_removes_the_cluster_and_says_which(tmp_path,
                                                                         monkeypatch):
    box, issued = _sandbox(tmp_path, monkeypatch, [["metrics-server"]])
    with pytest.raises(StartFailed, match="metrics-server exited right after starting, twice"):
        box._verify_components(BINS, lambda _: None, ["metrics-server"])
    assert [args[1:3] for args in issued] == [("start", "cluster"), ("delete", "cluster")]


def test_nothing_is_started_again_when_every_component_runs(tmp_path, monkeypatch):
    box, issued = _sandbox(tmp_path, monkeypatch, [])
    box._verify_components(BINS, lambda _: None, [])
    assert issued == []


def _a_taken_port_in_the_log(box: Sandbox, component: str) -> None:
    logs = box.cluster_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (logs / f"{component}.log").write_text(
        '{"msg":"Failed to run server","err":"listen tcp 0.0.0.0:39941: bind: '
        'address already in use"}\n')


def test_a_port_taken_after_the_create_makes_a_new_cluster_on_other_ports(tmp_path,
                                                                        monkeypatch):
    # CI: kwok-controller bound its port after kwokctl create returned, found it taken, and
    # died again on the same port when started once more.
    box, issued = _sandbox(tmp_path, monkeypatch, [["kwok-controller"], []])
    _a_taken_port_in_the_log(box, "kwok-controller")
    real_delete = box._kwokctl

    def delete_clears_the_logs(bins, *args, **kwargs):
        if args[0] == "delete":
            for log in (box.cluster_dir / "logs").glob("*.log"):
                log.unlink()
        return real_delete(bins, *args, **kwargs)

    monkeypatch.setattr(box, "_kwokctl", delete_clears_the_logs)
    configs: list[str] = []
    monkeypatch.setattr(box, "kwokctl_config", lambda *_: configs.append("c") or "c")
    said: list[str] = []
    box._create(BINS, None, said.append)
    assert [args[1:3] for args in issued] == [("create", "cluster"), ("delete", "cluster"),
                                              ("create", "cluster")]
    assert len(configs) == 2        # the ports are picked afresh for the second create
    assert "a port was taken while the sandbox started; retrying with other ports" in said


def test_a_component_that_dies_for_another_reason_is_not_taken_for_a_port_race(
        tmp_path, monkeypatch):
    box, issued = _sandbox(tmp_path, monkeypatch, [["metrics-server"], []])
    monkeypatch.setattr(box, "kwokctl_config", lambda *_: "c")
    box._create(BINS, None, lambda _: None)
    assert [args[1:3] for args in issued] == [("create", "cluster"), ("start", "cluster")]


def _config(flags: dict | None = None) -> dict:
    import yaml

    from checker.clusters.versions import load
    bins = {name: f"/cache/{name}" for name in (
        "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "etcd",
        "kwok", "metrics-server")}
    box = Sandbox(name="t", port=0) if flags is None else Sandbox(name="t", port=0, flags=flags)
    return yaml.safe_load(box.kwokctl_config(bins, load(), 32555))


def _patches(config: dict) -> dict[str, dict[str, str]]:
    return {patch["name"]: {arg["key"]: arg["value"] for arg in patch["extraArgs"]}
            for patch in config["componentsPatches"]}


def test_a_small_sandbox_patches_the_components_flags():
    patches = _patches(_config(SMALL_FLAGS))
    assert patches["kube-scheduler"] == {"leader-elect": "false", "profiling": "false"}
    assert patches["kube-apiserver"]["max-requests-inflight"] == "100"
    assert patches["kube-apiserver"]["max-mutating-requests-inflight"] == "50"
    assert patches["etcd"] == {"snapshot-count": "2000"}
    assert set(patches) == {"kube-apiserver", "etcd", "kube-controller-manager",
                            "kube-scheduler"}


def test_a_default_sandbox_changes_only_leader_election(monkeypatch):
    monkeypatch.delenv("RWK_SANDBOX_MEMORY", raising=False)
    assert _patches(_config()) == {"kube-controller-manager": {"leader-elect": "false"},
                                   "kube-scheduler": {"leader-elect": "false"}}
    monkeypatch.setenv("RWK_SANDBOX_MEMORY", "small")
    assert Sandbox(name="t").flags == SMALL_FLAGS


def test_flag_sets_merge_per_component_and_the_later_wins():
    both = merged(SMALL_FLAGS, GRADING_FLAGS, {"etcd": {"snapshot-count": "500"}})
    assert both["kube-controller-manager"] == {
        "profiling": "false", "horizontal-pod-autoscaler-sync-period": "5s"}
    assert both["metrics-server"] == {"metric-resolution": "10s",
                                      "kubelet-request-timeout": "5s"}
    assert both["etcd"] == {"snapshot-count": "500"}
    assert SMALL_FLAGS["etcd"] == {"snapshot-count": "2000"}    # the inputs are left alone
