#!/usr/bin/env python3
"""Build, from Debian's packages, stand-ins for the images binder/Dockerfile starts FROM
(python:3.11-slim-bookworm), for machines where no container registry answers. Debian
bookworm's own Python is 3.11, so the stand-in is Debian's python3 with `python` on PATH;
the Dockerfile's steps (a virtual environment, pip, adduser, apt-get) work in both.

    sudo .venv/bin/python scripts/binder_stand_ins.py       # prints the tags it built

Only where no registry gives the real image: the rehearsal (scripts/rehearse_binder.py)
calls it, and says so.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from checker.clusters import nodeimage  # noqa: E402

PYTHON_TAG = "python:3.11-slim-bookworm"
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates", "adduser")


def build(say=print) -> list[str]:
    root = nodeimage._rootfs("python-slim", "bookworm", PACKAGES, say)
    link = root / "usr" / "local" / "bin" / "python"
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to("/usr/bin/python3")
    nodeimage._import_rootfs(root, PYTHON_TAG, say)
    return [PYTHON_TAG]


if __name__ == "__main__":
    print("\n".join(build()))
