"""The course's podinfo stand-in (checker/clusters/images/podinfo), a Go program the kind node
image carries under podinfo's name: its own Go tests, and what it does on SIGTERM, which a
rolling update behind the Ingress depends on. It must go on answering requests for a few
seconds with failing probes, as the real podinfo does, so that the Ingress controller drops
the pod before its address vanishes; a pod that stopped listening at once left requests
hanging on a dead address during every rollout."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[3] / "checker/clusters/images/podinfo"

GO = shutil.which("go")
pytestmark = pytest.mark.skipif(GO is None and os.environ.get("CI") != "true",
                                reason="no Go toolchain here to build the stand-in")


GO_ENV = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}


def test_its_go_tests_pass() -> None:
    done = subprocess.run([GO or "go", "test", "./..."], cwd=SOURCE, env=GO_ENV,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("podinfo") / "podinfo"
    done = subprocess.run([GO or "go", "build", "-o", str(out), "."], cwd=SOURCE,
                          env=GO_ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out


def started(binary: Path, *args: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([str(binary), "--port", str(port), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    end = time.monotonic() + 10
    while time.monotonic() < end:
        try:
            if status(base + "/readyz") == 200:
                return process, base
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("the stand-in did not answer /readyz within 10 s")


def test_sigterm_keeps_serving_with_failing_probes_then_exits(binary: Path) -> None:
    process, base = started(binary)
    try:
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert process.poll() is None, "exited at once on SIGTERM"
        assert status(base + "/") == 200
        assert status(base + "/readyz") == 503
        assert status(base + "/healthz") == 503
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
    log = process.stdout.read().decode()
    assert "still serving while load balancers drop this pod" in log, log


def test_at_log_level_debug_sigterm_stops_at_once(binary: Path) -> None:
    process, base = started(binary, "--level", "debug")
    try:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=2) == 0
    finally:
        process.kill()
        process.stdout.close()
