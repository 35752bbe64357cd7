"""Exercise `resources`: requests and limits on every container, the task's four values
compared as quantities, and running pods that carry them."""

from __future__ import annotations

from decimal import Decimal

from ..model import Criterion, Failure
from ..quantities import parse_quantity, same_quantity
from .common import (APP, check_rolled_out_and_ready, container, deployment, deployment_pods,
                     fail_on)
from ..state import ClusterState

LESSON = "lessons/05-resources.ipynb"
EXPECTED = {("requests", "cpu"): "100m", ("requests", "memory"): "128Mi",
            ("limits", "cpu"): "500m", ("limits", "memory"): "512Mi"}
FIELDS = ("requests", "limits")
RESOURCES = ("cpu", "memory")
# Decimal and binary suffixes students swap: the number is the same, the amount is not.
_SWAPS = {"k": "Ki", "K": "Ki", "M": "Mi", "G": "Gi", "T": "Ti"}


def _resources(item: dict) -> tuple[dict, dict]:
    spec = item.get("resources") or {}
    return spec.get("requests") or {}, spec.get("limits") or {}


def _containers(workload: dict) -> list[tuple[str, dict]]:
    spec = workload["spec"]["template"]["spec"]
    return ([(f"init container {c.get('name')}", c) for c in spec.get("initContainers") or []]
            + [(f"container {c.get('name')}", c) for c in spec.get("containers") or []])


def requests_and_limits(state: ClusterState) -> None:
    problems = []
    for label, item in _containers(deployment(state)):
        requests, limits = _resources(item)
        missing = [f"resources.{field}.{resource}" for field in FIELDS
                   for resource in RESOURCES
                   if resource not in (requests if field == "requests" else limits)]
        defaulted = [resource for resource in RESOURCES
                     if resource in limits and resource not in requests]
        if missing:
            text = f"{label}: {', '.join(missing)} not set"
            if defaulted:
                text += (f" (with a limit but no request, Kubernetes silently sets the "
                         f"request to the limit: {_pairs(limits, defaulted)}, so every pod "
                         "reserves its peak)")
            problems.append(text)
        for resource in RESOURCES:
            if resource in requests and resource in limits and \
                    parse_quantity(requests[resource]) > parse_quantity(limits[resource]):
                problems.append(f"{label}: requests.{resource} {requests[resource]} is above "
                                f"limits.{resource} {limits[resource]}")
    fail_on(problems, f"Deployment {APP}")


def _pairs(values: dict, keys: list[str]) -> str:
    return ", ".join(f"{key} {values[key]}" for key in keys)


def task_values(state: ClusterState) -> None:
    requests, limits = _resources(container(deployment(state)))
    problems = []
    for (field, resource), want in EXPECTED.items():
        found = (requests if field == "requests" else limits).get(resource)
        path = f"resources.{field}.{resource}"
        if found is None:
            problems.append(f"{path} is not set, expected {want}")
        elif not same_quantity(found, want):
            problems.append(f"{path} is {found!r}{_meaning(resource, found, want)}, "
                            f"expected {want}{_meaning(resource, want, found)}")
    fail_on(problems, f"container {APP}")


def _meaning(resource: str, value: str | int | float, other: str | int | float) -> str:
    """What a quantity amounts to, where that explains a mismatch: units, not spelling."""
    amount = parse_quantity(value)
    suffix, other_suffix = (str(v).lstrip("+-0123456789.") for v in (value, other))
    if resource == "cpu":
        text = f" ({_plain(amount)} {'core' if amount == 1 else 'cores'}"
        if other_suffix == "m" and suffix != "m" and str(other)[:-1] == str(value):
            text += ": m means millicores, a thousandth of a core"
        return text + ")"
    if suffix == other_suffix:
        return ""
    text = f" ({_plain(amount)} bytes"
    if suffix == "m":
        text += ": a lower-case m means milli, a thousandth; memory takes Mi"
    elif _SWAPS.get(suffix) == other_suffix:
        text += f": {suffix} is a power of 10, {other_suffix} a power of 2"
    return text + ")"


def _plain(amount: Decimal) -> str:
    """1234567 -> '1,234,567'; 0.1 -> '0.1'."""
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return format(amount.normalize(), "f")


def pods_carry_them(state: ClusterState) -> None:
    workload = deployment(state)
    want_requests, want_limits = _resources(container(workload))
    if not want_requests and not want_limits:
        # Else every pod would "carry" the nothing it asks for, and the criterion pass.
        raise Failure(f"container {APP} of Deployment {APP} sets no resources (neither "
                      "resources.requests nor resources.limits), so its pods carry none of "
                      "the task's; set them first (resources-set)")
    check_rolled_out_and_ready(state)
    stale = []
    for pod in deployment_pods(state, workload):
        item = next((c for c in pod["spec"].get("containers") or [] if c.get("name") == APP),
                    None)
        if item is None:
            stale.append(f"pod {pod['metadata']['name']} has no container {APP}")
            continue
        requests, limits = _resources(item)
        differ = [f"{field}.{resource} {have.get(resource)}"
                  for field, want, have in (("requests", want_requests, requests),
                                            ("limits", want_limits, limits))
                  for resource in want
                  if resource not in have or not same_quantity(have[resource], want[resource])]
        if differ:
            stale.append(f"pod {pod['metadata']['name']} runs with {', '.join(differ)}")
    fail_on(stale, "pods do not carry the Deployment's resources")


CRITERIA = (
    Criterion("resources-set", "Every container of api-server has cpu and memory requests "
              "and limits, each request <= its limit", 2,
              "set both resources.requests and resources.limits for cpu and memory. A request "
              "above its limit is rejected by the API server ('must be less than or equal to "
              "... limit'), so that apply changes nothing: lower the request or raise the "
              f"limit and apply again; see {LESSON}, 'Requests and limits'",
              requests_and_limits),
    Criterion("resources-values", "api-server requests cpu 100m, memory 128Mi; limits cpu "
              "500m, memory 512Mi", 2, "values compare as quantities (0.1 = 100m), but units "
              "matter: 128M is 128,000,000 bytes and 128Mi is 134,217,728; see "
              f"{LESSON}, 'Quantities and units'", task_values),
    Criterion("resources-rolled-out", "The running api-server pods carry these resources "
              "(rolled out)", 1, "`kubectl rollout status deployment/api-server -n NS`; a "
              "pod Pending with FailedScheduling asks for more than any node offers "
              f"(`kubectl describe pod`); see {LESSON}, 'Scheduling by requests'",
              pods_carry_them),
)
