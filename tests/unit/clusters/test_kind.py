"""The kind backend, without Docker: what it would write and which commands it would issue.

kind cannot run on this project's machines, so these tests drive `Kind` with a recording
fake runner that answers `docker info`, `kind version`, `kind get clusters`, `kind create
cluster` and kubectl, and assert on the config file and the commands. Where Traefik's pod
can be scheduled, and what the notebooks check before they create an Ingress, are tested in
test_kind_ingress.py; the real cluster in tests/kind.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from checker.clusters import _proc, kind as kind_module
from checker.clusters.kind import UP_BUDGET, Kind, kind_config, kind_version_verdict
from checker.clusters.versions import load
from checker.errors import DockerUnavailable, PortInUse, StartFailed

V = load()
CRDS_FROM_THE_CACHE = "kind: CustomResourceDefinition  # from the cache\n"


@pytest.fixture(autouse=True)
def gateway_crds_in_the_cache(monkeypatch) -> list[str]:
    """The Gateway API's CRDs as the cache would hold them, without Go or the real cache;
    the list records each time the backend asks for them to be provided."""
    from checker.clusters import binaries
    asked: list[str] = []
    monkeypatch.setattr(binaries, "ensure_gateway_crds", lambda v, *a: asked.append(v.gateway_api))
    monkeypatch.setattr(binaries, "gateway_crds", lambda v: CRDS_FROM_THE_CACHE)
    return asked


METRICS_ARGS_WITHOUT = '["--cert-dir=/tmp","--secure-port=10250","--metric-resolution=15s"]'
METRICS_ARGS_WITH = ('["--cert-dir=/tmp","--secure-port=10250","--metric-resolution=15s",'
                     '"--kubelet-insecure-tls"]')


ACCEPTED_CLASS = {"spec": {"controllerName": "traefik.io/gateway-controller"},
                  "status": {"conditions": [{"type": "Accepted", "status": "True",
                                             "reason": "Accepted", "message": ""}]}}


class FakeRunner:
    """Records every command; answers the ones the kind backend issues."""

    def __init__(self, *, docker_ok: bool = True, clusters: str = "",
                 create_code: int = 0, create_stderr: str = "",
                 metrics_args: str = METRICS_ARGS_WITHOUT, failing_kubectl: str = "",
                 kind_version: str = f"kind v{V.kind} go1.25.3 linux/amd64",
                 controller_pods: dict | None = None, mapped_nodes: str = "rwk-control-plane",
                 readyz: tuple[bool, ...] = (True,), docker_code: int = 0,
                 node_image: str = V.kind_node_image, gateway_class: dict | None = None):
        self.gateway_class = gateway_class or ACCEPTED_CLASS
        self.readyz = list(readyz)
        self.node_image = node_image
        self.docker_code = docker_code
        self.kind_version = kind_version
        self.controller_pods = controller_pods or {"items": []}
        self.mapped_nodes = mapped_nodes
        self.docker_ok = docker_ok
        self.clusters = clusters
        self.create_code = create_code
        self.create_stderr = create_stderr
        self.metrics_args = metrics_args
        self.failing_kubectl = failing_kubectl
        self.calls: list[tuple[str, ...]] = []
        self.config_text: str | None = None
        self.applied: list[str] = []
        """The manifests applied from standard input, in order."""

    def __call__(self, args, env=None, input=None, timeout=None) -> _proc.Result:
        args = tuple(args)
        self.calls.append(args)
        if input is not None and "apply" in args:
            self.applied.append(input)
        if args[:2] == ("docker", "info"):
            return _proc.Result(args, 0 if self.docker_ok else 1,
                                "29.1.0\n" if self.docker_ok else "",
                                "" if self.docker_ok else
                                "Cannot connect to the Docker daemon at unix:///var/run/docker.sock")
        if args[:2] == ("kind", "version"):
            return _proc.Result(args, 0, self.kind_version + "\n", "")
        if args[:3] == ("kind", "get", "clusters"):
            return _proc.Result(args, 0, self.clusters, "")
        if args[:3] == ("kind", "create", "cluster"):
            # The temp dir holding the config is gone once the backend returns: read it now.
            self.config_text = Path(args[args.index("--config") + 1]).read_text()
            return _proc.Result(args, self.create_code, "", self.create_stderr)
        if args[:3] == ("kind", "load", "docker-image"):
            return _proc.Result(args, 0, "", "")
        if args[:3] == ("kind", "get", "nodes"):
            return _proc.Result(args, 0, "rwk-worker\nrwk-control-plane\nrwk-worker2\n", "")
        if args[:2] == ("docker", "inspect"):
            return _proc.Result(args, 0, self.node_image + "\n", "")
        if args[:2] in (("docker", "stop"), ("docker", "start")):
            return _proc.Result(args, self.docker_code, "\n".join(args[2:]),
                                "" if self.docker_code == 0 else "Error: No such container")
        if args[:3] == ("kind", "delete", "cluster"):
            return _proc.Result(args, 0, "", "Deleting cluster \"rwk\" ...")
        if len(args) > 2 and args[1] == "--context":
            rest = self.kubectl_args(args)
            if self.failing_kubectl and self.failing_kubectl in " ".join(rest):
                return _proc.Result(args, 1, "", "error: timed out waiting for the condition")
            if rest[:3] == ("get", "deployment", "metrics-server"):
                return _proc.Result(args, 0, self.metrics_args, "")
            if rest[:2] == ("get", "--raw"):
                # /readyz, one answer per call; the last one repeats.
                up = self.readyz.pop(0) if len(self.readyz) > 1 else self.readyz[0]
                return _proc.Result(args, 0 if up else 1, "ok" if up else "",
                                    "" if up else "connection refused")
            if rest[:1] == ("version",):
                return _proc.Result(args, 0, json.dumps(
                    {"serverVersion": {"gitVersion": "v1.36.1"}}), "")
            if rest[:2] == ("get", "nodes") and "-l" in rest:
                return _proc.Result(args, 0, self.mapped_nodes, "")
            if rest[:2] == ("get", "nodes"):
                return _proc.Result(args, 0, json.dumps({"items": [
                    {"metadata": {"name": n, "labels": {}}, "status": {"conditions": [
                        {"type": "Ready", "status": "True"}]}}
                    for n in ("rwk-control-plane", "rwk-worker", "rwk-worker2")]}), "")
            if rest[:2] == ("get", "apiservice"):
                return _proc.Result(args, 0, "True", "")
            if rest[:2] == ("get", "gatewayclass"):
                return _proc.Result(args, 0, json.dumps(self.gateway_class), "")
            if rest[:2] == ("get", "pods"):
                return _proc.Result(args, 0, json.dumps(self.controller_pods), "")
            if rest[:1] == ("get",) and "--all-namespaces" in rest:
                return _proc.Result(args, 0, json.dumps({"items": [
                    {"kind": kind, "metadata": {"namespace": ns, "name": name}}
                    for kind, ns, name in (
                        ("Deployment", "lesson-pods", "api-server"),
                        ("ConfigMap", "lesson-pods", "kube-root-ca.crt"),
                        ("ServiceAccount", "lesson-pods", "default"),
                        ("Deployment", "kube-system", "coredns"))]}), "")
            if rest[:2] == ("get", "namespaces"):
                names = ["default", "kube-system", "traefik", "local-path-storage",
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

def _traefik_deployment(runner: FakeRunner) -> dict:
    docs = [d for text in runner.applied for d in yaml.safe_load_all(text) if d]
    (deployment,) = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "traefik"]
    return deployment


def test_traefik_is_applied_with_the_pinned_image_by_digest_where_a_registry_answers():
    runner = FakeRunner()
    _up(runner, images="upstream")
    (container,) = _traefik_deployment(runner)["spec"]["template"]["spec"]["containers"]
    assert container["image"] == V.traefik_image
    assert "@sha256:" in container["image"] and f":v{V.traefik}@" in container["image"]


def test_traefik_is_applied_with_the_tag_built_here_where_none_does():
    runner = FakeRunner()
    _up(runner, images="local")
    (container,) = _traefik_deployment(runner)["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"traefik:v{V.traefik}"


@pytest.mark.parametrize("images", ["upstream", "local"])
def test_the_gateway_api_and_its_class_come_before_traefik(images, gateway_crds_in_the_cache):
    """Traefik's Gateway provider watches the Gateway API's objects from its start: their CRDs
    are applied server-side (the HTTPRoute CRD is too large for a client-side apply), from
    the release where a registry answers and from the cache where none does; then the
    GatewayClass rwk, for Traefik's controller name."""
    runner = FakeRunner()
    _up(runner, images=images)
    calls = runner.kubectl_calls()
    stdin = iter(runner.applied)      # what each `apply -f -` read, in order
    inputs = [next(stdin) if c[0] == "apply" and c[-2:] == ("-f", "-") else None for c in calls]
    (crds,) = [i for i, c in enumerate(calls) if c[0] == "apply" and "--server-side" in c]
    if images == "upstream":
        assert calls[crds][-1] == kind_module.GATEWAY_CRDS.format(version=V.gateway_api)
        assert gateway_crds_in_the_cache == []
    else:
        assert inputs[crds] == CRDS_FROM_THE_CACHE
        assert gateway_crds_in_the_cache == [V.gateway_api]
    established = next(i for i, c in enumerate(calls)
                       if c[0] == "wait" and "--for=condition=Established" in c)
    gateway_class = next(i for i, text in enumerate(inputs) if text and '"GatewayClass"' in text)
    traefik = next(i for i, text in enumerate(inputs) if text and "kind: Deployment" in text)
    assert crds < established < gateway_class < traefik
    assert json.loads(inputs[gateway_class])["spec"]["controllerName"] == \
        "traefik.io/gateway-controller"


def test_the_nginx_ingress_class_is_applied_with_traefik():
    runner = FakeRunner()
    _up(runner)
    classes = [d for text in runner.applied for d in yaml.safe_load_all(text)
               if d and d["kind"] == "IngressClass"]
    assert [c["metadata"]["name"] for c in classes] == ["nginx"]


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
    patches = [c for c in runner.kubectl_calls() if c[:3] == ("patch", "deployment", "metrics-server")]
    assert len(patches) == 1
    patch = patches[0]
    assert patch[patch.index("-n") + 1] == "kube-system"
    assert "--type=json" in patch
    ops = json.loads(patch[patch.index("-p") + 1])
    assert ops == [{"op": "add", "path": "/spec/template/spec/containers/0/args/-",
                    "value": "--kubelet-insecure-tls"}]
    # The patch comes after metrics-server is applied and before the waits.
    calls = runner.kubectl_calls()
    apply_metrics = next(i for i, c in enumerate(calls)
                         if c[0] == "apply" and "metrics-server" in c[c.index("-f") + 1])
    assert apply_metrics < calls.index(patch) < runner.index_of("rollout", "status")


def test_metrics_server_is_not_patched_when_insecure_tls_is_already_there():
    runner = FakeRunner(metrics_args=METRICS_ARGS_WITH)
    _up(runner)
    assert [c for c in runner.kubectl_calls() if c[:3] == ("patch", "deployment", "metrics-server")] == []


def test_waits_for_both_rollouts_never_for_pods_by_selector_then_for_the_metrics_api():
    runner = FakeRunner()
    _up(runner)
    calls = runner.kubectl_calls()
    # `kubectl wait pod --selector` exits at once while no pod exists yet (kubernetes#65868).
    assert [c for c in calls if c[0] == "wait" and "pod" in " ".join(c)] == []
    rollouts = [c for c in calls if c[:2] == ("rollout", "status")]
    assert [r[2] for r in rollouts] == ["deployment/traefik", "deployment/metrics-server"]
    assert [r[r.index("-n") + 1] for r in rollouts] == ["traefik", "kube-system"]
    for rollout in rollouts:
        timeout = next(a for a in rollout if a.startswith("--timeout="))
        assert 0 < int(timeout.removeprefix("--timeout=").removesuffix("s")) <= UP_BUDGET
    # Waits come after everything is applied and patched; the metrics API after its rollout.
    last_change = max(i for i, c in enumerate(calls) if c[0] in ("apply", "patch"))
    assert calls.index(rollouts[0]) > last_change
    (api,) = [c for c in calls if c[0] == "wait" and "apiservice" in " ".join(c)]
    assert "apiservice/v1beta1.metrics.k8s.io" in api and calls.index(api) > calls.index(rollouts[1])


def test_up_stops_when_its_budget_is_spent_naming_the_step():
    # A clock on which each command takes 200 s: the budget runs out part way.
    now = [0.0]
    runner = FakeRunner()
    counting = lambda args, **kw: (now.__setitem__(0, now[0] + 200), runner(args, **kw))[1]
    with pytest.raises(StartFailed, match=r"ran out of its 900 s before it could") as caught:
        Kind(runner=counting, clock=lambda: now[0]).up(lambda line: None)
    assert "rwk up` again" in str(caught.value)


def test_every_step_is_bounded_by_what_is_left_of_the_budget():
    seen: list[float] = []
    runner = FakeRunner()

    def recording(args, env=None, input=None, timeout=None):
        seen.append(timeout)
        return runner(args, env=env, input=input, timeout=timeout)

    Kind(runner=recording).up(lambda line: None)
    assert seen and all(t is not None and t <= UP_BUDGET + 20 for t in seen)
    (create,) = runner.kind_calls("create")
    assert seen[runner.calls.index(create)] == 600


def test_a_failed_wait_raises_start_failed_naming_it():
    runner = FakeRunner(failing_kubectl="rollout status deployment/metrics-server")
    with pytest.raises(StartFailed, match="wait for metrics-server") as caught:
        _up(runner)
    assert "timed out waiting for the condition" in str(caught.value)


def test_the_pinned_kind_version_is_checked_before_creating():
    runner = FakeRunner()
    _up(runner)
    assert runner.calls.index(("kind", "version")) < runner.calls.index(runner.kind_calls("create")[0])


def test_an_older_kind_is_refused_before_creating_with_the_pinned_release_link():
    runner = FakeRunner(kind_version="kind v0.20.0 go1.20.4 linux/amd64")
    with pytest.raises(DockerUnavailable) as caught:
        _up(runner)
    message = str(caught.value)
    assert "kind v0.20.0 is older than the pinned" in message
    assert f"releases/tag/v{V.kind}" in message
    assert "--backend sandbox" in message
    assert runner.kind_calls("create") == []


def test_a_newer_kind_creates_with_a_warning():
    major, minor, patch = map(int, V.kind.split("."))
    said = _up(runner := FakeRunner(kind_version=f"kind v{major}.{minor + 1}.0 go1.26 linux/arm64"))
    assert len(runner.kind_calls("create")) == 1
    assert any(line.startswith("warning: ") and "newer than the pinned" in line for line in said)


def test_an_existing_cluster_with_an_older_kind_is_only_warned_about():
    said = _up(runner := FakeRunner(clusters="rwk\n", kind_version="kind v0.20.0 go1.20"))
    assert runner.kind_calls("create") == []
    assert any(line.startswith("warning: ") for line in said)


@pytest.mark.parametrize("output, verdict", [
    (f"kind v{V.kind} go1.25.3 linux/amd64", "ok"),
    ("kind v0.31.9 go1.25.3 linux/amd64", "refuse"),
    ("kind v0.33.0 go1.26.0 darwin/arm64", "warn"),
    ("kind v1.0.0-alpha go1.26.0 darwin/arm64", "warn"),
    ("command not found", "refuse"),
])
def test_kind_version_verdicts(output, verdict):
    assert kind_version_verdict(output, "0.32.0")[0] == verdict


# --- status -----------------------------------------------------------------------------------

def _controller_pod(node: str, ready: bool = True) -> dict:
    return {"metadata": {"name": "traefik-7d9f-abcde"},
            "spec": {"nodeName": node, "containers": [{"name": "traefik", "image": V.traefik_image}]},
            "status": {"conditions": [{"type": "Ready", "status": str(ready)}]}}


def test_status_says_the_controller_runs_on_the_mapped_node():
    runner = FakeRunner(controller_pods={"items": [_controller_pod("rwk-control-plane")]})
    status = Kind(runner=runner).status()
    (controller,) = [c for c in status.components if c.name == "ingress controller"]
    assert controller.healthy
    assert (f"traefik ({V.traefik_image}) on rwk-control-plane, the node with host ports 80/443"
            in controller.detail)
    assert "ingress controller  (traefik (" in status.render()
    assert status.healthy


def test_status_fails_when_the_controller_runs_on_a_worker():
    runner = FakeRunner(controller_pods={"items": [_controller_pod("rwk-worker2")]})
    status = Kind(runner=runner).status()
    (controller,) = [c for c in status.components if c.name == "ingress controller"]
    assert not controller.healthy
    assert "on rwk-worker2, NOT the node with host ports 80/443 (rwk-control-plane)" in controller.detail
    assert not status.healthy
    assert "FAIL  ingress controller" in status.render()


def test_status_says_whether_traefik_accepted_the_gateway_class():
    (gateway,) = [c for c in Kind(runner=FakeRunner()).status().components
                  if c.name == "Gateway API"]
    assert gateway.healthy
    assert gateway.detail == "GatewayClass rwk accepted by traefik.io/gateway-controller"
    waiting = {"spec": {"controllerName": "traefik.io/gateway-controller"},
               "status": {"conditions": [{"type": "Accepted", "status": "Unknown",
                                          "reason": "Pending", "message": "Waiting for controller"}]}}
    status = Kind(runner=FakeRunner(gateway_class=waiting,
                                    controller_pods={"items": [_controller_pod("rwk-control-plane")]})).status()
    (gateway,) = [c for c in status.components if c.name == "Gateway API"]
    assert not gateway.healthy and not status.healthy
    assert gateway.detail == ("GatewayClass rwk not accepted by traefik.io/gateway-controller "
                              "(Pending: Waiting for controller)")


def test_status_fails_without_a_controller_pod():
    status = Kind(runner=FakeRunner()).status()
    (controller,) = [c for c in status.components if c.name == "ingress controller"]
    assert not controller.healthy and "no controller pod" in controller.detail


def test_up_reports_the_node_image_and_the_controller():
    said = _up(FakeRunner())
    tag = V.kind_node_image.split(":", 1)[1].split("@")[0]
    assert tag.startswith("v1.")
    assert f"kindest/node {tag}," in said[-1]
    assert f"Traefik {V.traefik} serving Ingresses of class nginx" in said[-1]
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


def test_kind_not_installed_is_reported_with_the_real_runner(monkeypatch, tmp_path):
    monkeypatch.setattr(kind_module.shutil, "which", lambda name: None)
    monkeypatch.setenv("RWK_CACHE_DIR", str(tmp_path))    # no kind built into the cache either
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


# --- stop, and start again --------------------------------------------------------------

def test_stop_stops_the_node_containers_and_deletes_nothing():
    runner = FakeRunner(clusters="rwk\n")
    said: list[str] = []
    Kind(runner=runner).stop(said.append)
    docker = [c for c in runner.calls if c[0] == "docker"]
    assert docker == [("docker", "stop", "rwk-control-plane", "rwk-worker", "rwk-worker2")]
    assert runner.kind_calls("delete") == []
    assert "stopped" in said[-1] and "rwk up" in said[-1]


def test_stop_without_a_cluster_does_nothing():
    runner = FakeRunner(clusters="other\n")
    said: list[str] = []
    Kind(runner=runner).stop(said.append)
    assert [c for c in runner.calls if c[0] == "docker"] == []
    assert "nothing to stop" in said[-1]


def test_stop_that_docker_refuses_is_an_error_naming_down():
    runner = FakeRunner(clusters="rwk\n", docker_code=1)
    with pytest.raises(kind_module.BackendError) as error:
        Kind(runner=runner).stop(print)
    assert "No such container" in str(error.value) and "rwk down" in str(error.value)


def test_up_of_a_stopped_cluster_starts_its_nodes_then_waits_for_the_api():
    runner = FakeRunner(clusters="rwk\n", readyz=(False, False, False, True))
    _up(runner, sleep=lambda s: None)
    starts = [c for c in runner.calls if c[:2] == ("docker", "start")]
    assert starts == [("docker", "start", "rwk-control-plane", "rwk-worker", "rwk-worker2")]
    assert runner.kind_calls("create") == []
    # Nodes started before any add-on is applied, and the API answered in between.
    order = [" ".join(c) for c in runner.calls]
    started = next(i for i, c in enumerate(order) if c.startswith("docker start"))
    first_apply = next(i for i, c in enumerate(order) if " apply " in c)
    assert started < first_apply
    assert any("get --raw /readyz" in c for c in order[started:first_apply])


def test_up_of_a_running_cluster_starts_no_container():
    runner = FakeRunner(clusters="rwk\n")
    _up(runner)
    assert [c for c in runner.calls if c[:2] == ("docker", "start")] == []


def test_up_gives_up_when_the_started_api_never_answers():
    clock = iter(range(0, 10_000, 5))
    runner = FakeRunner(clusters="rwk\n", readyz=(False,))
    with pytest.raises(StartFailed) as error:
        Kind(runner=runner, clock=lambda: float(next(clock)), sleep=lambda s: None).up(print)
    assert "did not answer" in str(error.value) and "docker logs rwk-control-plane" in str(
        error.value)


def test_work_lists_the_namespaces_down_would_delete():
    runner = FakeRunner(clusters="rwk\n")
    lines = Kind(runner=runner).work()
    assert lines == ["namespace lesson-pods: 1 Deployment"]


def test_work_of_a_stopped_cluster_says_it_cannot_be_read():
    runner = FakeRunner(clusters="rwk\n", readyz=(False,))
    (line,) = Kind(runner=runner).work()
    assert "stopped kind cluster 'rwk'" in line
