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
    """True where real requests reach Ingress backends: containers run, and the Ingress
    controller (Traefik, on kind) too. Else print why the cell skips, as `only_on_kind` does."""
    if not only_on_kind(reason, probe):
        return False
    if not (controller or ingress_controller_runs)():
        print(skip_message("no Ingress controller pod runs in this cluster yet (`rwk up "
                           "--backend kind` installs Traefik; `rwk status` says where it "
                           "stands), so no request would be answered", "kind"))
        return False
    return True


Route = tuple[str, str]
"""A host and a path, as an Ingress rule routes them."""


def routes_of(ingress: dict) -> list[Route]:
    """(host, path) of every service path of an Ingress."""
    found = []
    for rule in (ingress.get("spec") or {}).get("rules") or []:
        for entry in (rule.get("http") or {}).get("paths") or []:
            if (entry.get("backend") or {}).get("service"):
                found.append((rule.get("host") or "*", entry.get("path") or "/"))
    return found


def _class_nginx(ingress: dict) -> bool:
    spec_class = (ingress.get("spec") or {}).get("ingressClassName")
    annotated = ((ingress.get("metadata") or {}).get("annotations") or {}).get(
        "kubernetes.io/ingress.class")
    return (spec_class or annotated or "nginx") == "nginx"


def others_routing(namespace: str, name: str, routes: list[Route],
                   ingresses: list[dict]) -> list[tuple[str, Route]]:
    """("namespace/name", route) for each Ingress of class nginx, other than namespace/name,
    that routes one of `routes`, oldest first."""
    def created(ingress: dict) -> str:
        return (ingress.get("metadata") or {}).get("creationTimestamp") or ""
    found = []
    for ingress in sorted(ingresses, key=created):
        meta = ingress.get("metadata") or {}
        if (meta.get("namespace"), meta.get("name")) == (namespace, name):
            continue
        if meta.get("deletionTimestamp") or not _class_nginx(ingress):
            continue
        found += [(f"{meta.get('namespace')}/{meta.get('name')}", route)
                  for route in routes_of(ingress) if route in routes]
    return found


def shared_routes(namespace: str, name: str, routes: list[Route], *,
                  kubectl: str | None = None, say: Callable[[str], None] = print
                  ) -> list[tuple[str, Route]]:
    """Before a notebook applies Ingress `name`: say which other Ingresses, in any namespace,
    already route its hosts and paths, and what that means; return them.

    Nothing refuses a second Ingress for a host and path (ingress-nginx's admission webhook
    did; the course's controller now is Traefik, which has none). Both are served, and each
    request for that host and path goes to one of them: which one is not defined, and may
    change whenever the controller reloads (lesson 04, "One host and path, one Ingress").
    """
    done = subprocess.run([kubectl or kubectl_binary(), "get", "ingresses", "--all-namespaces",
                           "-o", "json"], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        say("could not list the Ingresses of other namespaces (no right to here), so cannot "
            "say whether another one routes the same hosts")
        return []
    found = others_routing(namespace, name, routes, json.loads(done.stdout).get("items", []))
    if not found:
        say(f"no other Ingress routes {', '.join(h + p for h, p in routes)}")
        return []
    holders = sorted({holder for holder, _ in found})
    for holder, (host, path) in found:
        say(f"Ingress {holder} already routes {host}{path}")
    say(f"Both are accepted and served, so requests for these hosts may be answered by the pods "
        f"behind {', '.join(holders)} instead of this namespace's; which one answers is not "
        f"defined. If that Ingress is yours from another notebook, delete it first: "
        + "; ".join(f"kubectl delete ingress {h.split('/')[1]} -n {h.split('/')[0]}"
                    for h in holders))
    return found


class WrongAnswer(AssertionError):
    """A request through the Ingress was answered otherwise than its rules say it should be."""


def _curl(args: list[str], timeout: float = 15) -> tuple[int, str, str]:
    """(status, body, redirect URL) of one curl request; when no answer came back, status 0
    and, as the body, what curl said (a refused connection, a certificate it distrusts)."""
    done = subprocess.run(["curl", "--silent", "--show-error", "--max-time", str(timeout),
                           "--output", "-", "--write-out", "\n%{http_code} %{redirect_url}",
                           *args], capture_output=True, text=True, timeout=timeout + 5)
    body, _, last = done.stdout.rpartition("\n")
    code, _, location = last.partition(" ")
    status = int(code) if code.isdigit() else 0
    return status, (body if status else done.stderr.strip()), location.strip()


def _served_by(body: str) -> str:
    try:
        return str(json.loads(body).get("hostname", "-"))
    except (ValueError, AttributeError):
        return "-"


def _controller_pods(kubectl: str | None) -> str:
    """The Ingress controller's pods, as `kubectl get pods -n traefik` sums them up: where a
    request got no answer at all, the first place to look."""
    from ..clusters.kind import CONTROLLER_SELECTOR, INGRESS_NAMESPACE
    done = subprocess.run([kubectl or kubectl_binary(), "get", "pods", "-n", INGRESS_NAMESPACE,
                           "-l", CONTROLLER_SELECTOR, "--no-headers", "-o", "wide"],
                          capture_output=True, text=True, timeout=30)
    listed = " | ".join(" ".join(line.split()[:6]) for line in done.stdout.splitlines())
    return (f"the controller's pods (kubectl get pods -n {INGRESS_NAMESPACE}): "
            f"{listed or done.stderr.strip() or 'none'}")


def requests_through_ingress(namespace: str, apps: dict[str, str], *, secret: str = "tls-cert",
                             wait: float = 90, kubectl: str | None = None,
                             say: Callable[[str], None] = print) -> None:
    """Send, with curl, the requests that show an Ingress working on kind (whose ports 80 and
    443 are this machine's), printing each command and its answer; raise WrongAnswer at the
    first answer that differs from what the rules say:

    - each host of `apps` (host -> the app whose pods should answer) over HTTPS: 200 from one
      of that app's pods, over a certificate curl checks against the one in Secret `secret`
      (the only one it trusts: the certificate, never the key, is read);
    - plain HTTP for the first host: a redirect to HTTPS;
    - a host no rule names: 404.
    """
    import base64
    import tempfile
    import time
    from pathlib import Path

    done = subprocess.run([kubectl or kubectl_binary(), "get", "secret", secret, "-n", namespace,
                           "-o", "jsonpath={.data.tls\\.crt}"], capture_output=True, text=True,
                          timeout=30)
    if done.returncode != 0 or not done.stdout.strip():
        raise WrongAnswer(f"no certificate to trust: Secret {secret} in namespace {namespace} "
                          f"has no tls.crt ({done.stderr.strip() or 'empty'})")
    with tempfile.TemporaryDirectory(prefix="rwk-ingress-") as folder:
        cacert = Path(folder) / "tls.crt"
        cacert.write_bytes(base64.b64decode(done.stdout))
        hosts = list(apps)

        def https(host: str) -> list[str]:
            return ["--resolve", f"{host}:443:127.0.0.1", "--cacert", str(cacert),
                    f"https://{host}/"]

        # The controller takes a few seconds to load new rules and endpoints.
        end = time.monotonic() + wait
        while _curl(https(hosts[0]))[0] != 200 and time.monotonic() < end:
            time.sleep(2)
        for host, app in apps.items():
            say(f"$ curl --resolve {host}:443:127.0.0.1 --cacert tls.crt https://{host}/")
            status, body, _ = _curl(https(host))
            served_by = _served_by(body)
            say(f"  {status} from {served_by}" if status else f"  no answer: {body}")
            if status != 200 or not served_by.startswith(f"{app}-"):
                got = f"{status} from {served_by}" if status else (
                    f"no answer ({body}); {_controller_pods(kubectl)}")
                raise WrongAnswer(f"https://{host}/ should be answered 200 by a pod of {app}, "
                                  f"got {got}")
        say(f"$ curl --resolve {hosts[0]}:80:127.0.0.1 http://{hosts[0]}/")
        status, _, location = _curl(["--resolve", f"{hosts[0]}:80:127.0.0.1",
                                     f"http://{hosts[0]}/"])
        say(f"  {status} to {location or 'nowhere'}")
        if status not in (301, 302, 307, 308) or not location.startswith(f"https://{hosts[0]}"):
            raise WrongAnswer(f"http://{hosts[0]}/ should be redirected to https://{hosts[0]}/, "
                              f"got {status} {location}")
        say("$ curl --resolve nothing.example.com:80:127.0.0.1 http://nothing.example.com/")
        status, _, _ = _curl(["--resolve", "nothing.example.com:80:127.0.0.1",
                              "http://nothing.example.com/"])
        say(f"  {status} (no rule names this host)")
        if status != 404:
            raise WrongAnswer(f"a host no rule names should get 404, got {status}")


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
