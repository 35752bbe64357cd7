"""The kind backend, without Docker: what it would write and which commands it would issue.

kind cannot run on this project's machines, so these tests drive `Kind` with a recording
fake runner that answers `docker info`, `kind get clusters`, `kind create cluster` and
kubectl, and assert on the config file and the commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from checker.backends import _proc, kind as kind_module
from checker.backends.kind import Kind, kind_config
from checker.backends.versions import load
from checker.errors import DockerUnavailable, PortInUse, StartFailed

V = load()
METRICS_ARGS_WITHOUT = '["--cert-dir=/tmp","--secure-port=10250","--metric-resolution=15s"]'
METRICS_ARGS_WITH = ('["--cert-dir=/tmp","--secure-port=10250","--metric-resolution=15s",'
                     '"--kubelet-insecure-tls"]')


class FakeRunner:
    """Records every command; answers the ones the kind backend issues."""

    def __init__(self, *, docker_ok: bool = True, clusters: str = "",
                 create_code: int = 0, create_stderr: str = "",
                 metrics_args: str = METRICS_ARGS_WITHOUT, failing_kubectl: str = ""):
        self.docker_ok = docker_ok
        self.clusters = clusters
        self.create_code = create_code
        self.create_stderr = create_stderr
        self.metrics_args = metrics_args
        self.failing_kubectl = failing_kubectl
        self.calls: list[tuple[str, ...]] = []
        self.config_text: str | None = None

    def __call__(self, args, env=None, input=None, timeout=None) -> _proc.Result:
        args = tuple(args)
        self.calls.append(args)
        if args[:2] == ("docker", "info"):
            return _proc.Result(args, 0 if self.docker_ok else 1,
                                "29.1.0\n" if self.docker_ok else "",
                                "" if self.docker_ok else
                                "Cannot connect to the Docker daemon at unix:///var/run/docker.sock")
        if args[:3] == ("kind", "get", "clusters"):
            return _proc.Result(args, 0, self.clusters, "")
        if args[:3] == ("kind", "create", "cluster"):
            # The temp dir holding the config is gone once the backend returns: read it now.
            self.config_text = Path(args[args.index("--config") + 1]).read_text()
            return _proc.Result(args, self.create_code, "", self.create_stderr)
        if args[:3] == ("kind", "delete", "cluster"):
            return _proc.Result(args, 0, "", "Deleting cluster \"rwk\" ...")
        if len(args) > 2 and args[1] == "--context":
            rest = self.kubectl_args(args)
            if self.failing_kubectl and self.failing_kubectl in " ".join(rest):
                return _proc.Result(args, 1, "", "error: timed out waiting for the condition")
            if rest[:3] == ("get", "deployment", "metrics-server"):
                return _proc.Result(args, 0, self.metrics_args, "")
            if rest[:2] == ("get", "namespaces"):
                names = ["default", "kube-system", "ingress-nginx", "local-path-storage",
                         "lesson-pods"]
                return _proc.Result(args, 0, json.dumps(
                    {"items": [{"metadata": {"name": n}} for n in names]}), "")
            return _proc.Result(args, 0, "ok", "")
        raise AssertionError(f"unexpected command {args}")

    @staticmethod
    def kubectl_args(call: tuple[str, ...]) -> tuple[str, ...]:
        """The arguments after `kubectl --context C [--kubeconfig K]`."""
        rest = call[3:]
        if rest[:1] == ("--kubeconfig",):
            rest = rest[2:]
        return rest

    def kubectl_calls(self) -> list[tuple[str, ...]]:
        return [self.kubectl_args(c) for c in self.calls
                if len(c) > 2 and c[1] == "--context"]

    def contexts(self) -> set[str]:
        return {c[2] for c in self.calls if len(c) > 2 and c[1] == "--context"}

    def kind_calls(self, verb: str) -> list[tuple[str, ...]]:
        return [c for c in self.calls if c[:2] == ("kind", verb)]

    def index_of(self, *prefix: str) -> int:
        for i, call in enumerate(self.kubectl_calls()):
            if call[:len(prefix)] == prefix:
                return i
        raise AssertionError(f"no kubectl call starting with {prefix}: {self.kubectl_calls()}")


@pytest.fixture(autouse=True)
def host_ports_free(monkeypatch):
    """Tests must not depend on whether something listens on 80/443 here."""
    monkeypatch.setattr(kind_module._proc, "port_in_use", lambda port, host="127.0.0.1": False)


def _up(runner: FakeRunner, **kwargs) -> list[str]:
    said: list[str] = []
    Kind(runner=runner, **kwargs).up(said.append)
    return said


def _node_labels(node: dict) -> dict[str, str]:
    """A node's labels, whether set with `labels:` or a kubeadm node-labels patch."""
    labels = dict(node.get("labels") or {})
    for patch in node.get("kubeadmConfigPatches") or []:
        doc = yaml.safe_load(patch)
        extra = (doc.get("nodeRegistration", {}).get("kubeletExtraArgs") or {})
        if isinstance(extra, list):  # kubeadm v1beta4: a list of {name, value}
            extra = {a["name"]: a["value"] for a in extra}
        for pair in filter(None, str(extra.get("node-labels", "")).split(",")):
            key, _, value = pair.partition("=")
            labels[key] = value
    return labels


# --- the config -----------------------------------------------------------------------------

def test_create_writes_ingress_ready_control_plane_with_ports_and_two_workers():
    runner = FakeRunner()
    _up(runner)
    assert runner.config_text is not None, "kind create cluster was not called with --config"
    config = yaml.safe_load(runner.config_text)
    assert config["kind"] == "Cluster"
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert [n["role"] for n in config["nodes"]] == ["control-plane", "worker", "worker"]
    control_plane = config["nodes"][0]
    assert _node_labels(control_plane).get("ingress-ready") == "true"
    mapped = {(m["containerPort"], m["hostPort"], m.get("protocol", "TCP"))
              for m in control_plane["extraPortMappings"]}
    assert mapped == {(80, 80, "TCP"), (443, 443, "TCP")}
    # Only the control-plane maps host ports (two nodes cannot both bind host port 80).
    assert all("extraPortMappings" not in n for n in config["nodes"][1:])


def test_kind_config_names_the_cluster():
    assert kind_config("course")["name"] == "course"
    assert kind_config("rwk")["nodes"][0]["role"] == "control-plane"


def test_create_uses_the_pinned_node_image_by_digest():
    runner = FakeRunner()
    _up(runner)
    (create,) = runner.kind_calls("create")
    assert create[:3] == ("kind", "create", "cluster")
    assert create[create.index("--name") + 1] == "rwk"
    image = create[create.index("--image") + 1]
    assert image == V.kind_node_image
    assert "@sha256:" in image
    assert image.startswith("kindest/node:v")
    assert "--wait" in create


def test_kubeconfig_is_passed_to_kind_and_kubectl(tmp_path):
    runner = FakeRunner()
    kubeconfig = tmp_path / "kubeconfig"
    _up(runner, kubeconfig=kubeconfig)
    (create,) = runner.kind_calls("create")
    assert create[create.index("--kubeconfig") + 1] == str(kubeconfig)
    kubectl = [c for c in runner.calls if len(c) > 2 and c[1] == "--context"]
    assert kubectl and all(c[3:5] == ("--kubeconfig", str(kubeconfig)) for c in kubectl)


# --- the add-ons ----------------------------------------------------------------------------

def test_ingress_nginx_manifest_is_the_pinned_kind_provider():
    runner = FakeRunner()
    _up(runner)
    applied = [c[c.index("-f") + 1] for c in runner.kubectl_calls() if c[0] == "apply"]
    ingress = [u for u in applied if "ingress-nginx" in u]
    assert len(ingress) == 1, applied
    url = ingress[0]
    assert url.startswith("https://")
    assert f"controller-v{V.ingress_nginx}/" in url
    assert "/deploy/static/provider/kind/" in url


def test_metrics_server_manifest_is_the_pinned_release():
    runner = FakeRunner()
    _up(runner)
    applied = [c[c.index("-f") + 1] for c in runner.kubectl_calls() if c[0] == "apply"]
    metrics = [u for u in applied if "metrics-server" in u]
    assert metrics == ["https://github.com/kubernetes-sigs/metrics-server/releases/download/"
                       f"v{V.metrics_server}/components.yaml"]


def test_all_kubectl_calls_use_the_kind_context():
    runner = FakeRunner()
    _up(runner)
    assert runner.contexts() == {"kind-rwk"}
    assert Kind(name="other", runner=runner).context == "kind-other"


def test_metrics_server_is_patched_with_insecure_tls_when_its_args_lack_it():
    runner = FakeRunner(metrics_args=METRICS_ARGS_WITHOUT)
    _up(runner)
    patches = [c for c in runner.kubectl_calls() if c[0] == "patch"]
    assert len(patches) == 1
    patch = patches[0]
    assert patch[1:3] == ("deployment", "metrics-server")
    assert patch[patch.index("-n") + 1] == "kube-system"
    assert "--type=json" in patch
    ops = json.loads(patch[patch.index("-p") + 1])
    assert ops == [{"op": "add", "path": "/spec/template/spec/containers/0/args/-",
                    "value": "--kubelet-insecure-tls"}]
    # The patch comes after metrics-server is applied and before the waits.
    calls = runner.kubectl_calls()
    apply_metrics = next(i for i, c in enumerate(calls)
                         if c[0] == "apply" and "metrics-server" in c[c.index("-f") + 1])
    assert apply_metrics < runner.index_of("patch") < runner.index_of("rollout", "status")


def test_metrics_server_is_not_patched_when_insecure_tls_is_already_there():
    runner = FakeRunner(metrics_args=METRICS_ARGS_WITH)
    _up(runner)
    assert [c for c in runner.kubectl_calls() if c[0] == "patch"] == []


def test_waits_for_ingress_controller_and_metrics_server_rollout():
    runner = FakeRunner()
    _up(runner)
    calls = runner.kubectl_calls()
    waits = [c for c in calls if c[0] == "wait"]
    assert len(waits) == 1
    wait = waits[0]
    assert wait[wait.index("--namespace") + 1] == "ingress-nginx"
    assert "--for=condition=ready" in wait
    assert "pod" in wait
    assert "--selector=app.kubernetes.io/component=controller" in wait
    assert any(a.startswith("--timeout=") for a in wait)
    rollouts = [c for c in calls if c[:2] == ("rollout", "status")]
    assert len(rollouts) == 1
    assert "deployment/metrics-server" in rollouts[0]
    assert rollouts[0][rollouts[0].index("-n") + 1] == "kube-system"
    # Waits come after both manifests are applied.
    last_apply = max(i for i, c in enumerate(calls) if c[0] == "apply")
    assert runner.index_of("wait") > last_apply
    assert runner.index_of("rollout", "status") > last_apply


def test_a_failed_wait_raises_start_failed_naming_it():
    runner = FakeRunner(failing_kubectl="rollout status deployment/metrics-server")
    with pytest.raises(StartFailed, match="wait for metrics-server") as caught:
        _up(runner)
    assert "timed out waiting for the condition" in str(caught.value)


def test_up_reports_the_kubernetes_version_of_the_node_image():
    said = _up(FakeRunner())
    tag = V.kind_node_image.split(":", 1)[1].split("@")[0]
    assert tag.startswith("v1.")
    assert f"Kubernetes {tag}," in said[-1]
    assert "context kind-rwk" in said[-1]


# --- an existing cluster, errors ------------------------------------------------------------

def test_existing_cluster_is_not_recreated_but_addons_are_ensured():
    runner = FakeRunner(clusters="other\nrwk\n")
    said = _up(runner)
    assert runner.kind_calls("create") == []
    assert runner.config_text is None
    assert any("already exists" in line for line in said)
    assert any(c[0] == "apply" for c in runner.kubectl_calls())


def test_a_cluster_with_a_longer_name_is_not_mistaken_for_ours():
    runner = FakeRunner(clusters="rwk-old\nmyrwk\n")
    _up(runner)
    assert len(runner.kind_calls("create")) == 1


def test_up_twice_creates_once():
    runner = FakeRunner()
    _up(runner)
    runner.clusters = "rwk\n"
    _up(runner)
    assert len(runner.kind_calls("create")) == 1


def test_no_docker_daemon_raises_docker_unavailable_pointing_to_the_sandbox():
    runner = FakeRunner(docker_ok=False)
    with pytest.raises(DockerUnavailable) as caught:
        _up(runner)
    message = str(caught.value)
    assert "--backend sandbox" in message
    assert "docker info" in message
    assert caught.value.exit_code == 1
    assert runner.kind_calls("create") == []
    assert runner.kubectl_calls() == []


def test_available_says_what_is_missing():
    assert Kind(runner=FakeRunner()).available() == ""
    assert "Docker daemon" in Kind(runner=FakeRunner(docker_ok=False)).available()


def test_kind_not_installed_is_reported_with_the_real_runner(monkeypatch):
    monkeypatch.setattr(kind_module.shutil, "which", lambda name: None)
    assert "kind command is not installed" in Kind().available()


def test_failing_kind_create_raises_start_failed_with_kinds_output():
    output = "ERROR: failed to create cluster: could not find a log line that matches"
    runner = FakeRunner(create_code=1, create_stderr=output)
    with pytest.raises(StartFailed) as caught:
        _up(runner)
    assert output in str(caught.value)
    assert "kind delete cluster --name rwk" in str(caught.value)
    assert runner.kubectl_calls() == []


def test_a_host_port_in_use_stops_before_creating(monkeypatch):
    monkeypatch.setattr(kind_module._proc, "port_in_use",
                        lambda port, host="127.0.0.1": port == 443)
    runner = FakeRunner()
    with pytest.raises(PortInUse, match="443"):
        _up(runner)
    assert runner.kind_calls("create") == []


def test_ports_are_not_checked_for_an_existing_cluster(monkeypatch):
    # Our own cluster holds 80/443; a second `rwk up` must not trip over it.
    monkeypatch.setattr(kind_module._proc, "port_in_use", lambda port, host="127.0.0.1": True)
    _up(FakeRunner(clusters="rwk\n"))


# --- down, reset --------------------------------------------------------------------------

def test_down_deletes_the_named_cluster():
    runner = FakeRunner()
    said: list[str] = []
    Kind(runner=runner).down(said.append)
    assert runner.calls == [("kind", "delete", "cluster", "--name", "rwk")]
    assert said == ["kind cluster 'rwk' deleted"]


def test_reset_deletes_every_non_system_namespace():
    runner = FakeRunner()
    removed = Kind(runner=runner).reset(lambda message: None)
    assert removed == ["lesson-pods"]
    deletes = [c for c in runner.kubectl_calls() if c[0] == "delete"]
    assert deletes == [("delete", "namespace", "--wait=true", "lesson-pods")]
