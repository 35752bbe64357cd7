"""The Binder image, rehearsed with real Docker as mybinder.org builds and runs it: a clone of
the repository built by `jupyter-repo2docker --no-run` (which must take binder/Dockerfile,
and runs `docker buildx build` on it), built again after a commit that changes only a
notebook (every step before the repository's copy must come from the cache: the build's log
says so, step by step), then run with mybinder.org's limits (`--memory 2g --cpus 1`, uid
1000, a token, JupyterLab's command after the entrypoint): /api answers, three nodes turn
Ready (both timed and printed: benchmarks/binder.py measures them alone against the targets,
10 s and 60 s), lessons 00 and 02 and exercise 02's solution run in the container,
`rwk check configmaps` passes, the sandbox runs with its small limits, and the container's
peak memory (its cgroup's) stays under 1.5 GB.

What a machine of this project's cannot download, scripts/binder_stand_ins.py builds first
and the test says so: the image the Dockerfile starts FROM (from Debian's packages) and
Docker's buildx plugin (from its Go module). Needs root and a Docker daemon (CI starts one);
the first build compiles the sandbox's binaries from Go modules (about 9 minutes here),
later ones reuse BuildKit's cache.
"""

from __future__ import annotations

import json
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

from checker.clusters.sandbox import SMALL_FLAGS

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import binder_stand_ins  # noqa: E402

IMAGE = "rwk-binder:rehearsal"
"""The image the rehearsal runs, built after the notebook-only commit; the first build is
tagged IMAGE + "-first" and removed after the second (they share every layer before the
copy)."""
CONTAINER = "rwk-binder-rehearsal"

pytestmark = [pytest.mark.cluster, pytest.mark.cost(900)]


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
    print(f"\n[binder] stand-ins, as no registry answers here: "
          f"{binder_stand_ins.build(lambda line: print(f'[binder] {line}'))} from Debian's "
          "packages; docker-buildx from its Go module")
    return folder


def build(folder: Path, image: str) -> tuple[float, str]:
    """repo2docker's build of `folder` into `image`, as mybinder.org's builders run it (each
    commit its own image name: repo2docker builds nothing when the name exists); its log."""
    docker("rmi", image, check=False)
    config = binder_stand_ins.docker_config(lambda line: print(f"[binder] {line}"))
    began = time.monotonic()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter-repo2docker")), "--no-run",
         "--user-id", "1000", "--user-name", "jovyan", "--image-name", image, str(folder)],
        capture_output=True, text=True, timeout=1800,
        env={**os.environ, "DOCKER_CONFIG": str(config)})
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"repo2docker failed:\n{log[-4000:]}"
    assert "Using DockerBuildPack builder" in log, "repo2docker did not take binder/Dockerfile"
    return time.monotonic() - began, log


def steps(log: str) -> list[tuple[str, str, bool]]:
    """(stage, instruction, from the cache) of each step BuildKit's plain log names, in
    the order of the Dockerfile within each stage."""
    named: dict[str, tuple[str, int, str]] = {}
    cached: set[str] = set()
    for line in log.splitlines():
        step = re.match(r"^#(\d+) \[(\S+)\s+(\d+)/\d+\] (.*)$", line)
        if step and step[1] not in named:
            named[step[1]] = (step[2], int(step[3]), step[4])
        elif re.match(r"^#(\d+) CACHED$", line):
            cached.add(line.split()[0][1:])
    ordered = sorted(named.items(), key=lambda item: (item[1][0], item[1][1]))
    return [(stage, instruction, number in cached)
            for number, (stage, _, instruction) in ordered]


def test_a_notebook_only_commit_rebuilds_from_the_cache_then_the_image_serves_a_session(
        clone: Path) -> None:
    first, _ = build(clone, f"{IMAGE}-first")
    notebook = clone / "lessons" / "02-configmaps.ipynb"
    # A change no earlier build can have seen: BuildKit keys the copy on the files' content,
    # so a fixed edit would come from the cache of another rehearsal of the same commit.
    content = json.loads(notebook.read_text())
    content["metadata"]["rwk_rehearsal"] = secrets.token_hex(8)
    notebook.write_text(json.dumps(content, indent=1) + "\n")
    subprocess.run(["git", "-c", "user.name=rehearsal", "-c", "user.email=r@example.invalid",
                    "commit", "--quiet", "-am", "a notebook-only change"], cwd=clone, check=True)
    second, log = build(clone, IMAGE)
    docker("rmi", f"{IMAGE}-first", check=False)
    ran = steps(log)
    copy = next(i for i, (stage, instruction, _) in enumerate(ran)
                if stage != "binaries" and re.match(r"COPY --chown=1000 \. /home/jovyan$", instruction))
    before = [(stage, instruction, cached) for stage, instruction, cached in ran[:copy]
              if not instruction.startswith("FROM ")]      # a FROM is never "from the cache"
    assert any(stage == "binaries" and instruction.startswith("RUN ")
               for stage, instruction, _ in before), ran  # the binaries' stage was looked at
    assert before and all(cached for *_, cached in before), \
        [step for step in before if not step[2]]
    assert not ran[copy][2], "the repository's copy came from the cache after a change"
    size = int(docker("image", "inspect", "-f", "{{.Size}}", IMAGE).stdout)
    print(f"[binder] build {first:.0f} s, rebuild after a notebook-only commit {second:.1f} s, "
          f"image {size / 1e9:.2f} GB")

    token = secrets.token_hex(16)
    docker("rm", "-f", CONTAINER, check=False)
    began = time.monotonic()
    docker("run", "-d", "--name", CONTAINER, "--memory", "2g", "--cpus", "1", "--user", "1000",
           "-p", "127.0.0.1::8888", IMAGE, "jupyter", "lab", "--ip=0.0.0.0", "--port=8888",
           "--no-browser", f"--IdentityProvider.token={token}")
    try:
        port = docker("port", CONTAINER, "8888").stdout.split(":")[-1].strip()
        # What mybinder.org asks of the image: the notebook user, owning its home and the
        # repository in it.
        owner = docker("exec", CONTAINER, "stat", "-c", "%u %U", "/home/jovyan",
                       "/home/jovyan/lessons/00-setup.ipynb").stdout.split("\n")
        assert owner[:2] == ["1000 jovyan", "1000 jovyan"], owner
        # The targets (the rebuild within 60 s, /api within 10 s, three Ready nodes
        # within 60 s) are figures, printed here and measured alone by benchmarks/binder.py:
        # inside the suite the container shares two cores with five workers and a kind
        # cluster (CI run 11: /api 24 s, Ready 44 s; 2.2 s and 8.4 s alone). The test
        # fails only when the session never comes up, as a launch would time out.
        api = _until(lambda: _answers(f"http://127.0.0.1:{port}/api", token), 120) - began
        ready = _until(lambda: _ready_nodes() >= 3, 240) - began
        print(f"[binder] /api {api:.1f} s, three Ready nodes {ready:.1f} s")
        for notebook in ("lessons/00-setup.ipynb", "lessons/02-configmaps.ipynb",
                         "solutions/02-configmaps.ipynb"):
            done = docker("exec", CONTAINER, "papermill", "--log-level", "WARNING", notebook,
                          f"/tmp/{Path(notebook).name}", check=False, timeout=600)
            assert done.returncode == 0, f"{notebook}:\n{done.stderr[-3000:]}"
        graded = docker("exec", CONTAINER, "rwk", "check", "configmaps", check=False)
        assert graded.returncode == 0, graded.stdout
        cid = docker("inspect", "-f", "{{.Id}}", CONTAINER).stdout.strip()
        memory = Path(f"/sys/fs/cgroup/memory/docker/{cid}")
        # binder/start's RWK_SANDBOX_MEMORY=small reached every component it limits.
        assert _component_flags(memory) == {
            component: sorted(f"{key}={value}" for key, value in flags.items())
            for component, flags in SMALL_FLAGS.items()}
        peak = int((memory / "memory.max_usage_in_bytes").read_text())
        print(f"[binder] peak memory {peak / 1e6:.0f} MB")
        assert peak < 1.5e9
        assert "oom_kill 0" in (memory / "memory.oom_control").read_text()
    finally:
        docker("rm", "-f", CONTAINER, check=False)


def _component_flags(cgroup: Path) -> dict[str, list[str]]:
    """For each component of SMALL_FLAGS running in the container's cgroup, those of its
    small flags its command line has."""
    found: dict[str, list[str]] = {}
    for pid in (cgroup / "cgroup.procs").read_text().split():
        try:
            args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        program = Path(args[0]).name.rsplit("-v", 1)[0]
        if program in SMALL_FLAGS:
            found[program] = sorted(f"{key}={value}" for key, value in SMALL_FLAGS[program].items()
                                    if f"--{key}={value}" in args)
    return found


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
