"""The budgets: `small` holds every exercise's reference solution at once, in one namespace,
beside the `namespaces` exercise's own quota; the sizes grow; the objects are well formed.

The demand is added up from solutions/manifests/*.yaml as the API would count it: a
container without resources gets the LimitRange's defaults, a Deployment without `replicas`
runs its HPA's minReplicas, and a rolling update adds its surge pod."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from checker.classroom.budget import BUDGETS, DEFAULT_LIMIT, DEFAULT_REQUEST, budget_objects
from checker.gradebook.model import Student
from checker.grading.quantities import parse_quantity as q

SOLUTIONS = Path(__file__).resolve().parents[3] / "solutions" / "manifests"
RESOURCES = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory")


def documents() -> dict[str, list[dict]]:
    return {path.stem: [d for d in yaml.safe_load_all(path.read_text()) if d]
            for path in sorted(SOLUTIONS.glob("*.yaml"))}


def container_demand(container: dict) -> dict[str, Decimal]:
    resources = container.get("resources") or {}
    limits = {**DEFAULT_LIMIT, **(resources.get("limits") or {})}
    # The API defaults requests to the limits a container sets; else the LimitRange's.
    requests = {**DEFAULT_REQUEST, **(resources.get("limits") or {}),
                **(resources.get("requests") or {})}
    return {"requests.cpu": q(requests["cpu"]), "requests.memory": q(requests["memory"]),
            "limits.cpu": q(limits["cpu"]), "limits.memory": q(limits["memory"])}


def pods_of(workload: dict, hpa_min: dict[str, int]) -> int:
    """The pods a workload runs at most while it rolls out: replicas (or the HPA's minimum)
    plus the surge."""
    spec = workload["spec"]
    replicas = spec.get("replicas", hpa_min.get(workload["metadata"]["name"], 1))
    if workload["kind"] == "StatefulSet":
        return replicas
    surge = ((spec.get("strategy") or {}).get("rollingUpdate") or {}).get("maxSurge", "25%")
    if isinstance(surge, str) and surge.endswith("%"):
        surge = math.ceil(replicas * int(surge[:-1]) / 100)
    return replicas + int(surge)


def peak_demand() -> dict[str, Decimal]:
    """The most the references ever hold at once in one namespace: each workload (by kind
    and name) at its largest over all references; claims, Services, ConfigMaps, Secrets."""
    workloads: dict[tuple[str, str], dict[str, Decimal]] = {}
    claims: dict[str, Decimal] = {}
    objects: dict[str, set[str]] = {"services": set(), "configmaps": {"kube-root-ca.crt"},
                                    "secrets": {"db-credentials", "tls-cert"}}
    for docs in documents().values():
        hpa_min = {d["spec"]["scaleTargetRef"]["name"]: d["spec"]["minReplicas"]
                   for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
        for doc in docs:
            kind, name = doc["kind"], doc["metadata"]["name"]
            if kind in ("Service", "ConfigMap", "Secret"):
                objects[kind.lower() + "s"].add(name)
            if kind not in ("Deployment", "StatefulSet"):
                continue
            pods = pods_of(doc, hpa_min)
            demand = {"pods": Decimal(pods)}
            for container in doc["spec"]["template"]["spec"]["containers"]:
                for key, value in container_demand(container).items():
                    demand[key] = demand.get(key, Decimal(0)) + value * pods
            current = workloads.setdefault((kind, name), demand)
            for key, value in demand.items():
                current[key] = max(current[key], value)
            for template in doc["spec"].get("volumeClaimTemplates") or []:
                size = q(template["spec"]["resources"]["requests"]["storage"])
                claims[f"{template['metadata']['name']}-{name}"] = size
    total = {key: sum((w[key] for w in workloads.values()), Decimal(0))
             for key in ("pods", *RESOURCES)}
    total["persistentvolumeclaims"] = Decimal(len(claims))
    total["requests.storage"] = sum(claims.values(), Decimal(0))
    total.update({kind: Decimal(len(names)) for kind, names in objects.items()})
    return total


def test_the_demand_is_what_the_references_hold():
    demand = peak_demand()
    # api-server 3 + 1 surge, frontend 2 + 1 surge, postgres 1, api-server-canary 1 + 1 surge.
    assert demand["pods"] == 10
    assert demand["requests.cpu"] == q("1050m") and demand["limits.memory"] == q("4.75Gi")
    assert demand["persistentvolumeclaims"] == 1 and demand["requests.storage"] == q("1Gi")


def test_small_holds_every_reference_at_once_with_room_for_the_hpa():
    hard = {key: q(value) for key, value in BUDGETS["small"].quota().items()}
    demand = peak_demand()
    for key, value in demand.items():
        assert value <= hard[key], f"{key}: the references need {value}, small has {hard[key]}"
    # The HPA may grow api-server (100m/128Mi, 500m/512Mi) to 14 pods within small.
    extra = 14 - 4
    assert demand["requests.cpu"] + extra * q("100m") <= hard["requests.cpu"]
    assert demand["limits.cpu"] + extra * q("500m") <= hard["limits.cpu"]
    assert demand["pods"] + extra <= hard["pods"]


def test_medium_lets_the_capstone_hpa_reach_its_maximum():
    hard = {key: q(value) for key, value in BUDGETS["medium"].quota().items()}
    demand = peak_demand()
    extra = 20 + 1 - 4   # maxReplicas and a surge pod, where the peak counted 4
    assert demand["pods"] + extra <= hard["pods"]
    assert demand["limits.cpu"] + extra * q("500m") <= hard["limits.cpu"]
    assert demand["limits.memory"] + extra * q("512Mi") <= hard["limits.memory"]


def test_the_namespaces_exercises_own_quota_also_holds_the_references():
    docs = documents()["namespaces"]
    own = next(d for d in docs if d["kind"] == "ResourceQuota")["spec"]["hard"]
    demand = peak_demand()
    for key, value in own.items():
        assert demand[key] <= q(value), key


def test_every_container_fits_the_per_container_maximum():
    small = BUDGETS["small"]
    for name, docs in documents().items():
        for doc in docs:
            if doc["kind"] not in ("Deployment", "StatefulSet"):
                continue
            for container in doc["spec"]["template"]["spec"]["containers"]:
                demand = container_demand(container)
                assert demand["limits.cpu"] <= q(small.container_cpu), name
                assert demand["limits.memory"] <= q(small.container_memory), name
            for template in doc["spec"].get("volumeClaimTemplates") or []:
                size = template["spec"]["resources"]["requests"]["storage"]
                assert q(size) <= q(small.claim_storage), name


def test_the_defaults_equal_the_namespaces_exercises_limitrange():
    docs = documents()["namespaces"]
    theirs = next(d for d in docs if d["kind"] == "LimitRange")["spec"]["limits"][0]
    assert theirs["default"] == DEFAULT_LIMIT and theirs["defaultRequest"] == DEFAULT_REQUEST


@pytest.mark.parametrize("smaller, larger", [("small", "medium"), ("medium", "large")])
def test_sizes_grow(smaller, larger):
    a, b = BUDGETS[smaller].quota(), BUDGETS[larger].quota()
    assert a.keys() == b.keys()
    assert all(q(a[key]) < q(b[key]) for key in a)


def test_the_objects_are_labelled_and_named():
    student = Student("ann", "student-ann")
    quota, limits = budget_objects(student, "small")
    assert (quota["kind"], quota["metadata"]["name"]) == ("ResourceQuota", "classroom-budget")
    assert (limits["kind"], limits["metadata"]["name"]) == ("LimitRange", "classroom-limits")
    for obj in (quota, limits):
        assert obj["metadata"]["namespace"] == "student-ann"
        assert obj["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "rwk-classroom",
                                             "rwk.course/student": "student-ann"}
    assert set(quota["spec"]["hard"]) >= set(RESOURCES) | {"pods"}
