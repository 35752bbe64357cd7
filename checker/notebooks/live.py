"""Live views for the lessons: the cluster moving while a cell runs, then a static result.

- `watch_rollout(deployment, namespace, change=...)`: the old and new ReplicaSets' pods
  appearing, turning Ready and leaving while a rollout runs; returns the samples the lessons
  draw their timelines from.
- `watch_hpa(name, namespace, ...)`: an HPA's current and target utilisation and its replicas
  as it syncs.
- `watch_namespace(namespace, until=...)`: pods (phase, readiness, restarts) and each
  Service's endpoints, while a lesson waits for something to happen.

Each view costs the API server one request per kind: a WATCH without a resourceVersion
(`kubectl get --raw '/api/.../pods?watch=1&sendInitialEvents=true&...'`), which the API
server answers with the current objects as ADDED events, a bookmark marking their end, and
then every change: no LIST and no poll. It redraws itself every `TICK` seconds while it runs
(the moments of the last view's drawings are kept in `last_drawings`), ends on its own (its
condition holds, or `limit` seconds pass) and leaves its last drawing behind, so nbval and
nbconvert see a finished output. Outside a notebook it prints that drawing as
text. The state machines (`PodBook`, `Rollout`, `Endpoints`, `hpa_sample`) are pure: they
take watch events and are unit-tested from lists of them.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from ..clusters.base import kubectl_binary
from ..grading.checks.common import rollout_problem
from ..grading.rendering import environment
from ..kube.kinds import KINDS

if TYPE_CHECKING:
    import jinja2

TICK = 0.5
"""Seconds between two drawings of a running view."""
SETTLE = 0.4
"""Quiet seconds after which a watch's initial list counts as read, on a server that does
not mark its end (a streaming watch that has heard objects waits 5 times as long)."""
UNHEARD = 10.0
"""Seconds a watch that has heard nothing waits for its first word before its list counts
as empty, where the server is not known to mark a list's end: a kubectl that a
busy machine starts slowly has not failed to list (in the CI of stop 37, 2 s of silence
were taken for an empty list and lesson 08 found no Deployment)."""
SETTLE_LIMIT = 30.0
"""Seconds a view waits at most for its watches' current objects."""

_streams: set[str] = set()
"""The kubeconfigs ($KUBECONFIG) whose API server has been seen to mark the end of a
streaming list."""


def _server() -> str:
    return os.environ.get("KUBECONFIG", "")


Event = tuple[str, str, dict]
"""(kind, ADDED | MODIFIED | DELETED, the object as the API serves it)."""


# --- the pure part: state from watch events ------------------------------------------------

@dataclass
class PodRow:
    """One pod as a view shows it."""

    name: str
    group: str
    """Its pod-template-hash (the ReplicaSet it belongs to), else its `app` label, else ""."""
    phase: str
    ready: bool
    restarts: int
    waiting: str
    """Why its container waits (CrashLoopBackOff, ...), else ""."""
    leaving: bool
    """Being deleted (deletionTimestamp set)."""
    node: str = ""
    """The node it is scheduled on, else ""."""


def pod_row(pod: dict) -> PodRow:
    meta, status = pod.get("metadata", {}), pod.get("status") or {}
    labels = meta.get("labels") or {}
    containers = status.get("containerStatuses") or []
    waiting = next((c["state"]["waiting"].get("reason", "") for c in containers
                    if (c.get("state") or {}).get("waiting")), "")
    ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                for c in status.get("conditions") or [])
    return PodRow(name=meta.get("name", "?"),
                  group=labels.get("pod-template-hash") or labels.get("app") or "",
                  phase=status.get("phase", "Pending"), ready=ready,
                  restarts=sum(c.get("restartCount", 0) for c in containers), waiting=waiting,
                  leaving=bool(meta.get("deletionTimestamp")),
                  node=(pod.get("spec") or {}).get("nodeName") or "")


class Moment(NamedTuple):
    """A change of one pod, as the timeline lists it."""

    seconds: float
    pod: str
    group: str
    what: str
    """appeared, scheduled, the new phase (Running, ...), Ready, not Ready, restarted,
    waiting: REASON, leaving, gone; for an endpoint (from Endpoints): "ready in SERVICE",
    "not ready in SERVICE", "out of SERVICE"."""


@dataclass
class PodBook:
    """The pods a watch has shown, and the timeline of what happened to each."""

    pods: dict[str, PodRow] = field(default_factory=dict)
    timeline: list[Moment] = field(default_factory=list)

    def apply(self, kind: str, type_: str, obj: dict, seconds: float) -> None:
        row = pod_row(obj)
        was = self.pods.get(row.name)
        note = functools.partial(self._note, seconds, row)
        if type_ == "DELETED":
            self.pods.pop(row.name, None)
            note("gone")
            return
        self.pods[row.name] = row
        if was is None:
            note("appeared" if not row.ready else "Ready")
            return
        if row.node and not was.node:
            note("scheduled")
        if row.phase != was.phase:
            note(row.phase)
        if row.waiting and row.waiting != was.waiting:
            note(f"waiting: {row.waiting}")
        if row.ready != was.ready:
            note("Ready" if row.ready else "not Ready")
        if row.restarts > was.restarts:
            note("restarted")
        if row.leaving and not was.leaving:
            note("leaving")

    def _note(self, seconds: float, row: PodRow, what: str) -> None:
        self.timeline.append(Moment(round(seconds, 1), row.name, row.group, what))

    def alive(self) -> list[PodRow]:
        """The pods that exist and are not being deleted, by name."""
        return sorted((p for p in self.pods.values() if not p.leaving), key=lambda p: p.name)


def rolled_out(deployment: dict) -> bool:
    """Rolled out as the checks say it (EXERCISES.md): the controller saw the latest change,
    and every replica runs the current template, is Ready and available."""
    return not rollout_problem(deployment)


def finished(deployment: dict) -> bool:
    """Where a rollout view ends: rolled out (the checks' rule), and the controller counts no
    old pod left (`status.replicas`, which includes pods still terminating)."""
    want = deployment["spec"].get("replicas", 1)
    return rolled_out(deployment) and (deployment.get("status") or {}).get("replicas", 0) == want


def _current(replicaset: dict, deployment: dict) -> bool:
    """Whether the ReplicaSet runs the Deployment's pod template (as the controller compares
    them: equal but for the pod-template-hash label)."""
    template = json.loads(json.dumps(replicaset.get("spec", {}).get("template", {})))
    (template.get("metadata", {}).get("labels") or {}).pop("pod-template-hash", None)
    return template == deployment.get("spec", {}).get("template")


@dataclass
class Rollout:
    """A Deployment, its ReplicaSets and its pods, from their watches."""

    book: PodBook = field(default_factory=PodBook)
    deployment: dict | None = None
    replicasets: dict[str, dict] = field(default_factory=dict)
    counts: list[tuple[float, dict[str, tuple[int, int]]]] = field(default_factory=list)
    """Per sample: seconds, and per pod-template-hash (Ready pods, pods)."""

    def apply(self, kind: str, type_: str, obj: dict, seconds: float) -> None:
        if kind == "pod":
            self.book.apply(kind, type_, obj, seconds)
        elif kind == "deployment":
            self.deployment = None if type_ == "DELETED" else obj
        elif kind == "replicaset":
            name = obj["metadata"]["name"]
            if type_ == "DELETED":
                self.replicasets.pop(name, None)
            else:
                self.replicasets[name] = obj

    def new_hash(self) -> str | None:
        """The pod-template-hash of the ReplicaSet that runs the current template."""
        if self.deployment is None:
            return None
        for replicaset in self.replicasets.values():
            if _current(replicaset, self.deployment):
                return (replicaset["metadata"].get("labels") or {}).get("pod-template-hash")
        return None

    def sample(self, seconds: float) -> None:
        """Note how many pods of each ReplicaSet exist and are Ready, now."""
        tally: dict[str, tuple[int, int]] = {}
        for pod in self.book.alive():
            ready, count = tally.get(pod.group, (0, 0))
            tally[pod.group] = (ready + pod.ready, count + 1)
        self.counts.append((round(seconds, 2), tally))

    def samples(self) -> list[tuple[float, int, int, int, int]]:
        """(seconds, old Ready, new Ready, old pods, new pods) per sample, "new" being the
        ReplicaSet of the template current at the end: what the lessons draw."""
        new = self.new_hash()
        found = []
        for seconds, tally in self.counts:
            old_ready = sum(r for group, (r, _) in tally.items() if group != new)
            old_pods = sum(n for group, (_, n) in tally.items() if group != new)
            new_ready, new_pods = tally.get(new or "", (0, 0))
            found.append((seconds, old_ready, new_ready, old_pods, new_pods))
        return found


def hpa_sample(hpa: dict, seconds: float) -> tuple[float, int | None, int | None, int, int]:
    """(seconds, current cpu utilisation %, target %, current replicas, desired replicas)
    of an autoscaling/v2 HPA; None where the HPA has no figure yet."""
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    target = next((m["resource"]["target"].get("averageUtilization")
                   for m in spec.get("metrics") or []
                   if m.get("type") == "Resource" and m["resource"].get("name") == "cpu"), None)
    current = next((m["resource"]["current"].get("averageUtilization")
                    for m in status.get("currentMetrics") or []
                    if m.get("type") == "Resource" and (m.get("resource") or {}).get("name")
                    == "cpu"), None)
    return (round(seconds, 2), current, target, status.get("currentReplicas", 0),
            status.get("desiredReplicas", 0))


@dataclass
class Endpoints:
    """Pods and each Service's endpoints (from EndpointSlices), from their watches."""

    book: PodBook = field(default_factory=PodBook)
    slices: dict[str, dict] = field(default_factory=dict)

    def apply(self, kind: str, type_: str, obj: dict, seconds: float) -> None:
        if kind == "pod":
            self.book.apply(kind, type_, obj, seconds)
        elif kind == "endpointslice":
            before = self._listed()
            if type_ == "DELETED":
                self.slices.pop(obj["metadata"]["name"], None)
            else:
                self.slices[obj["metadata"]["name"]] = obj
            after = self._listed()
            for service, pod in sorted(before.keys() | after.keys()):
                was, now = before.get((service, pod)), after.get((service, pod))
                if was != now:
                    what = ("out of" if now is None else "ready in" if now
                            else "not ready in")
                    self.book.timeline.append(Moment(round(seconds, 1), pod, service,
                                                     f"{what} {service}"))

    def _listed(self) -> dict[tuple[str, str], bool]:
        """(Service, pod) -> whether its endpoint is ready."""
        return {(service, pod): is_ready
                for service, (ready, waiting) in self.services().items()
                for is_ready, pods in ((True, ready), (False, waiting)) for pod in pods}

    def ready(self, service: str) -> list[str]:
        """The pods the Service's endpoints list as ready (its traffic goes to them)."""
        return self.services().get(service, ([], []))[0]

    def not_ready(self, service: str) -> list[str]:
        """The pods the Service's endpoints list as not ready (no traffic goes to them)."""
        return self.services().get(service, ([], []))[1]

    def services(self) -> dict[str, tuple[list[str], list[str]]]:
        """Per Service: the pods its endpoints list as ready, and as not ready."""
        found: dict[str, tuple[list[str], list[str]]] = {}
        for piece in self.slices.values():
            service = (piece["metadata"].get("labels") or {}).get(
                "kubernetes.io/service-name", "?")
            ready, waiting = found.setdefault(service, ([], []))
            for endpoint in piece.get("endpoints") or []:
                name = (endpoint.get("targetRef") or {}).get("name", "?")
                is_ready = (endpoint.get("conditions") or {}).get("ready", False)
                (ready if is_ready else waiting).append(name)
        return {service: (sorted(r), sorted(w)) for service, (r, w) in sorted(found.items())}


# --- watching: one `kubectl get --watch` per kind ------------------------------------------

def parse_stream(chunks: Iterable[str]) -> Iterator[dict]:
    """The JSON objects of kubectl's watch output (objects one after another, pretty-printed)."""
    decoder, buffer = json.JSONDecoder(), ""
    for chunk in chunks:
        buffer += chunk
        while True:
            buffer = buffer.lstrip()
            try:
                obj, end = decoder.raw_decode(buffer)
            except ValueError:
                break
            buffer = buffer[end:]
            yield obj


WATCHED = ("pod", "endpointslice", "deployment", "replicaset", "horizontalpodautoscaler")
"""The kinds a view watches (where each is served: kube.kinds)."""


INITIAL_EVENTS = {"sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan",
                  "allowWatchBookmarks": "true"}
"""A streaming list: the watch marks the end of the current objects with a BOOKMARK
annotated k8s.io/initial-events-end (the WatchList feature, on in Kubernetes 1.36)."""
INITIAL_END = "k8s.io/initial-events-end"


def watch_path(kind: str, namespace: str, selector: str | None = None,
               field_selector: str | None = None, *, streaming: bool = False) -> str:
    """The one WATCH request of a kind: no resourceVersion, so the API server first sends
    every current object as ADDED, then every change (no LIST needed before it); with
    `streaming`, it also says where the current objects end."""
    query = {"watch": "1", "labelSelector": selector, "fieldSelector": field_selector,
             **(INITIAL_EVENTS if streaming else {})}
    if kind not in WATCHED:
        raise KeyError(kind)
    return (KINDS[kind].path(namespace) + "?"
            + urllib.parse.urlencode({key: value for key, value in query.items() if value}))


class _Watch:
    """One `kubectl get --raw PATH?watch=1` in a thread, its events queued. `listed` turns
    true once the current objects have all arrived (known from the API server's bookmark
    when `streaming`, else guessed by the view from SETTLE quiet seconds)."""

    def __init__(self, kind: str, namespace: str, events: queue.Queue, *,
                 selector: str | None = None, field_selector: str | None = None,
                 streaming: bool = True) -> None:
        self.options = {"selector": selector, "field_selector": field_selector}
        args = [kubectl_binary(), "get", "--raw",
                watch_path(kind, namespace, selector, field_selector, streaming=streaming)]
        self.kind, self.events, self.last = kind, events, time.monotonic()
        self.streaming, self.listed, self.heard = streaming, False, False
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, bufsize=1)
        self.thread = threading.Thread(target=self._read, daemon=True,
                                       name=f"rwk-watch-{kind}")
        self.thread.start()

    def _read(self) -> None:
        stdout = self.process.stdout
        for event in parse_stream(iter(stdout.readline, "") if stdout else ()):
            self.last, self.heard = time.monotonic(), True
            if event.get("type") in ("ADDED", "MODIFIED", "DELETED"):   # not ERROR, BOOKMARK
                self.events.put((self.kind, event["type"], event.get("object") or {}))
            elif event.get("type") == "BOOKMARK" and ((event.get("object") or {}).get(
                    "metadata", {}).get("annotations") or {}).get(INITIAL_END) == "true":
                self.listed = True
                _streams.add(_server())

    def read(self, now: float) -> bool:
        """Whether the current objects count as all arrived: the server's mark says so on a
        streaming watch. Where the server has not yet been seen to send the mark (a server
        too old for streaming lists ignores them), quiet after objects were heard, or
        nothing heard for UNHEARD seconds; a watch without streaming (a server that refuses
        streaming lists), SETTLE quiet seconds after objects, or UNHEARD of nothing."""
        if self.listed:
            return True
        quiet = now - self.last
        if self.streaming and _server() in _streams:
            return False
        if not self.heard:
            return quiet > UNHEARD
        return quiet > (5 * SETTLE if self.streaming else SETTLE)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def failed(self) -> str | None:
        """kubectl's complaint, when it exited on its own."""
        if self.process.poll() in (None, 0) or self.process.stderr is None:
            return None
        return self.process.stderr.read().strip() or f"exit {self.process.returncode}"


class _Display:
    """One output area, redrawn in place: a display handle in a kernel, else printed once."""

    def __init__(self) -> None:
        self.handle = None
        if "IPython" in sys.modules:
            from IPython import get_ipython
            from IPython.display import HTML, display
            if get_ipython() is not None and hasattr(get_ipython(), "kernel"):
                self._html = HTML
                self.handle = display(HTML("<em>starting the watch…</em>"), display_id=True)
        self.updates = 0
        self.times: list[float] = []
        """When each drawing was made (time.monotonic()), kernel or not."""

    def show(self, html: str, text: str, final: bool = False) -> None:
        self.times.append(time.monotonic())
        if self.handle is not None:
            self.handle.update({"text/html": html, "text/plain": text}, raw=True)
            self.updates += 1
        elif final:
            print(text)


class _Run:
    """A view's loop: watches, a state, a drawing every TICK, a condition, a limit."""

    def __init__(self, namespace: str, watches: list[tuple[str, dict]], state: Any) -> None:
        self.events: queue.Queue[Event] = queue.Queue()
        self.namespace, self.state, self.start = namespace, state, time.monotonic()
        self.watches: list[_Watch] = []
        self.display = _Display()
        for kind, options in watches:
            self.add(kind, **options)

    def add(self, kind: str, **options: str | None) -> None:
        """Open one more watch (a view that learns a selector from its first watch)."""
        self.watches.append(_Watch(kind, self.namespace, self.events, **options))

    def seconds(self) -> float:
        return time.monotonic() - self.start

    def drain(self) -> int:
        taken = 0
        while True:
            try:
                kind, type_, obj = self.events.get_nowait()
            except queue.Empty:
                return taken
            self.state.apply(kind, type_, obj, self.seconds())
            taken += 1

    def settle(self) -> None:
        """Wait until every watch has sent the current objects, as `_Watch.read` judges
        (the API server's bookmark, or quiet where the server sends none); a server that
        refuses streaming lists is watched again without. Raises RuntimeError when a watch
        has not sent them within SETTLE_LIMIT seconds."""
        began, limit = time.monotonic(), SETTLE_LIMIT
        while time.monotonic() - began < limit:
            self.drain()
            for index, watch in enumerate(self.watches):
                if (complaint := watch.failed()) is None:
                    continue
                if watch.streaming and not watch.listed:
                    self.watches[index] = _Watch(watch.kind, self.namespace, self.events,
                                                 **watch.options, streaming=False)
                    continue
                self.stop()
                raise RuntimeError(f"kubectl could not watch {watch.kind}: {complaint}")
            now = time.monotonic()
            if all(watch.read(now) for watch in self.watches):
                self.drain()
                return
            time.sleep(0.02)
        late = ", ".join(w.kind for w in self.watches if not w.read(time.monotonic()))
        self.stop()
        raise RuntimeError(f"the API server did not list the current {late} of namespace "
                           f"{self.namespace} within {limit:g} s")

    def loop(self, done: Callable[[], bool], limit: float,
             draw: Callable[[bool], tuple[str, str]], on_tick: Callable[[], None] = lambda: None
             ) -> bool:
        """Redraw every TICK until `done()` or `limit` seconds; whether `done()` held."""
        try:
            while True:
                self.drain()
                on_tick()
                if done():
                    return True
                if self.seconds() >= limit:
                    return False
                self.display.show(*draw(False))
                time.sleep(TICK)
        finally:
            self.stop()
            self.drain()
            self.display.show(*draw(True), final=True)
            last_drawings[:] = self.display.times

    def stop(self) -> None:
        for watch in self.watches:
            watch.stop()


last_drawings: list[float] = []
"""The moments (time.monotonic()) of the last finished view's drawings, the final one last."""


def _run_change(change: str | Callable[[], object] | None) -> None:
    """Run the change a view shows: a shell command (waited for, its output printed), or a
    function (a lesson that starts a longer command in the background, such as a drain)."""
    if callable(change):
        change()
    elif change:
        done = subprocess.run(["bash", "-o", "pipefail", "-c", change], capture_output=True,
                              text=True)
        print(done.stdout + done.stderr, end="")
        if done.returncode != 0:
            raise RuntimeError(f"exit status {done.returncode}: {change}")


# --- the views --------------------------------------------------------------------------

def watch_rollout(deployment: str, namespace: str,
                  change: str | Callable[[], object] | None = None, *,
                  until: Callable[[dict], bool] | None = finished, limit: float = 90.0
                  ) -> list[tuple[float, int, int, int, int]]:
    """Show a rollout of `deployment` live: run the shell command `change` (if any), then
    watch its ReplicaSets' pods appear, turn Ready and leave until `until(deployment)` holds
    (default: `finished`, rolled out and no old pod left), or for `limit` seconds with
    until=None.

    Returns [(seconds, old Ready, new Ready, old pods, new pods), ...], the first sample
    being the state just before the change. Raises TimeoutError when `until` never holds.
    """
    rollout = Rollout()
    run = _Run(namespace, [("deployment", {"field_selector": f"metadata.name={deployment}"})],
               rollout)
    run.settle()
    if rollout.deployment is None:
        run.stop()
        raise RuntimeError(f"no deployment {deployment} in namespace {namespace}")
    labels = rollout.deployment["spec"]["selector"].get("matchLabels") or {}
    selector = ",".join(f"{key}={value}" for key, value in labels.items())
    run.add("replicaset", selector=selector)
    run.add("pod", selector=selector)
    run.settle()
    rollout.book.timeline.clear()             # what was there at the start is no change
    rollout.sample(0.0)
    before = (rollout.deployment or {}).get("metadata", {}).get("generation", 0)
    run.start = time.monotonic()
    _run_change(change)

    def done() -> bool:
        # After a change, only a Deployment the change reached (a new generation) counts.
        current = rollout.deployment
        return (until is not None and current is not None and len(rollout.counts) > 1
                and (change is None or current["metadata"].get("generation", 0) > before)
                and until(current))

    def draw(final: bool) -> tuple[str, str]:
        return _render("rollout", final=final, seconds=run.seconds(), name=deployment,
                       new=rollout.new_hash(), pods=rollout.book.alive(),
                       timeline=rollout.book.timeline, limit=limit)

    finished = run.loop(done, limit, draw, on_tick=lambda: rollout.sample(run.seconds()))
    if until is not None and not finished:
        raise TimeoutError(f"the rollout of {deployment} did not finish within {limit:g} s "
                           f"({_stands(rollout.deployment, deployment, namespace)})")
    return rollout.samples()


def _summary(deployment: dict | None) -> str:
    """A Deployment's generation, what the checks' rollout rule says of it, and its
    conditions, in one line."""
    if not deployment:
        return "nothing"
    conditions = ", ".join(f"{c.get('type')}={c.get('status')}/{c.get('reason', '-')}"
                           for c in (deployment.get("status") or {}).get("conditions") or [])
    return (f"generation {deployment['metadata'].get('generation')}, "
            f"{rollout_problem(deployment) or 'rolled out'}, conditions {conditions or 'none'}")


def _stands(seen: dict | None, name: str, namespace: str) -> str:
    """Where a rollout that ran out of time stands: as the view last saw it, and as the API
    server says now (the two differ only when the view's watch fell behind)."""
    done = subprocess.run([kubectl_binary(), "get", "deployment", name, "-n", namespace,
                           "-o", "json"], capture_output=True, text=True, timeout=30)
    now = _summary(json.loads(done.stdout)) if done.returncode == 0 else done.stderr.strip()
    return f"the view last saw: {_summary(seen)}; the API server now says: {now}"


def watch_hpa(name: str, namespace: str, *, until: Callable[[dict], bool] | None = None,
              limit: float = 120.0, on_tick: Callable[[dict | None], None] | None = None,
              change: str | Callable[[], object] | None = None
              ) -> list[tuple[float, int | None, int | None, int, int]]:
    """Show the HPA `name` live (current and target cpu utilisation, current and desired
    replicas) as it syncs; run `change` (a shell command) once the watch is up; end when
    `until(hpa)` holds or `limit` seconds pass. Returns its samples (seconds, current %,
    target %, current replicas, desired replicas), one per tick. `on_tick(hpa)` runs every
    tick (a lesson moves its simulated load there). Raises TimeoutError when `until` is
    given and never holds."""
    class _State:
        hpa: dict | None = None
        samples: list = []

        def apply(self, kind: str, type_: str, obj: dict, seconds: float) -> None:
            self.hpa = None if type_ == "DELETED" else obj

    state = _State()
    state.samples = []
    run = _Run(namespace, [("horizontalpodautoscaler",
                            {"field_selector": f"metadata.name={name}"})], state)
    run.settle()
    run.start = time.monotonic()
    _run_change(change)

    def tick() -> None:
        if state.hpa is not None:
            state.samples.append(hpa_sample(state.hpa, run.seconds()))
        if on_tick is not None:
            on_tick(state.hpa)

    def draw(final: bool) -> tuple[str, str]:
        return _render("hpa", final=final, seconds=run.seconds(), name=name,
                       samples=state.samples, limit=limit)

    finished = run.loop(lambda: until is not None and state.hpa is not None
                        and until(state.hpa), limit, draw, on_tick=tick)
    if until is not None and not finished:
        raise TimeoutError(f"what the cell waited for of HPA {name} did not happen within "
                           f"{limit:g} s")
    return state.samples


def watch_namespace(namespace: str, *, until: Callable[[Endpoints], bool] | None = None,
                    limit: float = 90.0, selector: str | None = None,
                    change: str | Callable[[], object] | None = None,
                    on_tick: Callable[[Endpoints, float], None] | None = None) -> Endpoints:
    """Show the namespace's pods (phase, readiness, restarts) and its Services' endpoints
    live; run `change` (a shell command) once the watches are up; end when `until(view)`
    holds or after `limit` seconds. `on_tick(view, seconds)` runs before every drawing (a
    lesson samples the view there). Returns the view (`.book.pods`, `.book.timeline`,
    `.services()`, `.ready(service)`). Raises TimeoutError when `until` is given and never
    holds."""
    view = Endpoints()
    run = _Run(namespace, [("pod", {"selector": selector}), ("endpointslice", {})], view)
    run.settle()
    view.book.timeline.clear()                # what was there at the start is no change
    run.start = time.monotonic()
    _run_change(change)

    def draw(final: bool) -> tuple[str, str]:
        return _render("namespace", final=final, seconds=run.seconds(), name=namespace,
                       pods=view.book.alive(), services=view.services(),
                       timeline=view.book.timeline, limit=limit)

    finished = run.loop(lambda: until is not None and until(view), limit, draw,
                        on_tick=lambda: on_tick(view, run.seconds()) if on_tick else None)
    if until is not None and not finished:
        raise TimeoutError(f"what the cell waited for in {namespace} did not happen within "
                           f"{limit:g} s")
    return view


# --- drawing ---------------------------------------------------------------------------

_STYLE = """<style>
.rwk-live table { border-collapse: collapse; margin: 0.2em 0; font-size: 0.92em; }
.rwk-live th, .rwk-live td { border: 1px solid #8884; padding: 0.15em 0.5em;
  text-align: left !important; }
.rwk-live .ok { color: #2e7d32; font-weight: bold; } .rwk-live .no { color: #c62828; }
.rwk-live .new { background: #ff980022; } .rwk-live .dim { opacity: 0.7; }
</style>"""

_TEMPLATES = {
    "rollout": """\
<div class="rwk-live" data-view="rollout" data-final="{{ final }}">{{ style }}
<p><strong>rollout of {{ name }}</strong>: {{ "done" if final else "watching" }},
<span class="rwk-seconds">{{ "%.1f" % seconds }}</span>
s{{ "" if final else " of at most %g" % limit }}</p>
<table><tr><th>pod</th><th>ReplicaSet</th><th>phase</th><th>Ready</th></tr>
{% for pod in pods %}<tr class="{{ 'new' if pod.group == new else '' }}"><td>{{ pod.name }}</td>
<td>{{ pod.group }} {{ "(new)" if pod.group == new else "(old)" }}</td><td>{{ pod.phase }}</td>
<td class="{{ 'ok' if pod.ready else 'no' }}">{{ "Ready" if pod.ready else "not Ready" }}</td></tr>
{% endfor %}</table>
{% if final %}<details open><summary>timeline ({{ timeline | length }} changes)</summary>
<table><tr><th>s</th><th>pod</th><th>ReplicaSet</th><th>what</th></tr>
{% for m in timeline %}<tr><td>{{ m.seconds }}</td><td>{{ m.pod }}</td><td>{{ m.group }}</td>
<td>{{ m.what }}</td></tr>
{% endfor %}</table></details>{% endif %}
</div>""",
    "hpa": """\
<div class="rwk-live" data-view="hpa" data-final="{{ final }}">{{ style }}
<p><strong>HPA {{ name }}</strong>: {{ "done" if final else "watching" }},
<span class="rwk-seconds">{{ "%.1f" % seconds }}</span>
s{{ "" if final else " of at most %g" % limit }}</p>
{% set last = samples[-1] if samples else None %}
{% if last %}<p>cpu <strong>{{ last[1] if last[1] is not none else "?" }}%</strong> of a
{{ last[2] }}% target · replicas <strong>{{ last[3] }}</strong>, desired {{ last[4] }}</p>
{% endif %}
<table><tr><th>s</th><th>cpu %</th><th>target %</th><th>replicas</th><th>desired</th></tr>
{% for s in changes %}<tr><td>{{ s[0] }}</td><td>{{ s[1] if s[1] is not none else "?" }}</td>
<td>{{ s[2] }}</td><td>{{ s[3] }}</td><td>{{ s[4] }}</td></tr>
{% endfor %}</table></div>""",
    "namespace": """\
<div class="rwk-live" data-view="namespace" data-final="{{ final }}">{{ style }}
<p><strong>namespace {{ name }}</strong>: {{ "done" if final else "watching" }},
<span class="rwk-seconds">{{ "%.1f" % seconds }}</span>
s{{ "" if final else " of at most %g" % limit }}</p>
<table><tr><th>pod</th><th>phase</th><th>Ready</th><th>restarts</th><th>waiting</th></tr>
{% for pod in pods %}<tr><td>{{ pod.name }}</td><td>{{ pod.phase }}</td>
<td class="{{ 'ok' if pod.ready else 'no' }}">{{ "Ready" if pod.ready else "not Ready" }}</td>
<td>{{ pod.restarts }}</td><td>{{ pod.waiting }}</td></tr>
{% endfor %}</table>
<table><tr><th>Service</th><th>ready endpoints</th><th>not ready</th></tr>
{% for service, (ready, waiting) in services.items() %}<tr><td>{{ service }}</td>
<td>{{ ready | join(", ") or "-" }}</td><td>{{ waiting | join(", ") or "-" }}</td></tr>
{% endfor %}</table>
{% if final and timeline %}<details><summary>timeline ({{ timeline | length }} changes)</summary>
<table><tr><th>s</th><th>pod</th><th>what</th></tr>
{% for m in timeline %}<tr><td>{{ m.seconds }}</td><td>{{ m.pod }}</td><td>{{ m.what }}</td></tr>
{% endfor %}</table></details>{% endif %}
</div>""",
}


@functools.cache
def _template(view: str) -> jinja2.Template:
    return environment().from_string(_TEMPLATES[view])


def changes(samples: list[tuple]) -> list[tuple]:
    """The samples whose figures (all but the time) differ from the one before."""
    kept: list[tuple] = []
    for sample in samples:
        if not kept or sample[1:] != kept[-1][1:]:
            kept.append(sample)
    return kept


def _render(view: str, **values: Any) -> tuple[str, str]:
    """The view as HTML, and as the few text lines a terminal or nbconvert shows."""
    html = _template(view).render(style=_STYLE, changes=changes(values.get("samples", [])),
                                  **values)
    lines = [f"{view} {values['name']}: {'done' if values['final'] else 'watching'}, "
             f"{values['seconds']:.1f} s"]
    if view == "hpa":
        lines += [f"{s[0]:6.1f} s  cpu {s[1]}% of {s[2]}%  replicas {s[3]} (desired {s[4]})"
                  for s in changes(values["samples"])]
    else:
        lines += [f"{p.name}  {p.group}  {p.phase}  {'Ready' if p.ready else 'not Ready'}"
                  f"  restarts {p.restarts} {p.waiting}".rstrip() for p in values["pods"]]
    for service, (ready, waiting) in values.get("services", {}).items():
        lines.append(f"service {service}: ready {', '.join(ready) or '-'}; "
                     f"not ready {', '.join(waiting) or '-'}")
    return html, "\n".join(lines)
