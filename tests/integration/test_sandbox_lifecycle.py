"""Starting, restarting and stopping the sandbox, and how `rwk` fails when it cannot."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import psutil
import pytest

from checker.clusters import binaries
from checker.clusters.sandbox import COMPONENTS, Sandbox
from checker.errors import PortInUse, StartFailed

pytestmark = pytest.mark.cluster


def _say(message: str) -> None:
    print(f"[lifecycle] {message}", flush=True)


def listening_ports(pids: dict[str, int]) -> dict[int, str]:
    ports = {}
    for name, pid in pids.items():
        for conn in psutil.Process(pid).net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN:
                ports[conn.laddr.port] = name
    return ports


def test_up_twice_is_harmless_and_down_leaves_nothing_behind(tmp_path):
    box = Sandbox(name="rwk-life", port=0, kubeconfig=tmp_path / "kubeconfig")
    box.up(_say)
    try:
        pids = box.pids()
        assert sorted(pids) == sorted(COMPONENTS)
        ports = listening_ports(pids)
        assert len(ports) >= len(COMPONENTS), ports

        box.up(_say)                                   # second `up`: same cluster, same pids
        assert box.pids() == pids
        assert box.status().healthy

        kubectl = box.kubectl()
        for name in ("production", "lesson-01"):
            assert kubectl("create", "namespace", name).ok
        removed = box.reset(_say)
        assert sorted(removed) == ["lesson-01", "production"]
        left = kubectl("get", "namespaces", "-o", "name").stdout.split()
        assert "namespace/production" not in left and "namespace/kube-system" in left
        assert len(kubectl("get", "nodes", "-o", "name").stdout.split()) == 3   # cluster kept
    finally:
        box.down(_say)

    assert not box.cluster_dir.exists()
    alive = [name for name, pid in pids.items() if psutil.pid_exists(pid)
             and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
    assert alive == [], f"still running after down: {alive}"
    for port, name in ports.items():
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"{name} still on port {port}"


def test_port_in_use_is_named(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        box = Sandbox(name="rwk-port", port=port, kubeconfig=tmp_path / "kubeconfig")
        with pytest.raises(PortInUse) as error:
            box.up(_say)
    assert str(port) in str(error.value)
    assert "RWK_SANDBOX_PORT" in str(error.value)
    assert not box.cluster_dir.exists()


def test_half_started_sandbox_is_cleaned_up_and_names_the_component(tmp_path, monkeypatch):
    """A kube-scheduler that dies at start: the error names it and its log; nothing stays."""
    real = binaries.cache_dir()
    fake_cache = tmp_path / "cache"
    (fake_cache / "bin").mkdir(parents=True)
    for path in (real / "bin").iterdir():
        if path.is_file():
            (fake_cache / "bin" / path.name).symlink_to(path)
    (fake_cache / "manifests").symlink_to(real / "manifests")
    version = binaries.load().kubernetes
    broken = fake_cache / "bin" / f"kube-scheduler-v{version}"
    broken.unlink()
    broken.write_text("#!/bin/sh\n"
                      f'case "$1" in --version) echo "Kubernetes v{version}"; exit 0;; esac\n'
                      'echo "simulated failure: cannot bind scheduler" >&2\nexit 1\n')
    broken.chmod(0o755)
    monkeypatch.setenv("RWK_CACHE_DIR", str(fake_cache))
    monkeypatch.setenv("KWOK_WORKDIR", str(tmp_path / "kwok"))

    box = Sandbox(name="rwk-broken", port=0, kubeconfig=tmp_path / "kubeconfig")
    with pytest.raises(StartFailed) as error:
        box.up(_say)
    message = str(error.value)
    assert "kube-scheduler" in message
    assert "simulated failure" in message
    kept = fake_cache / "logs" / "sandbox-rwk-broken-kube-scheduler.log"
    assert kept.is_file() and str(kept) in message
    assert not box.cluster_dir.exists()
    leftovers = [p.info["name"] for p in psutil.process_iter(["name", "cmdline"])
                 if str(tmp_path / "kwok") in " ".join(p.info["cmdline"] or [])]
    assert leftovers == []


def rwk(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "checker.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


def test_cli_kind_without_docker_says_what_to_do(tmp_path):
    done = rwk("up", "--backend", "kind", env={"PATH": f"{tmp_path}:/usr/bin:/bin",
                                                "RWK_CACHE_DIR": str(tmp_path)})
    assert done.returncode == 1
    assert "kind" in done.stderr and "--backend sandbox" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_unknown_backend_exits_2():
    done = rwk("up", "--backend", "minikube")
    assert done.returncode == 2
    assert "invalid choice: 'minikube'" in done.stderr


def test_cli_status_of_a_stopped_sandbox(tmp_path):
    done = rwk("status", "--backend", "sandbox",
               env={"RWK_CACHE_DIR": str(tmp_path), "KWOK_WORKDIR": str(tmp_path / "kwok")})
    assert done.returncode == 1
    assert "not reachable" in done.stdout and "rwk up" in done.stdout
