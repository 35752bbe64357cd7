"""Helpers for the lesson notebooks: which kind of cluster answers, and skipping, visibly,
the cells that need real containers.

Deliberately free of the `kubernetes` client: a notebook cell calls kubectl anyway, and this
module must import in a blink even before the checker's reading layer is loaded.

The contract, typed: `classify` reads a `NodeList` (what `kubectl get nodes -o json` prints,
as far as it looks) and names a `Backend`; the skip helpers ask a `BackendProbe` (by default
`backend`, which asks kubectl) and print why they skip.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Final, Literal, Protocol, TypedDict

from ..clusters.base import kubectl_binary

Backend = Literal["sandbox", "kind", "other"]
"""Which kind of cluster answers: the course's sandbox, kind, or any other."""

SANDBOX: Final = "sandbox"
KIND: Final = "kind"
OTHER: Final = "other"


class NodeMetadata(TypedDict, total=False):
    labels: dict[str, str] | None
    """The sandbox's nodes carry type=kwok."""


class NodeSpec(TypedDict, total=False):
    providerID: str
    """kind's nodes have kind://docker/CLUSTER/NODE."""


class Node(TypedDict, total=False):
    metadata: NodeMetadata
    spec: NodeSpec | None


class NodeList(TypedDict, total=False):
    """The parts of `kubectl get nodes -o json` that tell the backends apart."""

    items: list[Node] | None


class BackendProbe(Protocol):
    """Something that says which backend runs the cluster the current context reaches."""

    def __call__(self) -> Backend: ...


def classify(node_list: NodeList) -> Backend:
    """The backend a `kubectl get nodes -o json` answer belongs to.

    "sandbox" when every node carries the label type=kwok (simulated by kwok: no container
    ever runs), "kind" when every node's providerID starts with kind://, else "other".
    """
    items = node_list.get("items") or []
    if not items:
        return OTHER
    if all((i.get("metadata", {}).get("labels") or {}).get("type") == "kwok" for i in items):
        return SANDBOX
    if all((i.get("spec") or {}).get("providerID", "").startswith("kind://") for i in items):
        return KIND
    return OTHER


def skip_message(reason: str, where: str = "the sandbox") -> str:
    """The line a skipped cell prints."""
    return f"skipped on {where}: {reason.strip()}"


def backend(kubectl: str | None = None, timeout: float = 20) -> Backend:
    """"sandbox", "kind" or "other": the backend of the cluster the current context reaches.

    Raises RuntimeError, with what to run, when kubectl cannot list the nodes.
    """
    args = [kubectl or kubectl_binary(), "get", "nodes", "-o", "json"]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RuntimeError(f"could not run kubectl to find the cluster's backend: {error}. "
                           "Is the cluster up? Run `rwk status`.") from None
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"kubectl could not list the nodes ({said}). "
                           "Is the cluster up? Run `rwk up`, then `rwk status`.")
    return classify(json.loads(done.stdout))


def only_on_kind(reason: str, probe: BackendProbe | None = None) -> bool:
    """True where containers really run (kind or another real cluster).

    On the sandbox, print "skipped on the sandbox: <reason>" and return False, so a cell
    reads `if only_on_kind("why"): ...` and never skips in silence. `probe` says which
    backend runs (default: `backend`, asking kubectl).
    """
    if (probe or backend)() == SANDBOX:
        print(skip_message(reason))
        return False
    return True


def only_on_sandbox(reason: str, probe: BackendProbe | None = None) -> bool:
    """True on the sandbox; elsewhere print "skipped on <backend>: <reason>" and return False.

    For the cells that pull the sandbox's switches (labels and annotations its simulated
    kubelet obeys), which a real kubelet ignores. `probe` as for `only_on_kind`.
    """
    name = (probe or backend)()
    if name != SANDBOX:
        print(skip_message(reason, "kind" if name == KIND else "this cluster"))
        return False
    return True


def ingress_controller_runs(kubectl: str | None = None, timeout: float = 20) -> bool:
    """True when a pod of the course's Ingress controller runs in the cluster."""
    from ..clusters.kind import CONTROLLER_SELECTOR, INGRESS_NAMESPACE
    done = subprocess.run([kubectl or kubectl_binary(), "get", "pods", "-n", INGRESS_NAMESPACE,
                           "-l", CONTROLLER_SELECTOR, "--field-selector=status.phase=Running",
                           "-o", "name"], capture_output=True, text=True, timeout=timeout)
    return done.returncode == 0 and bool(done.stdout.strip())


def only_where_ingress_is_served(reason: str, probe: BackendProbe | None = None,
                                 controller: Callable[[], bool] | None = None) -> bool:
    """True where real requests reach Ingress backends: containers run, and an Ingress
    controller too. Else print why the cell skips, as `only_on_kind` does.

    A kind cluster whose images were built here, where no registry answers, has no Ingress
    controller yet (README: the kind backend); its cells say so rather than fail."""
    if not only_on_kind(reason, probe):
        return False
    if not (controller or ingress_controller_runs)():
        print(skip_message("no Ingress controller runs in this cluster (where no registry "
                           "answers, the course's kind cluster has none yet: README, the kind "
                           "backend), so no request would be answered", "kind"))
        return False
    return True


class CommandFailed(RuntimeError):
    """A shell command run by `sh` exited non-zero; the cell, and nbval, fail on it."""


def sh(command: str) -> None:
    """Run `command` in bash (with pipefail) and print its output, as a `!` line does, but
    raise CommandFailed when it fails: a `!` line never fails its cell, so a failed apply or a
    timed-out wait would go unnoticed."""
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True,
                          text=True)
    print(done.stdout + done.stderr, end="")
    if done.returncode != 0:
        raise CommandFailed(f"exit status {done.returncode}: {command}")
