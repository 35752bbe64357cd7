"""The sandbox backend: a real control plane without containers, run by kwokctl.

`kwokctl create cluster --runtime binary` starts etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, the kwok controller and metrics-server as local
processes. The sandbox then applies its Stages (sandbox_stages.yaml: what the simulated
kubelet and volume provisioner do), the `standard` StorageClass and its worker nodes.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import string
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import yaml

from ..errors import BackendError, PortInUse, StartFailed
from . import _proc, background, binaries
from .base import (Component, ClusterStatus, Kubectl, Progress, course_work,
                   gateway_api_status, install_gateway_api, read_status, reset_namespaces)
from .versions import Versions, load

HERE = Path(__file__).parent
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler",
              "kwok-controller", "metrics-server")
DEFAULT_PORT = 32443
WORKERS = 3
SANDBOX_GATEWAY_CONTROLLER = "rwk.example/sandbox"
"""The controllerName of the sandbox's GatewayClass. No controller serves it: the sandbox
writes the status one would (lesson 12 says so)."""
ONE_INSTANCE_FLAGS = {
    "kube-controller-manager": {"leader-elect": "false"},
    "kube-scheduler": {"leader-elect": "false"},
}
"""Every sandbox's: it runs one controller manager and one scheduler, so neither elects a
leader. Each would otherwise renew a Lease in kube-system every 2 s, an API write and an
etcd write, which is a fifth of what an idle sandbox burns (benchmarks/idle.py: 2.61 CPU
seconds a minute with leader election, 2.06 without). No lesson reads those Leases."""
SMALL_FLAGS = {
    "kube-apiserver": {"max-requests-inflight": "100", "max-mutating-requests-inflight": "50",
                       "profiling": "false"},
    "etcd": {"snapshot-count": "2000"},
    "kube-controller-manager": {"profiling": "false"},
    "kube-scheduler": {"profiling": "false"},
}
"""The components' own limits for a sandbox in a small container (Binder's 2 GB): the API
server serves at most 150 requests at once instead of 600 (each holds its objects in memory
while it is served), etcd keeps 2000 raft entries in memory before a snapshot instead of
10000, and no component serves profiles. None of it changes what a lesson sees."""
GRADING_FLAGS = {
    "kube-controller-manager": {"horizontal-pod-autoscaler-sync-period": "5s"},
    "metrics-server": {"metric-resolution": "10s", "kubelet-request-timeout": "5s"},
}
"""For the sandbox `rwk grade --submissions` starts for itself, which no learner watches: the
HPA syncs every 5 s instead of 15 s and metrics-server scrapes every 10 s (its minimum)
instead of 15 s (its scrape timeout must then be shorter: 5 s, for kwok's kubelets on this
machine), so a re-run notebook's wait for an HPA's first metrics (two scrapes, then
a sync) is shorter. What is graded is the same; only how soon it is there changes."""


def _flags_from_environment() -> dict[str, dict[str, str]]:
    """SMALL_FLAGS when $RWK_SANDBOX_MEMORY is "small" (binder/start sets it), else none."""
    return dict(SMALL_FLAGS) if os.environ.get("RWK_SANDBOX_MEMORY") == "small" else {}


def merged(*flag_sets: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Per component, the flags of every set; a later set wins on the same flag."""
    out: dict[str, dict[str, str]] = {}
    for flags in flag_sets:
        for component, values in flags.items():
            out[component] = {**out.get(component, {}), **values}
    return out


def _ms(text: str) -> int:
    """'1.5s', '800ms' or '2' (seconds) as milliseconds."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*(ms|s)?\s*", text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 2s or 800ms)")
    value, unit = float(match[1]), match[2] or "s"
    return int(value if unit == "ms" else value * 1000)


@dataclass
class Sandbox:
    """One named sandbox cluster and how to start, stop and inspect it."""

    name: str = field(default_factory=lambda: os.environ.get("RWK_SANDBOX_NAME", "rwk"))
    port: int = field(default_factory=lambda: int(os.environ.get("RWK_SANDBOX_PORT",
                                                                  DEFAULT_PORT)))
    """kube-apiserver port on 127.0.0.1; 0 picks a free one."""
    binary_source: str | None = None
    ready_delay: str = field(default_factory=lambda: os.environ.get("RWK_POD_READY_DELAY",
                                                                     "1s-2.5s"))
    """Start-to-Ready delay of pods: "2s" or a range "1s-2.5s" (uniform)."""
    kubeconfig: Path | None = None
    """Kubeconfig kwokctl merges the context into; None means kubectl's default."""
    flags: dict[str, dict[str, str]] = field(default_factory=_flags_from_environment)
    """Extra flags per component (kwokctl's component patches), e.g. SMALL_FLAGS. Given at
    creation: a stopped sandbox starts again with the flags it was created with."""
    runner: _proc.Runner = _proc.run
    backend_name: str = "sandbox"

    @property
    def context(self) -> str:
        return f"kwok-{self.name}"

    @property
    def workdir(self) -> Path:
        return Path(os.environ.get("KWOK_WORKDIR") or binaries.cache_dir() / "kwok")

    @property
    def cluster_dir(self) -> Path:
        return self.workdir / "clusters" / self.name

    def kubectl(self) -> Kubectl:
        kubectl = binaries.cached_path("kubectl", load().kubernetes)
        return Kubectl(self.context, self.kubeconfig,
                       binary=str(kubectl) if kubectl.is_file() else "kubectl",
                       runner=self.runner)

    def _env(self) -> dict[str, str]:
        env = {**os.environ, "KWOK_WORKDIR": str(self.workdir)}
        if self.kubeconfig:
            env["KUBECONFIG"] = str(self.kubeconfig)
        return env

    # --- up --------------------------------------------------------------------------------

    def up(self, say: Progress) -> None:
        """Start the sandbox, or leave a running one as it is; then make sure it is set up."""
        if started_elsewhere := background.running_elsewhere():
            # Binder's start is bringing it up: wait for that rather than start a second one.
            say(started_elsewhere.describe().split(". Run")[0] + "; waiting for it")
            done = background.wait(say)
            if done.exit_code != 0:
                say(done.describe().split(". Run")[0] + "; trying here")
        v = load()
        bins = binaries.ensure(self.binary_source, say, v)
        kubectl = self.kubectl()
        started = time.monotonic()
        if self.cluster_dir.is_dir():
            if kubectl.reachable():
                say(f"sandbox {self.name!r} is already running (context {self.context})")
                self._set_up_objects(kubectl, v, say)
                return
            self._restart(bins, say)
        else:
            self._create(bins, v, say)
        self._set_up_objects(kubectl, v, say)
        kubectl.wait_nodes_ready(WORKERS, timeout=60, say=say)
        _offer_kubectl(bins["kubectl"], say)
        say(f"sandbox {self.name!r} is up in {time.monotonic() - started:.1f}s: "
            f"Kubernetes v{v.kubernetes}, {WORKERS} worker nodes, context {self.context}")

    def _create(self, bins: binaries.BinarySet, v: Versions, say: Progress) -> None:
        port = self.port or _proc.free_port()
        if _proc.port_in_use(port):
            raise PortInUse(
                f"port {port} (the sandbox's kube-apiserver) is already in use by another "
                f"process. Stop it (`ss -ltnp 'sport = :{port}'` shows which), or choose "
                f"another port: RWK_SANDBOX_PORT=32444 rwk up")
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / f"{self.name}-kwokctl.yaml"
        say(f"starting the sandbox control plane (etcd, kube-apiserver, controller-manager, "
            f"scheduler, kwok, metrics-server) on port {port}")
        for attempt in (1, 2, 3):
            config.write_text(self.kwokctl_config(bins, v, port))
            result = self._kwokctl(bins, "create", "cluster", "--name", self.name,
                                   "--config", str(config), "--wait", "90s", timeout=180)
            dead = self._dead_components() if result.ok else []
            if result.ok and not dead:
                return
            if not self._lost_a_port_race() or attempt == 3:
                break
            # Another process took one of the ports between our pick and the bind: at once
            # (kwokctl create fails) or a moment later (a component exits after the create).
            say("a port was taken while the sandbox started; retrying with other ports")
            self._kwokctl(bins, "delete", "cluster", "--name", self.name)
        if result.ok:
            self._verify_components(bins, say, dead)
            return
        said = result.output.strip().splitlines()[-1] if result.output.strip() else "?"
        self._abort(bins, self._failed_component(result.output),
                    f"kwokctl create failed; it said: {said}")

    def _lost_a_port_race(self) -> bool:
        logs = self.cluster_dir / "logs"
        return any("address already in use" in self._log_tail(log, 30)
                   for log in logs.glob("*.log")) if logs.is_dir() else False

    def _restart(self, bins: binaries.BinarySet, say: Progress) -> None:
        """Start a stopped (or killed) sandbox again with kwokctl, keeping its state.

        Never deletes it, even when it fails: it holds the learner's work (`rwk down` may,
        when asked). A component that exits right after starting (metrics-server gives up
        when the API server is slow to answer) is started once more."""
        say(f"restarting the stopped sandbox {self.name!r}")
        keep = (f"Its state is kept in {self.cluster_dir} (logs in its logs/ folder): `rwk up` "
                "tries again, and `rwk down` then `rwk up` starts afresh, losing the work in it.")
        for attempt in (1, 2):
            self._clear_stale_pids()
            result = self._kwokctl(bins, "start", "cluster", "--name", self.name,
                                   "--wait", "60s")
            if not result.ok:
                said = result.output.strip().splitlines()[-1] if result.output.strip() else "?"
                raise StartFailed(f"the stopped sandbox {self.name!r} did not start again: "
                                  f"kwokctl start said: {said}. {keep}")
            dead = self._dead_components()
            if not dead:
                return
            if attempt == 1:
                say(f"{', '.join(dead)} exited right after starting; starting it again")
        raise StartFailed(f"the sandbox {self.name!r} restarted, but {', '.join(dead)} exited "
                          f"right after starting, twice. {keep}")

    def _dead_components(self) -> list[str]:
        """The components not running a moment after a start."""
        time.sleep(0.5)
        pids = self.pids()
        return [name for name in COMPONENTS if name not in pids or not _alive(pids[name])]

    def _verify_components(self, bins: binaries.BinarySet, say: Progress,
                           dead: list[str]) -> None:
        """Every component must still run a moment after start. One that exited (metrics-server
        panics when the API server refuses its first connection, seen on a loaded machine)
        is started once more; a second exit removes the cluster, saying which."""
        if not dead:
            return
        say(f"{', '.join(dead)} exited right after starting; starting it again")
        self._clear_stale_pids()
        self._kwokctl(bins, "start", "cluster", "--name", self.name, "--wait", "60s")
        if dead := self._dead_components():
            self._abort(bins, dead[0], f"{', '.join(dead)} exited right after starting, twice")

    def _abort(self, bins: binaries.BinarySet, component: str, summary: str) -> None:
        """Remove a half-started cluster, keeping the failed component's log; raise."""
        where = f"logs were in {self.cluster_dir / 'logs'} (removed with the cluster)"
        if component:
            tail = self._log_tail(self.cluster_dir / "logs" / f"{component}.log")
            kept = binaries.cache_dir() / "logs" / f"sandbox-{self.name}-{component}.log"
            kept.parent.mkdir(parents=True, exist_ok=True)
            kept.write_text(tail + "\n")
            where = f"{component} failed; the end of its log (kept in {kept}):\n{tail}"
        self._kwokctl(bins, "delete", "cluster", "--name", self.name)
        raise StartFailed(f"the sandbox did not start: {summary}.\n{where}\n"
                          "The half-started cluster was removed; fix the cause and run "
                          "`rwk up` again.")

    def kwokctl_config(self, bins: binaries.BinarySet, v: Versions, port: int) -> str:
        """The KwokctlConfiguration: binary runtime, our binaries, Stages as objects."""
        options = {
            "runtime": "binary",
            "kubeVersion": f"v{v.kubernetes}",
            "etcdVersion": v.etcd,
            "kwokVersion": f"v{v.kwok}",
            "metricsServerVersion": f"v{v.metrics_server}",
            "kubeApiserverPort": port,
            # Every other port is picked by the kernel: kwokctl's own choice counts down from
            # 32767 and two sandboxes starting at once (parallel test workers) would collide.
            **{option: _proc.free_port() for option in (
                "etcdPort", "etcdPeerPort", "kubeControllerManagerPort", "kubeSchedulerPort",
                "kwokControllerPort", "metricsServerPort")},
            "enableMetricsServer": True,
            "enableCRDs": ["Stage"],
            "kubeApiserverBinary": str(bins["kube-apiserver"]),
            "kubeControllerManagerBinary": str(bins["kube-controller-manager"]),
            "kubeSchedulerBinary": str(bins["kube-scheduler"]),
            "kubectlBinary": str(bins["kubectl"]),
            "etcdBinary": str(bins["etcd"]),
            "kwokControllerBinary": str(bins["kwok"]),
            "metricsServerBinary": str(bins["metrics-server"]),
            "metricsServerManifests": [str(binaries.metrics_manifest_dir(v))],
            "cacheDir": str(binaries.cache_dir() / "kwok-cache"),
        }
        config: dict = {"apiVersion": "config.kwok.x-k8s.io/v1alpha1",
                        "kind": "KwokctlConfiguration", "options": options}
        config["componentsPatches"] = [
            {"name": component, "extraArgs": [{"key": key, "value": value}
                                              for key, value in flags.items()]}
            for component, flags in merged(ONE_INSTANCE_FLAGS, self.flags).items()]
        return yaml.safe_dump(config, sort_keys=False)

    def stages_manifest(self, v: Versions) -> str:
        """sandbox_stages.yaml with the versions and the pod-ready delay filled in."""
        low, _, high = self.ready_delay.partition("-")
        low_ms = _ms(low)
        high_ms = _ms(high) if high else low_ms
        # safe_substitute: the Go templates inside the stages use $names of their own.
        template = string.Template((HERE / "sandbox_stages.yaml").read_text())
        return template.safe_substitute(kwok_version=v.kwok, kubernetes_version=v.kubernetes,
                                        ready_delay_ms=low_ms,
                                        ready_jitter_ms=max(high_ms, low_ms))

    def nodes_manifest(self) -> str:
        template = string.Template((HERE / "sandbox_node.yaml").read_text())
        return "\n---\n".join(
            template.substitute(name=f"worker-{i}", index=i, cpu=4, memory="8Gi",
                                zone=f"zone-{'abc'[(i - 1) % 3]}")
            for i in range(1, WORKERS + 1))

    def _set_up_objects(self, kubectl: Kubectl, v: Versions, say: Progress) -> None:
        # Stages first, so the nodes are started by them as soon as they exist.
        kubectl.apply(self.stages_manifest(v), "the sandbox's kwok Stages")
        kubectl.apply((HERE / "sandbox_cluster.yaml").read_text(),
                      "the standard StorageClass and the nginx IngressClass")
        kubectl.apply(self.nodes_manifest(), "the worker nodes")
        install_gateway_api(kubectl, binaries.gateway_crds(v), SANDBOX_GATEWAY_CONTROLLER, say)
        # After the CRDs: kwok watches a kind once a Stage names it, and it must exist then.
        kubectl.apply((HERE / "sandbox_gateway_stages.yaml").read_text(),
                      "the sandbox's Gateway API Stages")

    def _kwokctl(self, bins: binaries.BinarySet, *args: str, timeout: float = 120) -> _proc.Result:
        return self.runner([str(bins["kwokctl"]), *args], env=self._env(), timeout=timeout)

    @staticmethod
    def _failed_component(output: str) -> str:
        for line in reversed(output.splitlines()):
            for name in COMPONENTS:
                if name in line and re.search(r"fail|error|not ready|timeout", line, re.I):
                    return name
        return ""

    @staticmethod
    def _log_tail(path: Path, lines: int = 10) -> str:
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return f"(no log at {path})"

    # --- stop, down, status, reset -----------------------------------------------------

    def stop(self, say: Progress) -> None:
        """Stop every sandbox process through kwokctl and keep the cluster's state (etcd's
        data, the config, the certificates): `up` starts it again as it was."""
        if not self.cluster_dir.is_dir():
            say(f"no sandbox named {self.name!r} is present; nothing to stop")
            return
        pids = self.pids()
        if not any(_alive(pid) for pid in pids.values()):
            say(f"sandbox {self.name!r} is already stopped; `rwk up` starts it again")
            return
        kwokctl = binaries.cached_path("kwokctl", load().kwok)
        result = self.runner([str(kwokctl), "stop", "cluster", "--name", self.name],
                             env=self._env(), timeout=120)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        running = [f"{name} (pid {pid})" for name, pid in pids.items() if _alive(pid)]
        if running or not result.ok:
            raise BackendError(f"kwokctl could not stop sandbox {self.name!r}: "
                               f"{result.output or 'no output'}"
                               + (f"; still running: {', '.join(running)}" if running else "")
                               + ". `rwk down` deletes it instead (and the work in it).")
        say(f"sandbox {self.name!r} stopped; its state is kept in {self.cluster_dir}, and "
            "`rwk up` starts it again as it was")

    def work(self) -> list[str]:
        """What `down` would delete that a learner made: one line per namespace."""
        if not self.cluster_dir.is_dir():
            return []
        kubectl = self.kubectl()
        if not kubectl.reachable():
            return [f"everything in the stopped sandbox {self.name!r} (it cannot be read "
                    "while stopped; `rwk up` starts it, to look)"]
        return course_work(kubectl)

    def down(self, say: Progress) -> None:
        """Stop every sandbox process and remove the cluster's files and context."""
        if not self.cluster_dir.is_dir():
            say(f"no sandbox named {self.name!r} is present; nothing to stop")
            return
        pids = self.pids()
        kwokctl = binaries.cached_path("kwokctl", load().kwok)
        result = self.runner([str(kwokctl), "delete", "cluster", "--name", self.name],
                             env=self._env(), timeout=120)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        for component, pid in pids.items():   # belt and braces: nothing may outlive `down`
            if _alive(pid):
                say(f"{component} (pid {pid}) still running after kwokctl; stopping it")
                os.kill(pid, signal.SIGKILL)
        if not result.ok:
            say(f"kwokctl delete reported: {result.output}")
        say(f"sandbox {self.name!r} stopped and removed")

    def _clear_stale_pids(self) -> None:
        """Remove the pid files of components that no longer run (killed, or a reboot), so
        `kwokctl start` starts them: it takes any process with that pid, an unreaped zombie
        or a stranger that reuses the number after a reboot, for the component itself."""
        for pid_file in (self.cluster_dir / "pids").glob("*.pid"):
            try:
                pid = int(pid_file.read_text().strip())
                ours = _alive(pid) and str(self.cluster_dir) in " ".join(
                    psutil.Process(pid).cmdline())
            except (OSError, ValueError, psutil.Error):
                ours = False
            if not ours:
                pid_file.unlink(missing_ok=True)

    def pids(self) -> dict[str, int]:
        """Component name to process id, from kwokctl's pid files."""
        found = {}
        for pid_file in (self.cluster_dir / "pids").glob("*.pid"):
            try:
                found[pid_file.stem] = int(pid_file.read_text().strip())
            except (OSError, ValueError):
                continue
        return found

    def status(self) -> ClusterStatus:
        kubectl = self.kubectl()
        # While the background `rwk up` runs, the API server may already answer before the
        # nodes exist (the Binder rehearsal saw "0/0 Ready"): still starting, until it ends.
        if (started := background.state()) and (started.running or (
                started.exit_code != 0
                and not (self.cluster_dir.is_dir() and kubectl.reachable()))):
            return ClusterStatus(self.backend_name, self.context, False,
                                 note=started.describe())
        if not self.cluster_dir.is_dir():
            return ClusterStatus(self.backend_name, self.context, False,
                                 note="no sandbox exists; run `rwk up`")
        processes = tuple(
            Component(name, _alive(pid), f"pid {pid}" if _alive(pid) else
                      f"not running; log: {self.cluster_dir / 'logs' / (name + '.log')}")
            for name, pid in sorted(self.pids().items()))
        status = read_status(self.backend_name, kubectl, processes)
        if not status.reachable:
            return status
        return dataclasses.replace(status, components=(*status.components,
                                                        gateway_api_status(kubectl)))

    def reset(self, say: Progress) -> list[str]:
        return reset_namespaces(self.kubectl(), owned_cluster=True, say=say)


def _offer_kubectl(kubectl: Path, say: Progress) -> None:
    """Put the sandbox's kubectl on the virtual environment's PATH when none is installed."""
    if shutil.which("kubectl") or sys.prefix == sys.base_prefix:
        return
    link = Path(sys.prefix) / "bin" / "kubectl"
    if not link.exists():
        link.symlink_to(kubectl)
        say(f"no kubectl was installed; linked the sandbox's kubectl v{load().kubernetes} "
            f"as {link}")


def _alive(pid: int) -> bool:
    """True while any thread of the process runs.

    A zombie main thread does not mean the process is gone: a Go program that is shutting
    down keeps its other threads, and its listening sockets, until they finish. Where no
    init process reaps orphans (some containers), a finished process stays a zombie, and
    that counts as gone. (psutil lists the threads of a process whose main thread is a
    zombie, and gives each thread's own state.)
    """
    try:
        threads = psutil.Process(pid).threads()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
    for thread in threads:
        try:
            if psutil.Process(thread.id).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
                return True
        except psutil.NoSuchProcess:
            continue
        except psutil.AccessDenied:
            return True
    return False
