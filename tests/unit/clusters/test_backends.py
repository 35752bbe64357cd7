"""Backend selection, the remembered backend, the existing backend, and the shared status code.

No cluster and no Docker: kubectl and docker are answered by a recording fake runner.
"""

from __future__ import annotations

import json

import pytest

import checker.clusters as clusters
from checker.clusters import _proc
from checker.clusters.base import (COURSE_LABEL, ClusterStatus, Component, Kubectl, NodeState,
                                   nodes_of, read_status, reset_namespaces, work_summary)
from checker.clusters.existing import Existing
from checker.clusters.kind import Kind
from checker.errors import ClusterUnreachable, StartFailed, UnknownBackend, UsageError


class Recorder:
    """A fake runner: `answers` maps an argument tuple (after kubectl's context) to a Result."""

    def __init__(self, answers=None, default=(0, "", "")):
        self.answers = answers or {}
        self.default = default
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, args, env=None, input=None, timeout=None) -> _proc.Result:
        args = tuple(args)
        self.calls.append(args)
        key = args[3:] if len(args) > 2 and args[1] == "--context" else args
        for prefix, answer in self.answers.items():
            if key[:len(prefix)] == prefix:
                return _proc.Result(args, *answer)
        return _proc.Result(args, *self.default)

    def kubectl_calls(self) -> list[tuple[str, ...]]:
        return [c[3:] for c in self.calls if len(c) > 2 and c[1] == "--context"]


def _namespaces(*names: str) -> str:
    return json.dumps({"items": [{"metadata": {"name": n}} for n in names]})


def _node(name: str, ready: str | None, *roles: str) -> dict:
    labels = {"kubernetes.io/hostname": name}
    labels.update({f"node-role.kubernetes.io/{r}": "" for r in roles})
    status = {} if ready is None else {"conditions": [
        {"type": "MemoryPressure", "status": "False"},
        {"type": "Ready", "status": ready}]}
    return {"metadata": {"name": name, "labels": labels}, "status": status}


# --- resolve ------------------------------------------------------------------------------

def test_unknown_backend_is_a_usage_error_with_exit_code_2():
    with pytest.raises(UnknownBackend) as caught:
        clusters.resolve("minikube")
    assert isinstance(caught.value, UsageError)
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert "'minikube'" in message
    for name in ("auto", "sandbox", "kind", "existing"):
        assert name in message


@pytest.mark.parametrize("docker, expected", [(True, "kind"), (False, "sandbox")])
def test_auto_is_kind_with_docker_else_sandbox(monkeypatch, docker, expected):
    monkeypatch.setattr(clusters, "docker_available", lambda *a, **k: docker)
    assert clusters.resolve("auto") == expected


@pytest.mark.parametrize("name", ["sandbox", "kind", "existing"])
def test_concrete_names_resolve_to_themselves_without_probing_docker(monkeypatch, name):
    def probe(*args, **kwargs):
        raise AssertionError("docker must not be probed for a concrete backend")
    monkeypatch.setattr(clusters, "docker_available", probe)
    assert clusters.resolve(name) == name


def test_docker_available_needs_the_kind_command(monkeypatch):
    runner = Recorder()
    monkeypatch.setattr(clusters.shutil, "which", lambda name: None)
    assert clusters.docker_available(runner) is False
    assert runner.calls == []


@pytest.mark.parametrize("code, expected", [(0, True), (1, False)])
def test_docker_available_asks_the_daemon(monkeypatch, code, expected):
    runner = Recorder(default=(code, "", ""))
    monkeypatch.setattr(clusters.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert clusters.docker_available(runner) is expected
    assert runner.calls == [("docker", "info", "--format", "{{.ServerVersion}}")]


def test_make_builds_the_named_backend():
    assert isinstance(clusters.make("kind"), Kind)
    assert isinstance(clusters.make("existing"), Existing)


# --- the remembered backend ---------------------------------------------------------------

@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("RWK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_nothing_is_recalled_before_an_up(cache):
    assert clusters.recalled() is None


def test_remember_recall_forget(cache):
    clusters.remember("kind", "kind-rwk")
    state = cache / "state.json"
    assert json.loads(state.read_text()) == {"backend": "kind", "context": "kind-rwk"}
    assert clusters.recalled() == "kind"
    clusters.forget()
    assert not state.exists()
    assert clusters.recalled() is None
    clusters.forget()  # forgetting twice is harmless


def test_a_corrupt_state_file_recalls_nothing(cache):
    cache.mkdir(parents=True)
    (cache / "state.json").write_text("{not json")
    assert clusters.recalled() is None


def test_current_uses_the_remembered_backend_unless_named(cache):
    clusters.remember("existing", "workshop")
    assert isinstance(clusters.current(), Existing)
    assert isinstance(clusters.current("kind"), Kind)


class FakeBackend:
    backend_name = "kind"
    context = "kind-rwk"

    def __init__(self):
        self.events: list[str] = []

    def up(self, say):
        self.events.append("up")

    def down(self, say):
        self.events.append("down")


def test_up_remembers_the_backend_it_started_and_down_forgets_it(cache, monkeypatch):
    fake = FakeBackend()
    made: list[str] = []
    monkeypatch.setattr(clusters, "make", lambda name, **o: made.append(name) or fake)
    assert clusters.up("auto", print) is fake
    assert fake.events == ["up"]
    assert json.loads((cache / "state.json").read_text()) == {
        "backend": "kind", "context": "kind-rwk"}
    clusters.down(print)
    assert fake.events == ["up", "down"]
    assert made == ["auto", "kind"]  # down acts on the remembered backend
    assert clusters.recalled() is None


# --- the existing backend -----------------------------------------------------------------

def test_existing_without_a_current_context_is_unreachable_exit_3():
    runner = Recorder({("kubectl", "config", "current-context"):
                       (1, "", "error: current-context is not set")})
    with pytest.raises(ClusterUnreachable) as caught:
        Existing(runner=runner).up(print)
    assert caught.value.exit_code == 3
    message = str(caught.value)
    assert "current-context is not set" in message
    assert "kubectl config use-context" in message


def test_existing_with_an_empty_current_context_is_unreachable():
    runner = Recorder({("kubectl", "config", "current-context"): (0, "\n", "")})
    with pytest.raises(ClusterUnreachable, match="kubectl printed nothing"):
        _ = Existing(runner=runner).context


def test_existing_uses_the_current_context_and_its_kubeconfig(tmp_path):
    kubeconfig = tmp_path / "config"
    runner = Recorder({("kubectl", "config", "current-context"): (0, "workshop\n", "")})
    assert Existing(kubeconfig=kubeconfig, runner=runner).context == "workshop"
    assert runner.calls == [("kubectl", "config", "current-context",
                             "--kubeconfig", str(kubeconfig))]


def test_existing_unreachable_cluster_raises_cluster_unreachable():
    runner = Recorder({("get", "--raw", "/readyz"): (1, "", "dial tcp 10.0.0.1:6443: i/o timeout")})
    with pytest.raises(ClusterUnreachable) as caught:
        Existing(context_name="workshop", runner=runner).up(print)
    assert caught.value.exit_code == 3
    assert "'workshop'" in str(caught.value)
    assert runner.kubectl_calls() == [("get", "--raw", "/readyz")]


def test_existing_reachable_cluster_is_used_as_it_is():
    runner = Recorder({("get", "--raw", "/readyz"): (0, "ok", "")})
    said: list[str] = []
    Existing(context_name="workshop", runner=runner).up(said.append)
    assert runner.kubectl_calls() == [("get", "--raw", "/readyz")]
    assert "'workshop'" in said[0] and COURSE_LABEL in said[0]


def test_existing_down_does_nothing():
    runner = Recorder()
    said: list[str] = []
    Existing(context_name="workshop", runner=runner).down(said.append)
    assert runner.calls == []
    assert len(said) == 1 and "does not stop" in said[0]


def test_existing_status_when_unreachable():
    runner = Recorder({("get", "--raw", "/readyz"): (1, "", "refused")})
    status = Existing(context_name="workshop", runner=runner).status()
    assert status.reachable is False
    assert status.healthy is False
    assert status.context == "workshop"
    assert "kubeconfig" in status.note


def test_existing_reset_only_touches_labelled_namespaces():
    runner = Recorder({("get", "namespaces"): (0, _namespaces("lesson-1", "ex-2"), "")})
    removed = Existing(context_name="workshop", runner=runner).reset(lambda m: None)
    assert removed == ["lesson-1", "ex-2"]
    listing, delete = runner.kubectl_calls()
    assert listing == ("get", "namespaces", "-l", COURSE_LABEL, "-o", "json")
    assert COURSE_LABEL == "app.kubernetes.io/part-of=real-world-kubernetes"
    assert delete == ("delete", "namespace", "--wait=true", "lesson-1", "ex-2")


# --- base: nodes, status, reset -----------------------------------------------------------

def test_nodes_of_reads_readiness_and_roles():
    nodes = nodes_of({"items": [
        _node("cp", "True", "control-plane"),
        _node("w1", "False", "worker"),
        _node("w2", None),
        _node("multi", "True", "worker", "etcd"),
    ]})
    assert nodes == [
        NodeState("cp", True, "control-plane"),
        NodeState("w1", False, "worker"),
        NodeState("w2", False, "<none>"),
        NodeState("multi", True, "etcd,worker"),
    ]
    assert nodes_of({}) == []


def test_status_render_unreachable():
    status = ClusterStatus("sandbox", "kwok-rwk", False, note="run `rwk up` to start it")
    assert status.healthy is False
    assert status.render() == ("backend:  sandbox\ncontext:  kwok-rwk\n"
                               "server:   not reachable (run `rwk up` to start it)")


def test_status_render_reachable():
    status = ClusterStatus(
        "kind", "kind-rwk", True, "v1.36.1",
        (NodeState("cp", True, "control-plane"), NodeState("w1", False, "<none>")),
        (Component("kube-apiserver", True, "readyz ok"),
         Component("metrics API", False, "not available yet")))
    lines = status.render().splitlines()
    assert lines[:4] == ["backend:  kind", "context:  kind-rwk", "server:   Kubernetes v1.36.1",
                         "nodes:    1/2 Ready"]
    assert lines[4].split() == ["Ready", "cp", "(control-plane)"]
    assert lines[5].split() == ["NotReady", "w1", "(<none>)"]
    assert lines[6] == "components:"
    assert lines[7].split()[:2] == ["ok", "kube-apiserver"]
    assert lines[8].split()[:3] == ["FAIL", "metrics", "API"]
    assert "(not available yet)" in lines[8]


def test_status_healthy_needs_a_ready_node_and_healthy_components():
    ready = (NodeState("n", True, "worker"),)
    ok = (Component("kube-apiserver", True),)
    assert ClusterStatus("kind", "c", True, "v1", ready, ok).healthy is True
    assert ClusterStatus("kind", "c", True, "v1", (NodeState("n", False, "w"),), ok).healthy \
        is False
    assert ClusterStatus("kind", "c", True, "v1", (), ok).healthy is False
    assert ClusterStatus("kind", "c", True, "v1", ready,
                         ok + (Component("metrics API", False),)).healthy is False


def test_read_status_collects_version_nodes_and_metrics():
    runner = Recorder({
        ("get", "--raw", "/readyz"): (0, "ok", ""),
        ("version",): (0, json.dumps({"serverVersion": {"gitVersion": "v1.36.3"}}), ""),
        ("get", "nodes"): (0, json.dumps({"items": [_node("w1", "True", "worker")]}), ""),
        ("get", "apiservice", "v1beta1.metrics.k8s.io"): (0, "True", ""),
    })
    status = read_status("sandbox", Kubectl("kwok-rwk", binary="kubectl", runner=runner))
    assert status.reachable and status.server_version == "v1.36.3"
    assert status.nodes == (NodeState("w1", True, "worker"),)
    assert [(c.name, c.healthy) for c in status.components] == [
        ("kube-apiserver", True), ("metrics API", True)]
    assert status.healthy is True


def test_kubectl_json_failure_is_cluster_unreachable_with_the_last_line():
    runner = Recorder(default=(1, "", "E0101 noise\nThe connection to the server was refused"))
    with pytest.raises(ClusterUnreachable, match="connection to the server was refused"):
        Kubectl("kwok-rwk", binary="kubectl", runner=runner).json("get", "nodes")


def test_kubectl_runs_in_its_env_or_else_this_process_s():
    envs = []

    def runner(args, env=None, input=None, timeout=None):
        envs.append(env)
        return _proc.Result(tuple(args), 0, "", "")

    Kubectl("c", binary="kubectl", runner=runner)("get", "nodes")
    Kubectl("c", binary="kubectl", runner=runner, env={"GOGC": "400"})("get", "nodes")
    assert envs == [None, {"GOGC": "400"}]


def test_reset_on_an_owned_cluster_deletes_every_non_system_namespace():
    runner = Recorder({("get", "namespaces"): (0, _namespaces(
        "default", "kube-system", "kube-public", "kube-node-lease", "traefik",
        "local-path-storage", "lesson-rollouts", "my-app"), "")})
    said: list[str] = []
    removed = reset_namespaces(Kubectl("kind-rwk", binary="kubectl", runner=runner),
                               owned_cluster=True, say=said.append)
    assert removed == ["lesson-rollouts", "my-app"]
    listing, delete = runner.kubectl_calls()
    assert listing == ("get", "namespaces", "-o", "json")  # no label selector
    assert delete == ("delete", "namespace", "--wait=true", "lesson-rollouts", "my-app")
    assert said == ["deleting namespace lesson-rollouts", "deleting namespace my-app"]


def test_reset_with_nothing_to_delete_issues_no_delete():
    runner = Recorder({("get", "namespaces"): (0, _namespaces("default", "kube-system"), "")})
    assert reset_namespaces(Kubectl("c", binary="kubectl", runner=runner), True,
                            lambda m: None) == []
    assert [c[0] for c in runner.kubectl_calls()] == ["get"]


def test_reset_reports_a_failed_delete():
    runner = Recorder({("get", "namespaces"): (0, _namespaces("lesson-1"), ""),
                       ("delete",): (1, "", "forbidden")})
    with pytest.raises(StartFailed, match="lesson-1.*forbidden"):
        reset_namespaces(Kubectl("c", binary="kubectl", runner=runner), True, lambda m: None)


# --- stop, and down that asks first ---------------------------------------------------------

class WorkBackend(FakeBackend):
    """A backend holding a learner's work."""

    def __init__(self, work: list[str]):
        super().__init__()
        self._work = work

    def stop(self, say):
        self.events.append("stop")

    def work(self):
        self.events.append("work")
        return self._work


def test_stop_keeps_the_remembered_backend(cache, monkeypatch):
    fake = WorkBackend([])
    monkeypatch.setattr(clusters, "make", lambda name, **o: fake)
    clusters.up("auto", print)
    clusters.stop(print)
    assert fake.events == ["up", "stop"]
    assert clusters.recalled() == "kind"   # `rwk up` brings back the same one


def test_down_with_work_and_nobody_to_ask_deletes_nothing_exit_2(cache, monkeypatch):
    fake = WorkBackend(["namespace production: 1 Deployment, 1 Service"])
    monkeypatch.setattr(clusters, "make", lambda name, **o: fake)
    clusters.remember("kind", "kind-rwk")
    with pytest.raises(UsageError) as error:
        clusters.down(print, yes=False, confirm=None)
    message = str(error.value)
    assert "namespace production: 1 Deployment, 1 Service" in message
    assert "rwk stop" in message and "--yes" in message
    assert error.value.exit_code == 2
    assert "down" not in fake.events
    assert clusters.recalled() == "kind"


def test_down_with_work_asks_and_a_no_deletes_nothing(cache, monkeypatch):
    fake = WorkBackend(["namespace production: 2 ConfigMaps"])
    monkeypatch.setattr(clusters, "make", lambda name, **o: fake)
    asked: list[str] = []
    said: list[str] = []
    assert clusters.down(said.append, yes=False,
                         confirm=lambda q: asked.append(q) or False) is False
    assert asked and "down" not in fake.events
    assert "namespace production: 2 ConfigMaps" in said[0] and said[-1] == "nothing deleted"
    assert clusters.down(said.append, yes=False, confirm=lambda q: True) is True
    assert fake.events[-1] == "down"


def test_down_asks_nothing_when_there_is_no_work_or_with_yes(cache, monkeypatch):
    empty = WorkBackend([])
    monkeypatch.setattr(clusters, "make", lambda name, **o: empty)
    assert clusters.down(print, yes=False, confirm=None) is True
    assert empty.events == ["work", "down"]
    full = WorkBackend(["namespace production: 1 Secret"])
    monkeypatch.setattr(clusters, "make", lambda name, **o: full)
    assert clusters.down(print, yes=True, confirm=None) is True
    assert full.events == ["down"]                 # --yes does not even read


def test_work_summary_counts_what_a_learner_made_per_namespace():
    objects = [{"kind": k, "metadata": {"namespace": ns, "name": n}} for k, ns, n in (
        ("Deployment", "production", "api-server"), ("Service", "production", "api-server"),
        ("ConfigMap", "production", "api-config"), ("ConfigMap", "production", "other"),
        ("ConfigMap", "production", "kube-root-ca.crt"),
        ("ServiceAccount", "production", "default"), ("ServiceAccount", "production", "deployer"),
        ("Deployment", "kube-system", "coredns"))]
    assert work_summary(["production", "lesson-00"], objects) == [
        "namespace lesson-00: empty",
        "namespace production: 2 ConfigMaps, 1 Deployment, 1 Service, 1 ServiceAccount"]


def test_existing_neither_stops_nor_counts_work():
    runner = Recorder({})
    said: list[str] = []
    Existing(context_name="workshop", runner=runner).stop(said.append)
    assert "does not stop" in said[0]
    assert Existing(context_name="workshop", runner=runner).work() == []
    assert runner.calls == []


def test_an_apply_the_server_does_not_answer_in_time_is_sent_again():
    answers = iter([(124, "crd/a serverside-applied", "timed out after 120s"), (0, "", "")])
    sent = []

    def slow_then_done(args, env=None, input=None, timeout=None):
        sent.append((args[3], input, timeout))
        return _proc.Result(tuple(args), *next(answers))

    Kubectl("c", binary="kubectl", runner=slow_then_done).apply("kind: X", "the CRDs",
                                                               server_side=True, timeout=120)
    assert sent == [("apply", "kind: X", 120)] * 2


def test_an_apply_never_answered_names_its_tries_and_a_refused_one_is_not_sent_again():
    late = Recorder(default=(124, "", "timed out after 120s"))
    with pytest.raises(StartFailed, match=r"could not apply the CRDs \(3 tries of 120 s\): "
                                          r"timed out after 120s"):
        Kubectl("c", binary="kubectl", runner=late).apply("kind: X", "the CRDs", timeout=120)
    assert len(late.calls) == 3
    refused = Recorder(default=(1, "", "error: no matches for kind X"))
    with pytest.raises(StartFailed, match=r"could not apply the CRDs: error: no matches"):
        Kubectl("c", binary="kubectl", runner=refused).apply("kind: X", "the CRDs")
    assert len(refused.calls) == 1
