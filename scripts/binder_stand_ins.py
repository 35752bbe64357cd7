#!/usr/bin/env python3
"""What the Binder rehearsal (tests/integration/test_binder_docker.py) needs and a machine
of this project's cannot download:

- stand-ins for the images binder/Dockerfile starts FROM (python:3.11-slim-bookworm), built
  from Debian's packages, for machines where no container registry answers. Debian
  bookworm's own Python is 3.11, so the stand-in is Debian's python3 with `python` on PATH;
  the Dockerfile's steps (a virtual environment, pip, adduser, apt-get) work in both.
- Docker's buildx plugin, which repo2docker builds with (Debian bookworm's docker.io has
  none), built from its Go module into the cache and handed to Docker through a
  DOCKER_CONFIG of its own, so that only the commands given it build with BuildKit.

    sudo .venv/bin/python scripts/binder_stand_ins.py       # prints what it built

Only where no registry gives the real image; the rehearsal says so.

The stand-in also trusts what this machine trusts: certificates an administrator added under
/usr/local/share/ca-certificates (a network whose egress re-signs TLS, as these machines'
does) go into it, and pip and Go are pointed at the system bundle, so that a build inside it
reaches PyPI and the Go module proxy as the machine itself does. The real image trusts only
the public roots, as mybinder.org's network needs.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from checker.clusters import binaries, nodeimage  # noqa: E402

PYTHON_TAG = "python:3.11-slim-bookworm"
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates", "adduser")


HOST_CAS = Path("/usr/local/share/ca-certificates")
BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def build(say=print) -> list[str]:
    root = nodeimage._rootfs("python-slim", "bookworm", PACKAGES, say)
    link = root / "usr" / "local" / "bin" / "python"
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to("/usr/bin/python3")
    added = sorted(HOST_CAS.rglob("*.crt")) if HOST_CAS.is_dir() else []
    digest = hashlib.sha256()
    for certificate in added:
        target = root / "usr/local/share/ca-certificates" / certificate.name
        shutil.copy2(certificate, target)
        digest.update(certificate.read_bytes())
    subprocess.run(["chroot", str(root), "update-ca-certificates"], check=True,
                   capture_output=True)
    recipe = f"{root.name}-{digest.hexdigest()[:8]}"
    if nodeimage.image_recipe(PYTHON_TAG) != recipe:
        say(f"importing {root.name} as {PYTHON_TAG} (stand-in; trusting {len(added)} "
            "certificate(s) this machine added)")
        tar = subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-c", "."],
                             capture_output=True, check=True).stdout
        nodeimage._import_tar(tar, PYTHON_TAG, [
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            f"ENV PIP_CERT={BUNDLE}", f"ENV SSL_CERT_FILE={BUNDLE}", "ENV LANG=C.UTF-8",
            'CMD ["python3"]'], recipe)
    return [PYTHON_TAG]


BUILDX = "github.com/docker/buildx"
BUILDX_VERSION = "v0.19.3"   # a release the module proxy serves; repo2docker needs buildx


def docker_config(say=print) -> Path:
    """A DOCKER_CONFIG folder whose cli-plugins/ holds docker-buildx, built once from its Go
    module (about 90 s here) and cached."""
    folder = binaries.cache_dir() / "tools" / f"buildx-{BUILDX_VERSION}"
    plugin = folder / "cli-plugins" / "docker-buildx"
    if not plugin.is_file():
        go = shutil.which("go")
        if go is None:
            raise SystemExit("binder_stand_ins: Go is needed to build docker-buildx")
        say(f"building docker-buildx {BUILDX_VERSION} from its Go module (about 90 s)")
        plugin.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "GOBIN": str(plugin.parent), "CGO_ENABLED": "0",
               "GOFLAGS": "-modcacherw"}
        subprocess.run([go, "install", "-ldflags",
                        f"-X {BUILDX}/version.Version={BUILDX_VERSION}",
                        f"{BUILDX}/cmd/buildx@{BUILDX_VERSION}"], env=env, check=True)
        (plugin.parent / "buildx").rename(plugin)
    return folder


if __name__ == "__main__":
    print("\n".join(build()))
    print(f"DOCKER_CONFIG={docker_config()}")
