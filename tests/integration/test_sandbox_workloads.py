"""What the sandbox must do for the course: real controllers over simulated kubelets."""

from __future__ import annotations

import json
import threading
import time

import pytest
from kubernetes import client, watch

from ..workloads import cpu_autoscaler, deployment, postgres
from .conftest import apply, get, rolled_out, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.cost(13)]   # about 130 s for the module


def ready_endpoints(kubectl, namespace: str, service: str) -> int:
    slices = get(kubectl, namespace, "endpointslices",
                 "-l", f"kubernetes.io/service-name={service}")
    return sum(1 for s in slices["items"] for e in s.get("endpoints") or []
               if (e.get("conditions") or {}).get("ready"))


def test_deployment_rolls_out_with_three_ready_endpoints(kubectl, namespace):
    apply(kubectl, deployment(), namespace)
    wait_for(lambda: rolled_out(kubectl, namespace), 60, "api-server to roll out")
    pods = get(kubectl, namespace, "pods", "-l", "app=api-server")["items"]
    assert len(pods) == 3
    assert all(p["status"]["phase"] == "Running" for p in pods)
    assert wait_for(lambda: ready_endpoints(kubectl, namespace, "api-server") == 3, 30,
                    "3 ready endpoints behind the Service")


def test_pods_become_ready_after_a_delay(kubectl, namespace):
    """A pod is Running first and Ready a moment later, so a rollout can be watched."""
    apply(kubectl, deployment(replicas=1), namespace)

    def running_pod():
        items = get(kubectl, namespace, "pods", "-l", "app=api-server")["items"]
        return items and items[0]["status"].get("phase") == "Running" and items[0]

    pod = wait_for(running_pod, 30, "a Running pod")
    ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
    assert ready["Ready"] == "False", "the pod was Ready as soon as it ran: no start-up delay"
    wait_for(lambda: rolled_out(kubectl, namespace), 30, "the pod to turn Ready")


def _surge(apps: client.AppsV1Api, namespace: str, listed: client.V1ReplicaSetList,
           done: threading.Event, seen: list[int]) -> None:
    """Append the pods the ReplicaSets are told to keep in all (the sum of their spec
    replicas), after each change from `listed` on, until `done`."""
    wanted = {rs.metadata.name: rs.spec.replicas or 0 for rs in listed.items}
    stream = watch.Watch()
    for event in stream.stream(apps.list_namespaced_replica_set, namespace,
                               resource_version=listed.metadata.resource_version,
                               timeout_seconds=90):
        replica_set = event["object"]
        wanted[replica_set.metadata.name] = replica_set.spec.replicas or 0
        seen.append(sum(wanted.values()))
        if done.is_set():
            stream.stop()


def test_rolling_update_never_drops_below_three_available(kubectl, api, namespace):
    apply(kubectl, deployment(), namespace)
    wait_for(lambda: rolled_out(kubectl, namespace), 60, "the first rollout")
    apps = client.AppsV1Api(api)
    start = apps.read_namespaced_deployment("api-server", namespace).metadata.resource_version
    wanted: list[int] = []
    done = threading.Event()
    listed = apps.list_namespaced_replica_set(namespace)
    surge = threading.Thread(target=_surge, args=(apps, namespace, listed, done, wanted),
                             daemon=True)
    surge.start()

    result = kubectl("-n", namespace, "set", "image", "deployment/api-server",
                     "api-server=ghcr.io/stefanprodan/podinfo:6.7.1")
    assert result.ok, result.output

    observed = []
    stream = watch.Watch()
    for event in stream.stream(apps.list_namespaced_deployment, namespace,
                               resource_version=start, timeout_seconds=90):
        d = event["object"]
        s = d.status
        observed.append((s.available_replicas, s.updated_replicas, s.replicas))
        assert (s.available_replicas or 0) >= 3, f"availability dropped: {observed}"
        if (s.observed_generation >= d.metadata.generation and s.updated_replicas == 3
                and s.available_replicas == 3 and s.replicas == 3):
            stream.stop()
    assert observed and observed[-1] == (3, 3, 3), f"rollout did not finish: {observed}"
    # The old ReplicaSet was scaled to 0 before the Deployment's final status: once its
    # watch has caught up, the ReplicaSets keep 3 in all.
    wait_for(lambda: wanted and wanted[-1] == 3, 30, "the ReplicaSets' watch to catch up")
    done.set()
    # maxSurge 1: the ReplicaSets were told to keep a fourth pod, and never a fifth. (The
    # Deployment's status.replicas sums the ReplicaSets' status, which may still count a
    # pod being removed while the next one is counted: 5 was seen under load.)
    assert max(wanted) == 4, wanted


def test_rollout_undo_restores_the_previous_image(kubectl, namespace):
    apply(kubectl, deployment(), namespace)
    wait_for(lambda: rolled_out(kubectl, namespace), 60, "the first rollout")
    assert kubectl("-n", namespace, "set", "image", "deployment/api-server",
                   "api-server=ghcr.io/stefanprodan/podinfo:6.7.1").ok
    assert kubectl("-n", namespace, "rollout", "status", "deployment/api-server",
                   "--timeout=60s", timeout=70).ok
    undo = kubectl("-n", namespace, "rollout", "undo", "deployment/api-server")
    assert undo.ok, undo.output
    assert kubectl("-n", namespace, "rollout", "status", "deployment/api-server",
                   "--timeout=60s", timeout=70).ok
    image = get(kubectl, namespace, "deployment", "api-server")[
        "spec"]["template"]["spec"]["containers"][0]["image"]
    assert image.endswith(":6.7.0")
    replica_sets = get(kubectl, namespace, "replicasets", "-l", "app=api-server")["items"]
    images = {rs["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
              for rs in replica_sets}
    assert images == {"6.7.0", "6.7.1"}


def test_claim_in_standard_becomes_bound(kubectl, namespace):
    apply(kubectl, """
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
""", namespace)
    claim = wait_for(lambda: (c := get(kubectl, namespace, "pvc", "data"))["status"].get(
        "phase") == "Bound" and c, 30, "the claim to be Bound")
    assert claim["spec"]["storageClassName"] == "standard", "default class is not standard"
    pv = json.loads(kubectl("get", "pv", claim["spec"]["volumeName"], "-o", "json").stdout)
    assert pv["spec"]["capacity"]["storage"] == "1Gi"
    assert pv["spec"]["claimRef"]["name"] == "data"


def test_statefulset_gets_ready_pods_and_bound_claims(kubectl, namespace):
    apply(kubectl, postgres(replicas=2), namespace)
    wait_for(lambda: get(kubectl, namespace, "statefulset", "postgres")["status"].get(
        "readyReplicas") == 2, 60, "2 ready StatefulSet pods")
    claims = get(kubectl, namespace, "pvc")["items"]
    assert sorted(c["metadata"]["name"] for c in claims) == ["data-postgres-0",
                                                             "data-postgres-1"]
    assert all(c["status"]["phase"] == "Bound" for c in claims)


def test_hpa_reads_metrics_and_scales_up_when_usage_rises(kubectl, namespace):
    apply(kubectl, deployment(), namespace)
    apply(kubectl, cpu_autoscaler(), namespace)
    wait_for(lambda: rolled_out(kubectl, namespace), 60, "api-server to roll out")

    def condition(hpa, kind):
        return next((c for c in hpa.get("status", {}).get("conditions") or []
                     if c["type"] == kind), {})

    hpa = wait_for(lambda: (h := get(kubectl, namespace, "hpa", "api-server-hpa")) and
                   condition(h, "ScalingActive").get("status") == "True" and h, 120,
                   "ScalingActive=True (metrics flowing)")
    before = hpa["status"]["currentReplicas"]
    # The documented way to raise simulated load: kwok's usage annotation on the pods.
    result = kubectl("-n", namespace, "annotate", "pods", "-l", "app=api-server",
                     "kwok.x-k8s.io/usage-cpu=400m", "--overwrite")
    assert result.ok, result.output
    after = wait_for(lambda: (h := get(kubectl, namespace, "hpa", "api-server-hpa"))[
        "status"].get("desiredReplicas", 0) > before and h, 120, "the HPA to want more pods")
    assert after["status"]["desiredReplicas"] > before


def test_eviction_refused_when_budget_allows_no_disruption(kubectl, api, namespace):
    apply(kubectl, deployment(), namespace)
    apply(kubectl, """
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api-server-pdb}
spec:
  minAvailable: 3
  selector: {matchLabels: {app: api-server}}
""", namespace)
    wait_for(lambda: rolled_out(kubectl, namespace), 60, "api-server to roll out")
    wait_for(lambda: get(kubectl, namespace, "pdb", "api-server-pdb")["status"].get(
        "currentHealthy") == 3, 30, "the budget to count 3 healthy pods")
    pod = get(kubectl, namespace, "pods", "-l", "app=api-server")["items"][0]["metadata"]["name"]
    core = client.CoreV1Api(api)
    eviction = client.V1Eviction(metadata=client.V1ObjectMeta(name=pod, namespace=namespace))
    with pytest.raises(client.ApiException) as refused:
        core.create_namespaced_pod_eviction(pod, namespace, eviction)
    assert refused.value.status == 429
    assert "disruption budget" in refused.value.body
    # With room in the budget the same eviction goes through.
    assert kubectl("-n", namespace, "patch", "pdb", "api-server-pdb", "--type=merge",
                   "-p", '{"spec":{"minAvailable":2}}').ok
    wait_for(lambda: get(kubectl, namespace, "pdb", "api-server-pdb")["status"].get(
        "disruptionsAllowed") == 1, 30, "the budget to allow one disruption")
    core.create_namespaced_pod_eviction(pod, namespace, eviction)


def test_readiness_switch_removes_pod_from_endpoints(kubectl, namespace):
    apply(kubectl, deployment(), namespace)
    wait_for(lambda: ready_endpoints(kubectl, namespace, "api-server") == 3, 60,
             "3 ready endpoints")
    pod = get(kubectl, namespace, "pods", "-l", "app=api-server")["items"][0]["metadata"]["name"]
    assert kubectl("-n", namespace, "label", "pod", pod, "sandbox.rwk/readiness=fail").ok
    wait_for(lambda: ready_endpoints(kubectl, namespace, "api-server") == 2, 30,
             "the unready pod to leave the endpoints")
    assert kubectl("-n", namespace, "label", "pod", pod, "sandbox.rwk/readiness-").ok
    wait_for(lambda: ready_endpoints(kubectl, namespace, "api-server") == 3, 30,
             "the pod to come back")


def test_crash_switch_makes_a_restart_loop(kubectl, namespace):
    apply(kubectl, deployment(replicas=1), namespace)
    wait_for(lambda: rolled_out(kubectl, namespace), 60, "api-server to roll out")
    pod = get(kubectl, namespace, "pods", "-l", "app=api-server")["items"][0]["metadata"]["name"]
    assert kubectl("-n", namespace, "annotate", "pod", pod,
                   "sandbox.rwk/crash-reason=OOMKilled").ok
    assert kubectl("-n", namespace, "label", "pod", pod, "sandbox.rwk/crash=true").ok

    def restarted_twice():
        status = get(kubectl, namespace, "pod", pod)["status"]["containerStatuses"][0]
        return status["restartCount"] >= 2 and status

    status = wait_for(restarted_twice, 60, "two restarts")
    assert status["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert status["lastState"]["terminated"]["exitCode"] == 137


GATEWAY = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web}
spec:
  gatewayClassName: %(class)s
  listeners:
  - {name: http, protocol: HTTP, port: 80}
  - {name: https, protocol: HTTPS, port: 443, hostname: api.example.com,
     tls: {mode: Terminate, certificateRefs: [{name: tls-cert}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api}
spec:
  parentRefs: [{name: web, sectionName: https}]
  hostnames: [api.example.com]
  rules:
  - backendRefs: [{name: api-server, port: 80}]
"""


def _conditions(item: dict) -> dict[str, tuple[str, int]]:
    """type -> (status, observedGeneration) of an object's status conditions, or of a
    route's parent status (whose conditions are its own)."""
    found = item["conditions"] if "parentRef" in item else (
        (item.get("status") or {}).get("conditions") or [])
    return {c["type"]: (c["status"], c.get("observedGeneration")) for c in found}


def test_the_gateway_api_is_served_and_its_class_accepted(kubectl, sandbox):
    """`rwk up` installs the Gateway API's CRDs and the course's GatewayClass, which the
    sandbox accepts as a controller would; `rwk status` says so."""
    (component,) = [c for c in sandbox.status().components if c.name == "Gateway API"]
    assert component.healthy, component.detail
    assert component.detail == "GatewayClass rwk accepted by rwk.example/sandbox"
    found = json.loads(kubectl("get", "gatewayclass", "rwk", "-o", "json").stdout)
    assert found["spec"]["controllerName"] == "rwk.example/sandbox"
    assert _conditions(found)["Accepted"] == ("True", found["metadata"]["generation"])
    versions = json.loads(kubectl("get", "crd", "httproutes.gateway.networking.k8s.io",
                                  "-o", "json").stdout)["metadata"]["annotations"]
    assert versions["gateway.networking.k8s.io/channel"] == "standard"


def test_a_gateway_and_its_route_get_the_status_a_controller_writes(kubectl, namespace):
    apply(kubectl, GATEWAY % {"class": "rwk"}, namespace)

    def programmed():
        gateway = get(kubectl, namespace, "gateway", "web")
        return _conditions(gateway).get("Programmed") == ("True", 1) and gateway

    gateway = wait_for(programmed, 30, "the Gateway to be Programmed")
    assert _conditions(gateway)["Accepted"] == ("True", 1)

    def accepted(generation: int):
        route = get(kubectl, namespace, "httproute", "api")
        parents = (route.get("status") or {}).get("parents") or []
        return (parents and all(_conditions(p).get("Accepted") == ("True", generation)
                                for p in parents) and route)

    route = wait_for(lambda: accepted(1), 30, "the HTTPRoute to be Accepted")
    (parent,) = route["status"]["parents"]
    assert parent["parentRef"] == {"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                   "namespace": namespace, "name": "web", "sectionName": "https"}
    assert parent["controllerName"] == "rwk.example/sandbox"
    assert _conditions(parent)["ResolvedRefs"] == ("True", 1)
    # A change is a new generation, and its status is written again, for every parent.
    patched = kubectl("patch", "httproute", "api", "-n", namespace, "--type=merge", "-p",
                      json.dumps({"spec": {"parentRefs": [{"name": "web", "sectionName": "http"},
                                                          {"name": "web", "sectionName": "https"}]}}))
    assert patched.ok, patched.output
    route = wait_for(lambda: accepted(2), 30, "the changed HTTPRoute to be Accepted again")
    assert [p["parentRef"]["sectionName"] for p in route["status"]["parents"]] == ["http", "https"]


def test_a_gateway_of_another_class_gets_no_status(kubectl, namespace):
    """Only the course's class is the sandbox's: another class's Gateway stays as a
    cluster without its controller leaves it."""
    apply(kubectl, GATEWAY % {"class": "someone-else"}, namespace)
    time.sleep(3)     # the sandbox's Stages act within a second
    gateway = get(kubectl, namespace, "gateway", "web")
    assert "Programmed" not in _conditions(gateway) or _conditions(gateway)["Programmed"][0] != "True"
