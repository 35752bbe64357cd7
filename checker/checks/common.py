"""Reads and facts several topics share: the app's Deployment, its container, rollout."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator

from ..model import Failure
from .state import ClusterState

APP = "api-server"
"""The course's app: Deployment, container and Service all carry this name."""


def near(name: str, candidates: Iterable[str]) -> str:
    """' (did you mean X?)' when a candidate looks like a misspelling of `name`."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (found {close[0]!r}: misspelt?)" if close else ""


def listing(names: Iterable[str]) -> str:
    names = sorted(names)
    return ", ".join(names) if names else "none"


def deployment(state: ClusterState, name: str = APP) -> dict:
    """The Deployment `name`; a Failure naming what exists instead."""
    found = state.get("deployment", name)
    if found is None:
        others = [d["metadata"]["name"] for d in state.list("deployment")]
        raise Failure(f"no Deployment {name!r} in namespace {state.namespace!r}"
                      f"{near(name, others)}; Deployments there: {listing(others)}")
    return found


def container(workload: dict, name: str = APP) -> dict:
    """The container `name` of a workload's pod template."""
    containers = workload["spec"]["template"]["spec"].get("containers") or []
    for item in containers:
        if item.get("name") == name:
            return item
    kind = workload.get("kind", "Deployment")
    raise Failure(f"{kind} {workload['metadata']['name']} has no container named {name!r}; "
                  f"its containers: {listing(c.get('name', '?') for c in containers)}")


def rollout_problem(workload: dict) -> str:
    """Empty when the Deployment is rolled out (EXERCISES.md's definition); else why not."""
    spec, status = workload["spec"], workload.get("status") or {}
    want = spec.get("replicas", 1)
    generation = workload["metadata"].get("generation", 0)
    observed = status.get("observedGeneration", 0)
    counts = {key: status.get(f"{key}Replicas", 0) or 0 for key in ("updated", "ready", "available")}
    if observed >= generation and all(value == want for value in counts.values()):
        return ""
    parts = [f"{key} {value}/{want}" for key, value in counts.items()]
    if observed < generation:
        parts.append(f"the controller has not seen the latest change yet "
                     f"(observedGeneration {observed} < generation {generation})")
    return ", ".join(parts)


def check_rolled_out(state: ClusterState, name: str = APP) -> str | None:
    """Criterion body: the Deployment is rolled out."""
    problem = rollout_problem(deployment(state, name))
    if problem:
        raise Failure(f"Deployment {name} is not rolled out: {problem}")
    return None


def pod_templates(state: ClusterState) -> Iterator[tuple[str, str, dict]]:
    """(kind, name, pod spec) of every workload and bare pod in the namespace."""
    for kind in ("deployment", "statefulset", "daemonset", "job"):
        for item in state.list(kind):
            yield item.get("kind", kind.title()), item["metadata"]["name"], \
                item["spec"]["template"]["spec"]
    for item in state.list("cronjob"):
        yield "CronJob", item["metadata"]["name"], \
            item["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    for pod in state.list("pod"):
        if not pod["metadata"].get("ownerReferences"):
            yield "Pod", pod["metadata"]["name"], pod["spec"]


def all_containers(spec: dict) -> Iterator[dict]:
    yield from spec.get("initContainers") or []
    yield from spec.get("containers") or []
