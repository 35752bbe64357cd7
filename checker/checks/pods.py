"""The live pods of a Deployment, and why a rollout or a pod is not where it should be.

The messages quote what the cluster itself says (the scheduler's FailedScheduling, the
ReplicaSet's FailedCreate, a container's waiting reason), because that is what a student
would find with `kubectl describe`, and it names the actual cause.
"""

from __future__ import annotations

from ..model import Failure
from .common import APP, deployment, rollout_problem
from .state import ClusterState

SHOWN = 3
"""How many pods a message describes before it says 'and N more'."""


def _owned_by(item: dict, uids: set[str]) -> bool:
    return any(ref.get("uid") in uids for ref in item["metadata"].get("ownerReferences") or [])


def replica_sets(state: ClusterState, workload: dict) -> list[dict]:
    """The ReplicaSets a Deployment owns (current and old revisions)."""
    uid = workload["metadata"].get("uid")
    return [rs for rs in state.list("replicaset") if _owned_by(rs, {uid})]


def deployment_pods(state: ClusterState, workload: dict) -> list[dict]:
    """The Deployment's pods that are not being deleted, oldest first."""
    owners = {rs["metadata"]["uid"] for rs in replica_sets(state, workload)}
    pods = [pod for pod in state.list("pod") if _owned_by(pod, owners)
            and not pod["metadata"].get("deletionTimestamp")]
    return sorted(pods, key=lambda pod: pod["metadata"].get("creationTimestamp", ""))


def _condition(item: dict, kind: str) -> dict:
    return next((c for c in (item.get("status") or {}).get("conditions") or []
                 if c.get("type") == kind), {})


def is_ready(pod: dict) -> bool:
    return _condition(pod, "Ready").get("status") == "True"


def pod_problem(pod: dict) -> str:
    """Empty when the pod runs and is Ready; else what keeps it from that, in one phrase."""
    name, status = pod["metadata"]["name"], pod.get("status") or {}
    phase = status.get("phase", "Pending")
    if phase == "Pending":
        scheduled = _condition(pod, "PodScheduled")
        if scheduled.get("status") == "False":
            return (f"pod {name} is Pending, not scheduled ({scheduled.get('reason', '?')}): "
                    f"{scheduled.get('message', 'no reason given')}")
    for item in status.get("containerStatuses") or []:
        waiting = (item.get("state") or {}).get("waiting")
        restarts = item.get("restartCount", 0)
        last = ((item.get("lastState") or {}).get("terminated") or {}).get("reason")
        if waiting or restarts:
            detail = f"container {item.get('name')} "
            detail += f"is waiting ({waiting.get('reason', '?')})" if waiting else "runs"
            if restarts:
                detail += f", restarted {restarts} times" + (f" (last: {last})" if last else "")
            if waiting or not is_ready(pod):
                return f"pod {name}: {detail}"
    if phase != "Running":
        return f"pod {name} is {phase}"
    if not is_ready(pod):
        ready = _condition(pod, "Ready")
        why = ready.get("message") or ready.get("reason") or "no reason given"
        return f"pod {name} is Running but not Ready: {why}"
    return ""


def _some(problems: list[str]) -> str:
    shown = "; ".join(problems[:SHOWN])
    return shown + (f"; and {len(problems) - SHOWN} more" if len(problems) > SHOWN else "")


def rollout_diagnosis(state: ClusterState, workload: dict) -> str:
    """Empty when the Deployment is rolled out; else why not, with the cluster's reasons."""
    problem = rollout_problem(workload)
    if not problem:
        return ""
    reasons = []
    for rs in replica_sets(state, workload):
        failure = _condition(rs, "ReplicaFailure")
        if failure.get("status") == "True":
            reasons.append(f"ReplicaSet {rs['metadata']['name']} cannot create pods "
                           f"({failure.get('reason', '?')}): {failure.get('message', '')}")
    progressing = _condition(workload, "Progressing")
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        reasons.append(f"the rollout exceeded its progress deadline: "
                       f"{progressing.get('message', '')}")
    pods = [text for text in map(pod_problem, deployment_pods(state, workload)) if text]
    if pods:
        reasons.append(_some(pods))
    return problem + ("; " + "; ".join(reasons) if reasons else "")


def check_rolled_out_and_ready(state: ClusterState, name: str = APP) -> dict:
    """The Deployment, when it is rolled out and each of its live pods is Ready.

    A Failure otherwise, naming the cluster's own reasons: FailedCreate, FailedScheduling,
    a waiting container, a pod that is not Ready.
    """
    workload = deployment(state, name)
    problem = rollout_diagnosis(state, workload)
    if problem:
        raise Failure(f"Deployment {name} is not rolled out: {problem}")
    unready = [text for text in map(pod_problem, deployment_pods(state, workload)) if text]
    if unready:
        raise Failure(f"Deployment {name}: {_some(unready)}")
    return workload
