"""The Binder image, rehearsed with real Docker: binder/Dockerfile built from a clone of the
repository, rebuilt after a commit that changes only a notebook (every layer before the
repository's copy must come from the cache), then run as mybinder.org runs it (`--memory 2g
--cpus 1`, uid 1000, a token, JupyterLab's command after the entrypoint): /api within 10 s,
three Ready nodes within 60 s, lessons 00 and 02 and exercise 02's solution run in the
container, `rwk check configmaps` passes, and the container's peak memory stays under 1.5 GB.

The images the Dockerfile starts FROM cannot be pulled here: scripts/binder_stand_ins.py
builds stand-ins under the same names from Debian's packages first, and says so.
Needs root and a Docker daemon (CI starts one); the first build compiles the sandbox's
binaries from Go modules (about 9 minutes here), later ones reuse Docker's cache.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IMAGE = "rwk-binder:rehearsal"
CONTAINER = "rwk-binder-rehearsal"

pytestmark = [pytest.mark.cluster, pytest.mark.cost(700)]


def docker(*args: str, timeout: float = 1800, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert done.returncode == 0, f"docker {' '.join(args[:3])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("docker") is None or docker("info", check=False).returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must rehearse the Binder image, and no Docker daemon answers")
        pytest.skip("no Docker daemon answers here")
    folder = tmp_path_factory.mktemp("binder") / "repo"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(folder)], check=True)
    for path in subprocess.run(["git", "ls-files", "--others", "--modified", "--exclude-standard"],
                               cwd=REPO, capture_output=True, text=True).stdout.split():
        if (REPO / path).is_file():              # the working tree as it is, uncommitted too
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / path, folder / path)
    stand_ins = subprocess.run([sys.executable, str(REPO / "scripts/binder_stand_ins.py")],
                               capture_output=True, text=True, timeout=900)
    assert stand_ins.returncode == 0, stand_ins.stderr
    print(f"\n[binder] stand-ins built from Debian's packages: {stand_ins.stdout.split()}")
    return folder


def build(folder: Path) -> tuple[float, str]:
    began = time.monotonic()
    done = docker("build", "-f", "binder/Dockerfile", "-t", IMAGE, str(folder))
    return time.monotonic() - began, done.stdout


def steps(log: str) -> list[tuple[str, bool]]:
    """(instruction, from the cache) of each step of the last stage a classic build ran."""
    found = []
    for block in re.split(r"^Step \d+/\d+ : ", log, flags=re.M)[1:]:
        instruction = block.splitlines()[0]
        found.append((instruction, "Using cache" in block))
    return found


def test_a_notebook_only_commit_rebuilds_from_the_cache_then_the_image_serves_a_session(
        clone: Path) -> None:
    first, _ = build(clone)
    notebook = clone / "lessons" / "02-configmaps.ipynb"
    notebook.write_text(notebook.read_text().replace("ConfigMap", "ConfigMap", 1) + "\n")
    subprocess.run(["git", "-c", "user.name=rehearsal", "-c", "user.email=r@example.invalid",
                    "commit", "--quiet", "-am", "a notebook-only change"], cwd=clone, check=True)
    second, log = build(clone)
    ran = steps(log)
    copy = next(i for i, (instruction, _) in enumerate(ran) if instruction.startswith("COPY --chown=${NB_UID} . "))
    before = [(instruction, cached) for instruction, cached in ran[:copy]
              if not instruction.startswith("FROM ")]      # a FROM is never "from the cache"
    assert before and all(cached for _, cached in before), before
    assert not ran[copy][1], "the repository's copy came from the cache after a change"
    print(f"[binder] build {first:.0f} s, rebuild after a notebook-only commit {second:.1f} s")
    assert second <= 60

    token = secrets.token_hex(16)
    docker("rm", "-f", CONTAINER, check=False)
    began = time.monotonic()
    docker("run", "-d", "--name", CONTAINER, "--memory", "2g", "--cpus", "1", "--user", "1000",
           "-p", "127.0.0.1::8888", IMAGE, "jupyter", "lab", "--ip=0.0.0.0", "--port=8888",
           "--no-browser", f"--IdentityProvider.token={token}")
    try:
        port = docker("port", CONTAINER, "8888").stdout.split(":")[-1].strip()
        api = _until(lambda: _answers(f"http://127.0.0.1:{port}/api", token), 30) - began
        ready = _until(lambda: _ready_nodes() >= 3, 120) - began
        print(f"[binder] /api {api:.1f} s, three Ready nodes {ready:.1f} s")
        assert api <= 10
        assert ready <= 60
        for notebook in ("lessons/00-setup.ipynb", "lessons/02-configmaps.ipynb",
                         "solutions/02-configmaps.ipynb"):
            done = docker("exec", CONTAINER, "papermill", "--log-level", "WARNING", notebook,
                          f"/tmp/{Path(notebook).name}", check=False, timeout=600)
            assert done.returncode == 0, f"{notebook}:\n{done.stderr[-3000:]}"
        graded = docker("exec", CONTAINER, "rwk", "check", "configmaps", check=False)
        assert graded.returncode == 0, graded.stdout
        cid = docker("inspect", "-f", "{{.Id}}", CONTAINER).stdout.strip()
        memory = Path(f"/sys/fs/cgroup/memory/docker/{cid}")
        peak = int((memory / "memory.max_usage_in_bytes").read_text())
        print(f"[binder] peak memory {peak / 1e6:.0f} MB")
        assert peak < 1.5e9
        assert "oom_kill 0" in (memory / "memory.oom_control").read_text()
    finally:
        docker("rm", "-f", CONTAINER, check=False)


def _answers(url: str, token: str) -> bool:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def _ready_nodes() -> int:
    done = docker("exec", CONTAINER, "kubectl", "get", "nodes", "--no-headers", check=False,
                  timeout=30)
    return sum(" Ready " in f" {line} " for line in done.stdout.splitlines())


def _until(condition, limit: float) -> float:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if condition():
            return time.monotonic()
        time.sleep(0.2)
    raise AssertionError(f"not within {limit:g} s")
