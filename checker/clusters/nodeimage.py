"""`rwk node-image`: a kind node image, and the images its cluster runs, built on this machine.

kind's own `kind build node-image` cannot work where no container registry answers (it fetches
etcd, coredns, pause, kindnetd and the storage images), and neither can pulling
`kindest/node`. So, where no registry answers, the course builds everything a kind cluster
runs from Debian's packages and Go modules, at the versions in versions.toml:

1. Go binaries into the cache, one file per binary and version like the sandbox's
   (``~/.cache/rwk/bin/containerd-v2.3.4``): kubelet, kubeadm and kube-proxy from the same
   module as the sandbox's Kubernetes commands; containerd, runc, crictl, the CNI plugins,
   coredns, local-path-provisioner and kind from their modules; the podinfo stand-in from
   this package. pause is compiled from the C source beside this file.
2. Two Debian root filesystems by debootstrap: a small base for the images that need a shell
   or Debian's programs, and the node's own (systemd, iptables, ...).
3. Images: one layer holding a static binary for each control-plane component, etcd,
   coredns, pause, metrics-server and local-path-provisioner, tagged exactly as kubeadm and
   the manifests name them; Dockerfiles (under images/) for kube-proxy and the lessons'
   stand-ins (podinfo, postgres, redis, busybox).
4. The node: the node root filesystem with the binaries and the files under images/node,
   the system images imported into its containerd, committed with its entrypoint.

Every image is tagged with a digest of its recipe (the pins and the files under images/),
so a second run with nothing changed only looks the images up, and a changed pin rebuilds.
Needs root (debootstrap), Docker, Go and gcc.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from ..errors import BinariesUnavailable
from . import _proc
from .binaries import GOBUILD_DIR, _install, _ldflags_kubernetes, _run_go, cache_dir, cached_path
from .binaries import ensure as ensure_sandbox_binaries
from .versions import Versions, load

Progress = Callable[[str], None]
IMAGES_DIR = Path(__file__).with_name("images")
NODE_FILES = IMAGES_DIR / "node" / "files"
NODE_REPOSITORY = "rwk.local/kind-node"
BASE_REPOSITORY = "rwk.local/debian"
NODE_BASE_REPOSITORY = "rwk.local/kind-node-base"
RECIPE_LABEL = "rwk.recipe"
DEBIAN_MIRROR = os.environ.get("RWK_DEBIAN_MIRROR", "http://deb.debian.org/debian")

NODE_PACKAGES = (
    "systemd", "systemd-sysv", "dbus", "conntrack", "iptables", "nftables", "iproute2",
    "ethtool", "util-linux", "mount", "kmod", "libseccomp2", "pigz", "bash",
    "ca-certificates", "curl", "jq", "procps", "e2fsprogs", "socat",
)
"""What the node's root filesystem holds beyond Debian's minbase (what kind's base has,
less NFS, iSCSI and fuse-overlayfs, which nothing in the course uses)."""

STAND_INS = {
    "podinfo": ("ghcr.io/stefanprodan/podinfo:6.7.0", "ghcr.io/stefanprodan/podinfo:6.7.1"),
    "postgres": ("postgres:16-alpine",),
    "redis": ("redis:7-alpine",),
    "busybox": ("busybox:1.36",),
}
"""The lessons' images where no registry gives them: the course's own stand-ins, under the
names the exercise contract fixes (docs/clusters.md: kind where no registry answers)."""


# --- what is built ------------------------------------------------------------------------

@dataclass(frozen=True)
class GoPart:
    """Binaries built by one go command at one version, cached like the sandbox's."""

    name: str
    version: str
    binaries: tuple[str, ...]
    args: tuple[str, ...]
    """The go command's arguments after `go`."""
    cwd: Path | None = None
    cgo: bool = False
    prepare: Callable[[Path], None] | None = None
    """Called with `cwd` before the build: lays out a module the build needs there."""


def _source_digest(folder: Path) -> str:
    """A digest of a folder's Go source, for the binaries built from the project's own code:
    their cache entry changes with the code, not only with the version they report."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*")):
        source = path.suffix == ".go" and not path.name.endswith("_test.go")
        if source or path.name in ("go.mod", "go.sum"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:8]


def go_parts(v: Versions) -> tuple[GoPart, ...]:
    """Every Go build the node image and its images need, at the pinned versions."""
    n = v.node_image
    flags = ("-trimpath",)
    strip = ("-ldflags", "-s -w")
    plugins = "github.com/containernetworking/plugins/plugins"
    containerd = "github.com/containerd/containerd/v2"
    return (
        GoPart("kubernetes-node", v.kubernetes, ("kubelet", "kubeadm", "kube-proxy"),
               ("build", "-v", *flags, "-ldflags", _ldflags_kubernetes(v.kubernetes), "-o", "{out}/",
                "k8s.io/kubernetes/cmd/kubelet", "k8s.io/kubernetes/cmd/kubeadm",
                "k8s.io/kubernetes/cmd/kube-proxy"), GOBUILD_DIR / "kubernetes"),
        GoPart("containerd", n.containerd, ("containerd", "ctr", "containerd-shim-runc-v2"),
               ("install", "-v", *flags, "-tags", "no_aufs no_zfs no_btrfs no_devmapper",
                "-ldflags", f"-s -w -X {containerd}/version.Version=v{n.containerd}",
                *(f"{containerd}/cmd/{b}@v{n.containerd}"
                  for b in ("containerd", "ctr", "containerd-shim-runc-v2")))),
        GoPart("runc", n.runc, ("runc",),
               ("install", "-v", *flags, "-tags", "seccomp urfave_cli_no_docs",
                "-ldflags", f"-s -w -X main.version={n.runc}",
                f"github.com/opencontainers/runc@v{n.runc}"), cgo=True),
        GoPart("crictl", n.crictl, ("crictl",),
               ("install", "-v", *flags, *strip, f"sigs.k8s.io/cri-tools/cmd/crictl@v{n.crictl}")),
        GoPart("cni-plugins", n.cni_plugins, ("host-local", "loopback", "ptp", "portmap"),
               ("install", "-v", *flags, *strip,
                *(f"{plugins}/{p}@v{n.cni_plugins}"
                  for p in ("ipam/host-local", "main/loopback", "main/ptp", "meta/portmap")))),
        GoPart("coredns", n.coredns, ("coredns",),
               ("install", "-v", *flags, *strip, f"github.com/coredns/coredns@v{n.coredns}")),
        GoPart("local-path-provisioner", n.local_path_provisioner, ("local-path-provisioner",),
               ("install", "-v", *flags, *strip,
                f"github.com/rancher/local-path-provisioner@v{n.local_path_provisioner}")),
        GoPart("kind", v.kind, ("kind",),
               ("install", "-v", *flags, *strip, f"sigs.k8s.io/kind@v{v.kind}")),
        GoPart("traefik", v.traefik, ("traefik",),
               ("build", "-v", *flags, "-ldflags",
                f"-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=v{v.traefik}",
                "-o", "{out}/traefik", "github.com/traefik/traefik/v3/cmd/traefik"),
               cache_dir() / "build" / f"traefik-v{v.traefik}", prepare=_traefik_module),
        *(GoPart(f"podinfo-{version}", f"{version}-src{_source_digest(IMAGES_DIR / 'podinfo')}",
                 ("podinfo",), ("build", "-v", *flags, "-ldflags",
                                f"-s -w -X main.version={version}", "-o", "{out}/podinfo", "."),
                 IMAGES_DIR / "podinfo")
          for version in (tag.rsplit(":", 1)[1] for tag in STAND_INS["podinfo"])),
    )


TRAEFIK_MODULE = GOBUILD_DIR / "traefik"
LEGO_LEFT_OUT = ("edgedns", "huaweicloud", "oraclecloud", "sakuracloud", "ucloud", "yandexcloud")
"""lego's DNS providers (for ACME DNS-01 challenges) left out of the Traefik built here: the
module proxy refuses the SDK versions they are written against (docs/clusters.md: kind where
no registry answers)."""


def _traefik_module(folder: Path) -> None:
    """Lay out the module Traefik is built from (gobuild/traefik/go.mod says why): our files,
    and copies from the module cache of lego, its refused DNS providers replaced by stand-ins,
    and of upstream go-http-auth, with the two names Traefik's fork adds."""
    go_mod = (TRAEFIK_MODULE / "go.mod").read_text()

    def copy(module: str, into: str) -> Path:
        pinned = re.search(rf"^\s*{re.escape(module)} (v\S+)", go_mod, re.MULTILINE)
        if not pinned:
            raise BinariesUnavailable(f"{TRAEFIK_MODULE / 'go.mod'} requires no version of "
                                      f"{module}")
        target = folder / into
        shutil.copytree(_go_module_dir(f"{module}@{pinned.group(1)}"), target)
        for path in [target, *target.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)   # the module cache's copies are read-only
        return target

    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(TRAEFIK_MODULE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    lego = copy("github.com/go-acme/lego/v5", "lego")
    template = (TRAEFIK_MODULE / "lego_left_out.go.tmpl").read_text()
    for name in LEGO_LEFT_OUT:
        provider = lego / "providers" / "dns" / name
        if not provider.is_dir():
            raise BinariesUnavailable(f"lego has no DNS provider {name} to leave out")
        shutil.rmtree(provider)
        provider.mkdir()
        (provider / f"{name}.go").write_text(template.replace("PACKAGE", name))
    auth = copy("github.com/abbot/go-http-auth", "go-http-auth")
    shutil.copy2(TRAEFIK_MODULE / "go_http_auth_additions.go.tmpl", auth / "rwk_additions.go")
    if not (auth / "go.mod").exists():   # v0.4.0 predates modules; a directory needs one
        (auth / "go.mod").write_text("module github.com/abbot/go-http-auth\n\ngo 1.13\n")


def binary(part: GoPart, name: str) -> Path:
    """Where one binary of a Go part lives in the cache."""
    label = part.name if part.name.startswith("podinfo") else name
    return cached_path(label, part.version)


def recipe_digest(v: Versions) -> str:
    """A digest of everything an image built here is made from: the pins, the files under
    images/ and this module (so a changed pin, file or step rebuilds)."""
    digest = hashlib.sha256(json.dumps([asdict(v), NODE_PACKAGES, STAND_INS],
                                       sort_keys=True).encode())
    digest.update(Path(__file__).read_bytes())
    for path in sorted(IMAGES_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(IMAGES_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def node_image_tag(v: Versions | None = None) -> str:
    """The tag of the node image built here for the pinned versions."""
    v = v or load()
    return f"{NODE_REPOSITORY}:v{v.kubernetes}-{recipe_digest(v)}"


def lesson_images() -> tuple[str, ...]:
    """The stand-in images `rwk up --backend kind` loads into the cluster."""
    return tuple(tag for tags in STAND_INS.values() for tag in tags)


# --- docker -------------------------------------------------------------------------------

def _docker(*args: str, input: bytes | None = None, timeout: float = 600) -> str:
    try:
        done = subprocess.run(["docker", *args], input=input, capture_output=True,
                              timeout=timeout)
    except FileNotFoundError as error:
        raise BinariesUnavailable("the node image is built with Docker, and the docker "
                                  "command is not installed") from error
    if done.returncode != 0:
        raise BinariesUnavailable(f"`docker {' '.join(args[:3])} …` failed: "
                                  f"{(done.stdout + done.stderr).decode(errors='replace').strip()}")
    return done.stdout.decode()


def image_recipe(tag: str) -> str | None:
    """The recipe digest an image in Docker's store was built from; None when absent."""
    done = _proc.run(["docker", "image", "inspect", "--format",
                      f'{{{{index .Config.Labels "{RECIPE_LABEL}"}}}}', tag], timeout=30)
    return done.stdout.strip() if done.ok else None


def _import_tar(tar: bytes, tag: str, changes: Iterable[str], recipe: str) -> None:
    args = ["import", "--change", f"LABEL {RECIPE_LABEL}={recipe}"]
    for change in changes:
        args += ["--change", change]
    _docker(*args, "-", tag, input=tar)


def one_layer(files: dict[str, Path], tag: str, recipe: str, entrypoint: list[str] | None = None,
              user: str = "0") -> None:
    """An image of one layer: the given files (path in image -> file here), /tmp, and a
    minimal /etc/passwd; PATH set, as the official images of these components are."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for directory, mode in (("tmp", 0o1777), ("etc", 0o755)):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)
        passwd = b"root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size, info.mode = len(passwd), 0o644
        tar.addfile(info, io.BytesIO(passwd))
        for inside, source in files.items():
            info = tar.gettarinfo(str(source), inside.lstrip("/"))
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode = 0o755
            with open(source, "rb") as file:
                tar.addfile(info, file)
    changes = ["ENV PATH=/usr/local/bin:/usr/bin:/bin", f"USER {user}"]
    if entrypoint:
        changes.append(f"ENTRYPOINT {json.dumps(entrypoint)}")
    _import_tar(buffer.getvalue(), tag, changes, recipe)


def _docker_build(context: Path, tag: str, recipe: str, say: Progress, **build_args: str) -> None:
    args = ["build", "--label", f"{RECIPE_LABEL}={recipe}", "-t", tag]
    for key, value in build_args.items():
        args += ["--build-arg", f"{key}={value}"]
    start = time.monotonic()
    _docker(*args, str(context), timeout=1800)
    say(f"  built {tag} ({time.monotonic() - start:.0f}s)")


# --- the steps ----------------------------------------------------------------------------

def _build_go(part: GoPart, say: Progress) -> None:
    if all(binary(part, b).is_file() for b in part.binaries):
        return
    bin_dir = cache_dir() / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=bin_dir, prefix=f".build-{part.name}-") as tmp:
        out = Path(tmp)
        env = {**os.environ, "CGO_ENABLED": "1" if part.cgo else "0", "GOBIN": str(out),
               "GOFLAGS": "-mod=readonly" if part.cwd == GOBUILD_DIR / "kubernetes" else "-mod=mod"}
        say(f"building {part.name} v{part.version} from Go modules ({', '.join(part.binaries)})")
        if part.prepare and part.cwd:
            part.prepare(part.cwd)
        args = [a.replace("{out}", str(out)) for a in part.args]
        _run_go(["go", *args], part.cwd, env, say, part.name)
        for name in part.binaries:
            built = out / name
            if not built.is_file():
                raise BinariesUnavailable(f"go built {part.name} but {name} is missing in {out}")
            _install(built, binary(part, name))


def _build_pause(v: Versions, say: Progress) -> Path:
    target = cached_path("pause", v.node_image.pause)
    if not target.is_file():
        say(f"compiling pause {v.node_image.pause} from images/pause/pause.c (static)")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "pause"
            done = _proc.run(["gcc", "-Os", "-static", "-Wall", "-Werror",
                              f"-DVERSION=\"{v.node_image.pause}\"", "-o", str(out),
                              str(IMAGES_DIR / "pause" / "pause.c")], timeout=120)
            if not done.ok:
                raise BinariesUnavailable(f"gcc could not compile pause: {done.output}")
            _install(out, target)
    return target


def _rootfs(name: str, suite: str, packages: Iterable[str], say: Progress) -> Path:
    """A Debian root filesystem made by debootstrap, kept in the cache by its recipe."""
    packages = tuple(packages)
    key = hashlib.sha256(json.dumps([suite, packages, DEBIAN_MIRROR]).encode()).hexdigest()[:12]
    target = cache_dir() / "rootfs" / f"{name}-{suite}-{key}"
    if (target / "etc" / "os-release").is_file():
        return target
    if not shutil.which("debootstrap"):
        raise BinariesUnavailable("debootstrap makes the node image's Debian root filesystem "
                                  "and is not installed: `apt-get install debootstrap` (as root)")
    staged = target.with_name(target.name + ".partial")
    shutil.rmtree(staged, ignore_errors=True)
    staged.parent.mkdir(parents=True, exist_ok=True)
    say(f"making the {name} root filesystem: debootstrap {suite} from {DEBIAN_MIRROR} "
        f"({len(packages)} packages beyond minbase; a few minutes)")
    include = [f"--include={','.join(packages)}"] if packages else []
    log = cache_dir() / "logs" / f"debootstrap-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        code = subprocess.run(["debootstrap", "--variant=minbase", *include, suite, str(staged),
                               DEBIAN_MIRROR], stdout=out, stderr=subprocess.STDOUT).returncode
    if code != 0:
        raise BinariesUnavailable(f"debootstrap failed (exit {code}); its log: {log}")
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (staged / cache).glob("*"):
            if item.is_file():
                item.unlink()
    shutil.rmtree(target, ignore_errors=True)
    staged.replace(target)
    return target


def _import_rootfs(root: Path, tag: str, say: Progress) -> None:
    """Import a root filesystem as an image, labelled with the root filesystem's own key (its
    folder's name), so that it, and every image built on it, is redone only when it changes."""
    recipe = root.name
    if image_recipe(tag) == recipe:
        return
    say(f"importing {root.name} into Docker as {tag}")
    tar = subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-c", "."],
                         capture_output=True, check=True).stdout
    _import_tar(tar, tag, ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                recipe)


def kubeadm_images(kubeadm: Path, v: Versions) -> dict[str, str]:
    """kubeadm's image list for the pinned release, by component name."""
    done = _proc.run([str(kubeadm), "config", "images", "list", "--kubernetes-version",
                      f"v{v.kubernetes}"], timeout=60)
    if not done.ok:
        raise BinariesUnavailable(f"kubeadm could not list its images: {done.output}")
    images = {line.rsplit("/", 1)[1].split(":")[0]: line.strip()
              for line in done.stdout.splitlines() if line.strip()}
    wanted = {"coredns": f"v{v.node_image.coredns}", "pause": v.node_image.pause,
              "etcd": f"{v.etcd}-0"}
    for name, tag in wanted.items():
        found = images.get(name, "").rsplit(":", 1)[-1]
        if found != tag:
            raise BinariesUnavailable(
                f"kubeadm v{v.kubernetes} names {name} {found or 'nothing'}, but versions.toml "
                f"pins {tag}: change the pin to what kubeadm names")
    return images


def metrics_server_image(v: Versions) -> str:
    """The name metrics-server's releases give its image; the kind backend sets it on the
    Go module's manifests, which name a development tag."""
    return f"registry.k8s.io/metrics-server/metrics-server:v{v.metrics_server}"


def storage_manifest(v: Versions) -> str:
    """The node image's default-storage.yaml: local-path-provisioner's own manifest (from its
    Go module), its class renamed `standard` and made the default, as kind's is, and its
    helper pods on the busybox stand-in that the node image holds."""
    module = Path(_go_module_dir(
        f"github.com/rancher/local-path-provisioner@v{v.node_image.local_path_provisioner}"))
    docs = []
    for doc in yaml.safe_load_all((module / "deploy" / "local-path-storage.yaml").read_text()):
        if not doc:
            continue
        if doc["kind"] == "StorageClass":
            doc["metadata"]["name"] = "standard"
            doc["metadata"].setdefault("annotations", {})[
                "storageclass.kubernetes.io/is-default-class"] = "true"
        if doc["kind"] == "ConfigMap" and "helperPod.yaml" in doc.get("data", {}):
            helper = yaml.safe_load(doc["data"]["helperPod.yaml"])
            for container in helper["spec"]["containers"]:
                container["image"] = STAND_INS["busybox"][0]
                container["imagePullPolicy"] = "IfNotPresent"
            doc["data"]["helperPod.yaml"] = yaml.safe_dump(helper, sort_keys=False)
        docs.append(doc)
    return yaml.safe_dump_all(docs, sort_keys=False)


def _go_module_dir(module: str) -> str:
    done = _proc.run(["go", "mod", "download", "-json", module], timeout=300)
    if not done.ok:
        raise BinariesUnavailable(f"go could not fetch {module}: {done.output}")
    return json.loads(done.stdout)["Dir"]




def build(say: Progress | None = None, v: Versions | None = None) -> str:
    """Build (or find) the node image and the lessons' stand-ins; return the node's tag."""
    say = say or (lambda message: None)
    v = v or load()
    recipe = recipe_digest(v)
    node_tag = f"{NODE_REPOSITORY}:v{v.kubernetes}-{recipe}"
    if image_recipe(node_tag) == recipe and all(image_recipe(t) == recipe
                                                for t in lesson_images()):
        say(f"node image {node_tag} and the lessons' images are built (recipe {recipe})")
        return node_tag
    start = time.monotonic()
    say(f"building the kind node image {node_tag} (recipe {recipe}); the first build takes "
        "about 20 minutes on 2 cores, later ones only what changed")
    sandbox = ensure_sandbox_binaries("build", say, v)   # apiserver, etcd, metrics-server, ...
    parts = {part.name: part for part in go_parts(v)}
    for part in parts.values():
        _build_go(part, say)
    pause = _build_pause(v, say)

    base_tag = f"{BASE_REPOSITORY}:{v.node_image.debian_suite}"
    _import_rootfs(_rootfs("debian", v.node_image.debian_suite, (), say), base_tag, say)
    node_base = f"{NODE_BASE_REPOSITORY}:{v.node_image.debian_suite}"
    _import_rootfs(_rootfs("kind-node", v.node_image.debian_suite, NODE_PACKAGES, say),
                   node_base, say)

    kubeadm = binary(parts["kubernetes-node"], "kubeadm")
    images = kubeadm_images(kubeadm, v)
    system = _system_images(v, images, sandbox.paths, parts, pause, base_tag, recipe, say)
    _stand_ins(parts, base_tag, recipe, say)
    _node(v, node_base, node_tag, system, parts, sandbox.paths, images, recipe, say)
    _remove_older_nodes(node_tag, say)
    say(f"node image {node_tag} built in {time.monotonic() - start:.0f}s")
    return node_tag


def _remove_older_nodes(keep: str, say: Progress) -> None:
    """Node images of earlier recipes (1.6 GB each) go once a new one is built, and so do the
    images of earlier recipes that a rebuild left untagged (a stand-in rebuilt under the same
    tag leaves its former self behind, nameless)."""
    listed = _proc.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}",
                        NODE_REPOSITORY], timeout=60)
    older = [tag for tag in listed.stdout.split() if tag != keep] if listed.ok else []
    if older:
        done = _proc.run(["docker", "rmi", *older], timeout=300)
        say(f"removed the node images of earlier recipes: {', '.join(older)}" if done.ok else
            f"could not remove older node images ({done.output.strip()}); `docker rmi` them")
    pruned = _proc.run(["docker", "image", "prune", "--force", "--filter",
                        f"label={RECIPE_LABEL}"], timeout=300)
    reclaimed = pruned.stdout.strip().splitlines()[-1:] if pruned.ok else []
    if reclaimed and reclaimed[0].startswith("Total reclaimed space") and \
            not reclaimed[0].endswith(" 0B"):
        say(f"removed the untagged images of earlier recipes "
            f"({reclaimed[0].rpartition(': ')[2]} freed)")


def _system_images(v: Versions, images: dict[str, str], sandbox: dict[str, Path],
                   parts: dict[str, GoPart], pause: Path, base_tag: str, recipe: str,
                   say: Progress) -> list[str]:
    """Build the images the node image holds; return their tags."""
    say("building the system images (one layer each: a static binary)")
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        one_layer({f"/usr/local/bin/{name}": sandbox[name]}, images[name], recipe)
    one_layer({"/usr/local/bin/etcd": sandbox["etcd"]}, images["etcd"], recipe)
    one_layer({"/coredns": binary(parts["coredns"], "coredns")}, images["coredns"], recipe,
              entrypoint=["/coredns"])
    one_layer({"/pause": pause}, images["pause"], recipe, entrypoint=["/pause"])
    metrics = metrics_server_image(v)
    one_layer({"/metrics-server": sandbox["metrics-server"]}, metrics, recipe,
              entrypoint=["/metrics-server"], user="65534")
    traefik = f"traefik:v{v.traefik}"
    one_layer({"/usr/local/bin/traefik": binary(parts["traefik"], "traefik")}, traefik, recipe,
              entrypoint=["/usr/local/bin/traefik"], user="65532")
    local_path = f"rancher/local-path-provisioner:v{v.node_image.local_path_provisioner}"
    one_layer({"/usr/bin/local-path-provisioner":
               binary(parts["local-path-provisioner"], "local-path-provisioner")},
              local_path, recipe)
    with tempfile.TemporaryDirectory() as tmp:
        context = Path(tmp)
        shutil.copytree(IMAGES_DIR / "kube-proxy", context, dirs_exist_ok=True)
        shutil.copy2(binary(parts["kubernetes-node"], "kube-proxy"), context / "kube-proxy")
        _docker_build(context, images["kube-proxy"], recipe, say, BASE=base_tag)
    return [*images.values(), metrics, traefik, local_path, STAND_INS["busybox"][0]]


def _stand_ins(parts: dict[str, GoPart], base_tag: str, recipe: str, say: Progress) -> None:
    say("building the lessons' stand-in images (docs/clusters.md: kind where no registry "
        "answers)")
    for name, tags in STAND_INS.items():
        for tag in tags:
            if image_recipe(tag) == recipe:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                context = Path(tmp)
                shutil.copytree(IMAGES_DIR / name, context, dirs_exist_ok=True)
                if name == "podinfo":
                    part = parts[f"podinfo-{tag.rsplit(':', 1)[1]}"]
                    shutil.copy2(binary(part, "podinfo"), context / "podinfo")
                _docker_build(context, tag, recipe, say, BASE=base_tag)


def _node(v: Versions, node_base: str, node_tag: str, system: list[str],
          parts: dict[str, GoPart], sandbox: dict[str, Path], images: dict[str, str],
          recipe: str, say: Progress) -> None:
    say(f"assembling the node image on {node_base}")
    with tempfile.TemporaryDirectory() as tmp:
        context = Path(tmp)
        layout = {
            "usr/local/bin": [binary(parts["containerd"], b) for b in parts["containerd"].binaries]
            + [binary(parts["crictl"], "crictl")],
            "usr/local/sbin": [binary(parts["runc"], "runc")],
            "opt/cni/bin": [binary(parts["cni-plugins"], b) for b in parts["cni-plugins"].binaries],
            "usr/bin": [binary(parts["kubernetes-node"], "kubelet"),
                        binary(parts["kubernetes-node"], "kubeadm"), sandbox["kubectl"]],
        }
        for folder, sources in layout.items():
            (context / "root" / folder).mkdir(parents=True, exist_ok=True)
            for source in sources:
                name = source.name.rsplit("-v", 1)[0]
                shutil.copy2(source, context / "root" / folder / name)
        placed = {
            "entrypoint": "usr/local/bin/entrypoint",
            "node-network": "usr/local/bin/rwk-node-network",
            "containerd.service": "etc/systemd/system/containerd.service",
            "kubelet.service": "etc/systemd/system/kubelet.service",
            "10-kubeadm.conf": "etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
            "kubelet.slice": "etc/systemd/system/kubelet.slice",
            "kubelet.default": "etc/default/kubelet",
            "crictl.yaml": "etc/crictl.yaml",
            "sysctl.conf": "etc/sysctl.d/10-rwk-node.conf",
        }
        for source, inside in placed.items():
            target = context / "root" / inside
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(NODE_FILES / source, target)
        config = (NODE_FILES / "containerd.toml").read_text().replace("@PAUSE_IMAGE@",
                                                                      images["pause"])
        (context / "root/etc/containerd").mkdir(parents=True)
        (context / "root/etc/containerd/config.toml").write_text(config)
        kind_dir = context / "root/kind/manifests"
        kind_dir.mkdir(parents=True)
        (context / "root/kind/version").write_text(f"v{v.kubernetes}")
        shutil.copy2(IMAGES_DIR / "node" / "default-cni.yaml", kind_dir / "default-cni.yaml")
        (kind_dir / "default-storage.yaml").write_text(storage_manifest(v))
        shutil.copy2(IMAGES_DIR / "node" / "Dockerfile", context / "Dockerfile")
        staged = f"{NODE_REPOSITORY}:staged-{recipe}"
        _docker_build(context, staged, recipe, say, BASE=node_base)

    say(f"importing {len(system)} system images into the node's containerd")
    container = f"rwk-node-build-{recipe}"
    _proc.run(["docker", "rm", "-f", container], timeout=60)
    # --init: a first process that reaps containerd once it is stopped (sleep would not).
    _docker("run", "-d", "--init", "--name", container, "--entrypoint", "sleep",
            "--security-opt", "seccomp=unconfined", "--privileged", staged, "infinity")
    try:
        _docker("exec", container, "bash", "-c", "nohup containerd >/var/log/containerd-build.log 2>&1 &")
        _docker("exec", container, "bash", "-c",
                "for i in $(seq 1 60); do ctr version >/dev/null 2>&1 && exit 0; sleep 0.5; done;"
                " cat /var/log/containerd-build.log; exit 1")
        archive = subprocess.run(["docker", "save", *system], capture_output=True)
        if archive.returncode != 0:
            raise BinariesUnavailable(f"docker save failed: {archive.stderr.decode()}")
        _docker("exec", "-i", container, "ctr", "--namespace=k8s.io", "images", "import",
                "--all-platforms", "--no-unpack", "--digests",
                "--label=io.cri-containerd.pinned=pinned", "-", input=archive.stdout)
        listed = _docker("exec", container, "ctr", "--namespace=k8s.io", "images", "list", "-q")
        missing = [t for t in system if not any(line.endswith(t.split("/")[-1])
                                                for line in listed.splitlines())]
        if missing:
            raise BinariesUnavailable(f"the node's containerd lacks {', '.join(missing)} after "
                                      f"the import:\n{listed}")
        _docker("exec", container, "bash", "-c", "pkill -x containerd; for i in $(seq 150); do"
                " pgrep -x containerd >/dev/null || break; sleep 0.2; done;"
                " ! pgrep -x containerd >/dev/null && rm -f /var/log/containerd-build.log",
                timeout=60)
        _docker("commit", "--change", 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]',
                "--change", f"LABEL {RECIPE_LABEL}={recipe}",
                container, node_tag)
    finally:
        _proc.run(["docker", "rm", "-f", container], timeout=120)
        _proc.run(["docker", "rmi", staged], timeout=120)
