"""versions.toml is the one source of versions: everything that repeats one must agree with it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from checker.clusters.binaries import GOBUILD_DIR
from checker.clusters.versions import VERSIONS_FILE, load

V = load()
REPO = Path(__file__).resolve().parents[3]
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def _release(version: str) -> tuple[int, int, int]:
    match = SEMVER.match(version)
    assert match, f"{version!r} is not a MAJOR.MINOR.PATCH release"
    return tuple(int(part) for part in match.groups())  # type: ignore[return-value]


def _go_mod(name: str) -> str:
    return (GOBUILD_DIR / name / "go.mod").read_text()


def _requires(go_mod: str) -> dict[str, str]:
    """module -> version for every require, in blocks or single lines."""
    found: dict[str, str] = {}
    in_block = False
    for raw in go_mod.splitlines():
        line = raw.split("//", 1)[0].strip()
        if line == "require (":
            in_block = True
            continue
        if in_block and line == ")":
            in_block = False
            continue
        if line.startswith("require ") and not line.endswith("("):
            line = line[len("require "):]
        elif not in_block:
            continue
        fields = line.split()
        if len(fields) == 2:
            found[fields[0]] = fields[1]
    return found


def _replaces(go_mod: str) -> dict[str, tuple[str, str]]:
    """old module -> (new module, version) for every replace, in blocks or single lines."""
    found: dict[str, tuple[str, str]] = {}
    for raw in go_mod.splitlines():
        line = raw.split("//", 1)[0].strip()
        if line.startswith("replace "):
            line = line[len("replace "):]
        if "=>" not in line:
            continue
        old, new = (side.split() for side in line.split("=>"))
        found[old[0]] = (new[0], new[1] if len(new) > 1 else "")
    return found


def test_the_versions_file_is_the_one_loaded():
    data = tomllib.loads(VERSIONS_FILE.read_text())
    assert V.kubernetes == data["kubernetes"]["version"]
    assert V.kind_node_image == data["kind"]["node_image"]
    assert V.staging == "0." + ".".join(V.kubernetes.split(".")[1:])
    assert V.kubernetes_minor == ".".join(V.kubernetes.split(".")[:2])


def test_every_version_is_a_plain_release():
    for version in (V.kubernetes, V.kwok, V.etcd, V.metrics_server, V.kind, V.traefik,
                    V.gateway_api):
        _release(version)


# --- the Go modules the sandbox builds from -----------------------------------------------

def test_the_traefik_image_is_the_pinned_version_by_digest():
    name, digest = V.traefik_image.split("@")
    assert name.endswith(f"/traefik:v{V.traefik}")
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64


def test_traefik_go_mod_requires_the_pinned_release():
    assert _requires(_go_mod("traefik"))["github.com/traefik/traefik/v3"] == f"v{V.traefik}"


def test_the_gateway_api_crds_are_the_version_traefik_is_built_with():
    """Traefik's Gateway provider speaks the API of the module it is built with; the CRDs
    `rwk up` installs must be that version (go.sum records the one the build selects)."""
    found = {line.split()[1].split("/")[0] for line in
             (GOBUILD_DIR / "traefik" / "go.sum").read_text().splitlines()
             if line.startswith("sigs.k8s.io/gateway-api ")}
    assert found == {f"v{V.gateway_api}"}


def test_kubernetes_go_mod_requires_the_pinned_release():
    assert _requires(_go_mod("kubernetes"))["k8s.io/kubernetes"] == f"v{V.kubernetes}"


def test_every_staging_replace_is_at_the_matching_version():
    replaces = {old: new for old, new in _replaces(_go_mod("kubernetes")).items()
                if old.startswith("k8s.io/")}
    assert len(replaces) >= 25, "expected a replace for each k8s.io staging module"
    for old, (new, version) in replaces.items():
        assert new == old, f"{old} is replaced by another module, {new}"
        assert version == f"v{V.staging}", f"{old} => {new} {version}, want v{V.staging}"


def test_every_unversioned_staging_requirement_is_replaced():
    # k8s.io/kubernetes requires its staging modules at v0.0.0; a consumer must replace each.
    go_mod = _go_mod("kubernetes")
    unversioned = {m for m, v in _requires(go_mod).items()
                   if m.startswith("k8s.io/") and v == "v0.0.0"}
    assert unversioned, "the go.mod should list staging modules k8s.io/kubernetes needs"
    assert unversioned <= set(_replaces(go_mod))


def test_staging_requirements_that_carry_a_version_match_it():
    go_mod = _go_mod("kubernetes")
    replaced = set(_replaces(go_mod))
    for module, version in _requires(go_mod).items():
        if module in replaced and version != "v0.0.0":
            assert version == f"v{V.staging}", f"{module} {version}"


def test_etcd_go_mod_requires_the_pinned_server():
    requires = _requires(_go_mod("etcd"))
    assert requires["go.etcd.io/etcd/server/v3"] == f"v{V.etcd}"
    # Its sibling modules come from the same release.
    for sibling in ("go.etcd.io/etcd/api/v3", "go.etcd.io/etcd/client/v3"):
        if sibling in requires:
            assert requires[sibling] == f"v{V.etcd}"


def test_go_mods_have_go_sums():
    for name in ("kubernetes", "etcd"):
        assert (GOBUILD_DIR / name / "go.sum").stat().st_size > 0


# --- the Python client ----------------------------------------------------------------------

def test_python_client_pin_follows_the_versions_file():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = [d.replace(" ", "") for d in project["dependencies"]
            if re.match(r"kubernetes\s*[<>=~!]", d)]
    n = V.python_client_major
    assert pins == [f"kubernetes>={n},<{n + 1}"]


def test_python_client_major_follows_the_kubernetes_minor():
    # Since Kubernetes 1.x, client major N is built for Kubernetes 1.N.
    assert V.python_client_major == _release(V.kubernetes)[1]


# --- kind and the components ---------------------------------------------------------------

def test_kind_node_image_is_pinned_by_digest_at_the_same_minor():
    image = V.kind_node_image
    match = re.fullmatch(r"kindest/node:v(\d+\.\d+\.\d+)@sha256:([0-9a-f]{64})", image)
    assert match, image
    assert _release(match.group(1))[:2] == _release(V.kubernetes)[:2]


@pytest.mark.parametrize("name, version, at_least, below", [
    ("kwok", V.kwok, (0, 8, 0), None),
    ("etcd", V.etcd, (3, 6, 0), (3, 7, 0)),
    ("metrics-server", V.metrics_server, (0, 8, 0), (0, 9, 0)),
])
def test_component_versions(name, version, at_least, below):
    release = _release(version)
    assert release >= at_least, f"{name} {version} is older than {at_least}"
    if below:
        assert release < below, f"{name} {version} is not in the {at_least[:2]} line"
