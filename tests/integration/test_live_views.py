"""The lessons' live views (checker.notebooks.live) on the real sandbox: what they see, how
often they redraw, and what they cost the API server, counted from kubectl's own request log
(`-v=6`) through a kubectl on PATH that logs and runs the real one."""

from __future__ import annotations

import itertools
import os
import re
import stat
import statistics
from pathlib import Path

import pytest

from checker.clusters.base import Kubectl, kubectl_binary
from checker.clusters.sandbox import Sandbox
from checker.notebooks import live

from .conftest import apply
from .rollout_helpers import PODINFO

pytestmark = pytest.mark.cluster

REQUEST = re.compile(r'\] (GET|POST|PUT|PATCH|DELETE) https?://[^/\s]+([^?\s]+)\??(\S*) ')
"""A request in kubectl's -v=6 log:
`... round_trippers.go:560] GET https://host/path?query 200 OK in 56 milliseconds`."""


REAL = kubectl_binary()
"""The real kubectl, for the changes the tests make (their requests are not the views')."""


@pytest.fixture
def requests(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """From here on, the kubectl the views find on PATH logs each request it sends into the
    returned file."""
    log, folder = tmp_path / "requests.log", tmp_path / "bin"
    folder.mkdir()
    wrapper = folder / "kubectl"
    wrapper.write_text(f'#!/bin/sh\nexec "{REAL}" -v=6 "$@" 2>>"{log}"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("KUBECONFIG", str(sandbox.kubeconfig))
    return log


def sent(log: Path, namespace: str) -> list[tuple[str, str, bool]]:
    """(verb, resource, whether a watch) of every request the views sent for the namespace."""
    found = []
    for verb, path, query in REQUEST.findall(log.read_text() if log.exists() else ""):
        if f"/namespaces/{namespace}/" in path:
            found.append((verb, path.rsplit("/", 1)[1], "watch=1" in query.split("&")))
    return found


def assert_redrawn_every_second() -> float:
    """The view redraws on its half-second clock, not only when an event comes: the median
    gap is at most 0.75 s, and no gap exceeds 2 s (one slipped tick on a loaded machine, where
    a single gap of 1.03 s was seen, is not a stall)."""
    gaps = [b - a for a, b in zip(live.last_drawings, live.last_drawings[1:])]
    assert len(gaps) >= 2, f"the view drew {len(live.last_drawings)} time(s)"
    assert statistics.median(gaps) <= 0.75, f"redraws every {statistics.median(gaps):.2f} s"
    assert max(gaps) <= 2.0, f"a redraw took {max(gaps):.2f} s"
    return max(gaps)


DEPLOYMENT = f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata:
      labels: {{app: web}}
      annotations: {{sandbox.rwk/ready-delay: 100ms}}
    spec:
      containers:
      - name: web
        image: {PODINFO}
        resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}
"""
HPA = """
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 3
  maxReplicas: 5
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
"""


@pytest.mark.cost(35)
def test_watch_hpa_sees_the_hpa_scale_the_deployment_up(
        kubectl: Kubectl, namespace: str, requests: Path, tmp_path: Path, capsys) -> None:
    # One replica under an HPA whose minimum is 3: the controller's first syncs raise it
    # (no metrics needed), and the view must see the count change.
    apply(kubectl, DEPLOYMENT, namespace)
    manifest = tmp_path / "hpa.yaml"
    manifest.write_text(HPA)
    samples = live.watch_hpa(
        "web", namespace, change=f"{REAL} apply -n {namespace} -f {manifest}",
        until=lambda hpa: (hpa.get("status") or {}).get("currentReplicas", 0) >= 3, limit=90)
    current = [replicas for _, _, _, replicas, _ in samples]
    assert min(current) < 3 and current[-1] == 3, f"replicas seen: {live.changes(samples)}"
    assert any(desired == 3 for *_, desired in samples), live.changes(samples)
    assert samples[-1][2] == 50, samples[-1]                           # the target
    gap = assert_redrawn_every_second()
    assert sent(requests, namespace).count(
        ("GET", "horizontalpodautoscalers", True)) == 1, sent(requests, namespace)
    assert [r for r in sent(requests, namespace) if r[1] == "horizontalpodautoscalers"] == [
        ("GET", "horizontalpodautoscalers", True)]
    with capsys.disabled():
        print(f"\n[live] watch_hpa: replicas {live.changes(samples)[0][3]} -> 3 in "
              f"{samples[-1][0]:.1f} s, {len(live.last_drawings)} drawings, longest gap "
              f"{gap:.2f} s, requests {sent(requests, namespace)}")


SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""


def test_watch_namespace_sees_a_pod_leave_its_service_for_one_watch_per_kind(
        kubectl: Kubectl, namespace: str, requests: Path, capsys) -> None:
    apply(kubectl, DEPLOYMENT.replace("replicas: 1", "replicas: 2") + "---" + SERVICE,
          namespace)
    first = live.watch_namespace(namespace, until=lambda view: len(view.ready("web")) == 2,
                                 limit=60)
    victim = first.ready("web")[0]
    # At least four ticks of the view's own loop, so it has drawings to judge its clock by:
    # the pod can leave its Service within a second, and a view over by then drew twice
    # (seen in CI: a wall-clock 2 s counted from before the view had settled its watches ran
    # out on a loaded machine before the view's first tick).
    ticks = itertools.count(1)
    view = live.watch_namespace(
        namespace, selector="app=web", limit=60,
        change=f"{REAL} label pod {victim} -n {namespace} sandbox.rwk/readiness=fail",
        until=lambda view: (next(ticks) >= 4
                            and victim in view.services().get("web", ([], []))[1]))
    assert view.ready("web") != [] and victim not in view.ready("web")
    assert (victim, "not Ready") in [(m.pod, m.what) for m in view.book.timeline]
    assert (victim, "not ready in web") in [(m.pod, m.what) for m in view.book.timeline]
    gap = assert_redrawn_every_second()
    # Two views, each one WATCH of pods and one of EndpointSlices; nothing listed or polled.
    assert sorted(sent(requests, namespace)) == [("GET", "endpointslices", True)] * 2 + [
        ("GET", "pods", True)] * 2, sent(requests, namespace)
    with capsys.disabled():
        print(f"\n[live] watch_namespace: {victim} out of the Service after "
              f"{view.book.timeline[-1].seconds} s, longest gap {gap:.2f} s")


def test_watch_rollout_costs_one_watch_per_kind(kubectl: Kubectl, namespace: str,
                                                requests: Path) -> None:
    # Each new pod Ready 2 s after it starts (not 100 ms): a rollout that short could end
    # between two samples, and the view must be seen with old and new pods at once.
    apply(kubectl, DEPLOYMENT.replace("replicas: 1", "replicas: 2").replace(
        "ready-delay: 100ms", "ready-delay: 2s"), namespace)
    live.watch_namespace(namespace, limit=60,
                         until=lambda view: sum(p.ready for p in view.book.alive()) == 2)
    samples = live.watch_rollout(
        "web", namespace,
        change=f"{REAL} set env deployment/web -n {namespace} STEP=2")
    assert samples[0][1:] == (2, 0, 2, 0), samples[0]                 # before: 2 old Ready
    assert samples[-1][1:] == (0, 2, 0, 2), samples[-1]               # after: 2 new Ready
    assert any(old_pods and new_pods for _, _, _, old_pods, new_pods in samples), samples
    assert_redrawn_every_second()
    rollout = [r for r in sent(requests, namespace) if r[1] != "endpointslices"]
    assert sorted(rollout) == [("GET", "deployments", True), ("GET", "pods", True),
                               ("GET", "pods", True), ("GET", "replicasets", True)], rollout


def test_a_rollout_view_that_runs_out_of_time_says_where_the_rollout_stands(
        kubectl: Kubectl, namespace: str, sandbox: Sandbox,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(sandbox.kubeconfig))
    apply(kubectl, DEPLOYMENT, namespace)
    with pytest.raises(TimeoutError) as raised:
        live.watch_rollout("web", namespace,
                           change=f"{REAL} set env deployment/web -n {namespace} STEP=3",
                           until=lambda deployment: False, limit=3)
    message = str(raised.value)
    assert "did not finish within 3 s" in message, message
    assert "the view last saw: generation 2" in message, message
    assert "the API server now says: generation 2" in message, message
    assert "Progressing=True/" in message, message


def slow_kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """From here on, the kubectl the views find on PATH answers `seconds` late, as a kubectl
    started on a machine busy with other work does."""
    folder = tmp_path / "slow"
    folder.mkdir()
    wrapper = folder / "kubectl"
    wrapper.write_text(f'#!/bin/sh\nsleep {seconds}\nexec "{REAL}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def test_a_view_whose_kubectl_starts_slowly_still_finds_the_deployment(
        kubectl: Kubectl, namespace: str, sandbox: Sandbox, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The CI of stop 37: lesson 08's watch took 2 s of silence from a kubectl that had not
    # yet started for an empty list, and the cell failed with "no deployment api-server".
    # Neither a first view (the server's streaming lists not yet known) nor a later one
    # (known) may guess from silence before kubectl has answered.
    monkeypatch.setenv("KUBECONFIG", str(sandbox.kubeconfig))
    monkeypatch.setattr(live, "_streams", set())
    apply(kubectl, DEPLOYMENT, namespace)
    slow_kubectl(tmp_path, monkeypatch, 3)
    for view in ("first", "later"):
        samples = live.watch_rollout("web", namespace, until=None, limit=1)
        assert samples, f"the {view} view sampled nothing"
        assert live._streams == {str(sandbox.kubeconfig)}, live._streams


def test_a_view_whose_watch_never_answers_says_which(
        namespace: str, sandbox: Sandbox, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(sandbox.kubeconfig))
    monkeypatch.setattr(live, "_streams", {str(sandbox.kubeconfig)})
    monkeypatch.setattr(live, "SETTLE_LIMIT", 2.0)
    slow_kubectl(tmp_path, monkeypatch, 30)
    with pytest.raises(RuntimeError) as raised:
        live.watch_namespace(namespace, limit=1)
    assert str(raised.value) == (f"the API server did not list the current pod, endpointslice "
                                 f"of namespace {namespace} within 2 s"), raised.value
