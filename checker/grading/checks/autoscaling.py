"""Exercise `autoscaling`: HPA api-server-hpa on Deployment api-server, 2 to 20 replicas on
cpu 70% and memory 80% utilization, requests on the target, metrics flowing."""

from __future__ import annotations

from ..model import Criterion, Failure
from .common import APP, condition, deployment_pods, fail_on, listing, names, near, require
from ..state import ClusterState

LESSON = "lessons/07-autoscaling.ipynb"
NAME = "api-server-hpa"
MIN_REPLICAS, MAX_REPLICAS = 2, 20
UTILIZATION = {"cpu": 70, "memory": 80}
TARGET_API = "apps/v1"


def _hpa(state: ClusterState) -> dict:
    return require(state, "horizontalpodautoscaler", NAME)


def bounds(state: ClusterState) -> None:
    spec = _hpa(state)["spec"]
    problems = []
    low = spec.get("minReplicas")
    if low != MIN_REPLICAS:
        # The API server writes the default 1 into a spec that leaves the field out.
        shown = "1 (the default when not set)" if low in (None, 1) else repr(low)
        problems.append(f"spec.minReplicas is {shown}, expected {MIN_REPLICAS}")
    if spec.get("maxReplicas") != MAX_REPLICAS:
        problems.append(f"spec.maxReplicas is {spec.get('maxReplicas')!r}, expected "
                        f"{MAX_REPLICAS}")
    fail_on(problems, f"HPA {NAME}")


def _source(metric: dict) -> dict:
    """The resource part of a Resource or ContainerResource metric (empty for others)."""
    if metric.get("type") == "Resource":
        return metric.get("resource") or {}
    if metric.get("type") == "ContainerResource":
        source = metric.get("containerResource") or {}
        return source if source.get("container") == APP else {}
    return {}


def _describe(metric: dict) -> str:
    source = _source(metric)
    if not source:
        return f"{metric.get('type')} metric"
    target = source.get("target") or {}
    kind = target.get("type")
    value = (f"{target.get('averageUtilization')}%" if kind == "Utilization"
             else target.get("averageValue") or target.get("value"))
    return f"{source.get('name')} {kind} {value}"


def metrics(state: ClusterState) -> None:
    spec = _hpa(state)["spec"]
    listed = spec.get("metrics") or []
    problems = []
    for resource, percent in UTILIZATION.items():
        entries = [(i, m) for i, m in enumerate(listed) if _source(m).get("name") == resource]
        if not entries:
            problems.append(f"no {resource} metric (spec.metrics has: "
                            f"{listing(_describe(m) for m in listed)})")
            continue
        index, metric = entries[0]
        target = _source(metric).get("target") or {}
        path = f"spec.metrics[{index}] ({resource}) target"
        kind = target.get("type")
        if kind in ("AverageValue", "Value"):
            amount = target.get("averageValue") if kind == "AverageValue" else target.get(
                "value")
            field = "averageValue" if kind == "AverageValue" else "value"
            problems.append(f"{path} is type {kind} with {field} {amount}: that is an "
                            "absolute amount; the task asks type Utilization with "
                            f"averageUtilization {percent} (a percentage of the pods' "
                            "requests)")
        elif kind != "Utilization":
            problems.append(f"{path}.type is {kind!r}, expected 'Utilization'")
        elif target.get("averageUtilization") != percent:
            problems.append(f"{path}.averageUtilization is "
                            f"{target.get('averageUtilization')!r}, expected {percent}")
    fail_on(problems, f"HPA {NAME}")


def _reference(state: ClusterState) -> dict:
    return _hpa(state)["spec"].get("scaleTargetRef") or {}


def target(state: ClusterState) -> None:
    hpa = _hpa(state)
    ref = _reference(state)
    kind, name, api = ref.get("kind"), ref.get("name"), ref.get("apiVersion")
    problems = []
    if kind != "Deployment":
        problems.append(f"spec.scaleTargetRef.kind is {kind!r}, expected 'Deployment'")
    if api != TARGET_API:
        problems.append(f"spec.scaleTargetRef.apiVersion is {api!r}, expected {TARGET_API!r}")
    if name != APP:
        problems.append(f"spec.scaleTargetRef.name is {name!r}, expected {APP!r}")
    if kind == "Deployment" and name and state.get("deployment", name) is None:
        problems.append(f"it names Deployment {name!r}, which does not exist in namespace "
                        f"{state.namespace}{near(name, names(state, 'deployment'))}")
    able = condition(hpa, "AbleToScale")
    said = (f" (the HPA says: {able.get('message')})"
            if able.get("status") == "False" and able.get("message") else "")
    fail_on(problems, f"HPA {NAME}", said)


def _target_deployment(state: ClusterState) -> dict:
    ref = _reference(state)
    name = ref.get("name") if ref.get("kind") == "Deployment" else None
    found = state.get("deployment", name) if name else None
    if found is None:
        raise Failure(f"HPA {NAME} has no existing Deployment as its target, so there are no "
                      "containers to check (see the hpa-target criterion)")
    return found


def target_requests(state: ClusterState) -> str | None:
    workload = _target_deployment(state)
    name = workload["metadata"]["name"]
    pods = deployment_pods(state, workload)
    problems, defaulted = [], []
    for item in workload["spec"]["template"]["spec"].get("containers") or []:
        requests = (item.get("resources") or {}).get("requests") or {}
        for resource in UTILIZATION:
            if resource in requests:
                continue
            running = [(c.get("resources") or {}).get("requests") or {} for pod in pods
                       for c in pod["spec"].get("containers") or []
                       if c.get("name") == item.get("name")]
            if running and all(resource in r for r in running):
                defaulted.append(f"{item.get('name')} {resource}")
                continue
            problems.append(f"container {item.get('name')} has no resources.requests."
                            f"{resource}")
    fail_on(problems, f"Deployment {name}", ": the HPA measures utilization as usage divided "
            "by the request, so without a request it cannot compute it (ScalingActive turns "
            "False)")
    if defaulted:
        return (f"the pods get requests ({listing(defaulted)}) from a limit or the "
                "namespace's LimitRange, not from the Deployment; state them in its spec")
    return None


def scaling_active(state: ClusterState) -> None:
    hpa = _hpa(state)
    active = condition(hpa, "ScalingActive")
    if active.get("status") == "True":
        return None
    able = condition(hpa, "AbleToScale")
    if not active and not able:
        raise Failure(f"HPA {NAME} has reported no status.conditions yet: the controller "
                      "looks every 15 seconds; wait a little and check again")
    said = active or able
    message = (f"HPA {NAME} reports {said.get('type')}={said.get('status')} "
               f"({said.get('reason', '?')}): {said.get('message', '')}")
    text = said.get("message") or ""
    if "missing request for" in text:
        message += (" - utilization is usage divided by the request, so every container of "
                    "the target must request cpu and memory")
    elif "no metrics returned" in text or "unable to fetch metrics" in text \
            or "unable to get metrics" in text:
        message += (" - metrics-server has no figures for these pods yet (new pods take "
                    "about a minute); `kubectl top pods` shows what it has")
    raise Failure(message)


def replicas_in_bounds(state: ClusterState) -> None:
    hpa = _hpa(state)
    spec, status = hpa["spec"], hpa.get("status") or {}
    low, high = spec.get("minReplicas") or 1, spec.get("maxReplicas")
    current = status.get("currentReplicas")
    able = condition(hpa, "AbleToScale")
    if current is None and able.get("status") == "True":
        current = 0     # the API leaves a zero count out
    if current is None:
        said = f" (the HPA says: {able.get('message')})" if able.get("message") else ""
        raise Failure(f"HPA {NAME} has not read its target's replica count yet "
                      f"(status.currentReplicas is not set){said}")
    if not low <= current <= high:
        why = (": a target scaled to 0 turns the HPA off (ScalingDisabled)"
               if current == 0 else "")
        raise Failure(f"HPA {NAME}: status.currentReplicas is {current}, outside "
                      f"minReplicas {low} .. maxReplicas {high}{why}")


CRITERIA = (
    Criterion("hpa-bounds", "HPA api-server-hpa exists with minReplicas 2 and maxReplicas 20",
              1, f"apiVersion autoscaling/v2, spec.minReplicas 2, spec.maxReplicas 20; see "
              f"{LESSON}, 'autoscaling/v2'", bounds),
    Criterion("hpa-metrics", "It targets cpu averageUtilization 70 and memory "
              "averageUtilization 80", 2, "each a Resource metric with target "
              "{type: Utilization, averageUtilization: N}; averageValue is an absolute "
              f"amount, not a percentage; see {LESSON}, 'autoscaling/v2'", metrics),
    Criterion("hpa-target", "Its scaleTargetRef is Deployment api-server, which exists", 2,
              "scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api-server}; "
              f"`kubectl describe hpa {NAME} -n NS` shows whether it finds it; see "
              f"{LESSON}, 'autoscaling/v2'", target),
    Criterion("hpa-target-requests", "The target's containers request cpu and memory", 2,
              "utilization is a percentage of the request: a container without "
              "resources.requests.cpu (or memory) gives the HPA nothing to divide by; set "
              f"requests on every container; see {LESSON}, 'Why utilization needs requests'",
              target_requests),
    Criterion("hpa-scaling-active", "The HPA reads its metrics (ScalingActive=True)", 2,
              "ScalingActive turns True once metrics-server has usage for every pod and "
              "every container has requests (utilization needs requests); it takes about a "
              f"minute after the pods start; `kubectl describe hpa {NAME} -n NS`; see "
              f"{LESSON}, 'Why utilization needs requests'", scaling_active),
    Criterion("hpa-replicas-in-bounds", "The current replica count lies within 2..20", 1,
              f"the HPA moves replicas into its bounds on its next sync (15 s); see {LESSON}, "
              "'Watching the HPA scale'", replicas_in_bounds),
)
