"""Cluster backends behind one interface: sandbox (kwok), kind, and an existing cluster.

Each backend has `up(say)`, `stop(say)` (keep the state; `up` brings it back),
`down(say)` (delete), `work()` (what `down` would delete that a learner made), `status()`,
`reset(say)` and a `context`. `rwk up` records which backend it started in the cache, so
`stop`, `down`, `status` and `reset` act on the same one without being told again.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ..errors import UnknownBackend, UsageError
from . import _proc, binaries
from .base import ClusterStatus, Progress

NAMES = ("auto", "sandbox", "kind", "existing")


class Backend(Protocol):
    backend_name: str

    @property
    def context(self) -> str: ...
    def up(self, say: Progress) -> None: ...
    def stop(self, say: Progress) -> None: ...
    def down(self, say: Progress) -> None: ...
    def work(self) -> list[str]: ...
    def status(self) -> ClusterStatus: ...
    def reset(self, say: Progress) -> list[str]: ...


def docker_available(runner: _proc.Runner = _proc.run) -> bool:
    """True where both the kind command and a Docker daemon are present."""
    return bool(shutil.which("kind")) and runner(
        ["docker", "info", "--format", "{{.ServerVersion}}"], timeout=20).ok


def resolve(name: str) -> str:
    """The concrete backend for a name; `auto` is kind with Docker and kind, else sandbox."""
    if name not in NAMES:
        raise UnknownBackend(f"unknown backend {name!r}; choose one of {', '.join(NAMES)}")
    if name == "auto":
        return "kind" if docker_available() else "sandbox"
    return name


def make(name: str, **options) -> Backend:
    """Build the backend object for a concrete backend name."""
    from .existing import Existing
    from .kind import Kind
    from .sandbox import Sandbox
    name = resolve(name)
    if name == "sandbox":
        return Sandbox(**options)
    if name == "kind":
        return Kind()
    return Existing()


def _state_file():
    """$RWK_STATE_FILE (the test suites give each cluster its own), else the cache's."""
    explicit = os.environ.get("RWK_STATE_FILE")
    return Path(explicit) if explicit else binaries.cache_dir() / "state.json"


def remember(name: str, context: str) -> None:
    """Record the backend `rwk up` started, for later commands."""
    path = _state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"backend": name, "context": context}))


def recalled() -> str | None:
    """The backend the last `rwk up` started, if any."""
    try:
        return json.loads(_state_file().read_text()).get("backend")
    except (OSError, ValueError):
        return None


def forget() -> None:
    _state_file().unlink(missing_ok=True)


def up(name: str, say: Progress, **options) -> Backend:
    """Start (or keep) the cluster of backend `name` and remember it."""
    backend = make(name, **options)
    backend.up(say)
    remember(backend.backend_name, backend.context)
    return backend


def current(name: str | None = None, **options) -> Backend:
    """The backend named, else the one `rwk up` last started, else the sandbox."""
    return make(name or recalled() or "sandbox", **options)


def stop(say: Progress, name: str | None = None) -> None:
    """Stop the cluster the course started, keeping its state; `up` brings it back."""
    current(name).stop(say)


def down(say: Progress, name: str | None = None, *, yes: bool = True,
         confirm: Callable[[str], bool] | None = None) -> bool:
    """Delete the cluster the course started and forget it; True when it was deleted.

    Without `yes`, when the cluster holds a learner's work, say what would be lost and ask
    `confirm`; with nobody to ask (`confirm` None) raise UsageError (exit 2), deleting nothing.
    """
    backend = current(name)
    if not yes:
        lost = backend.work()
        if lost:
            what = "\n".join(f"  {line}" for line in lost)
            if confirm is None:
                raise UsageError(f"deleting the cluster loses this work:\n{what}\nno one can "
                                 "confirm (stdin is not a terminal), so nothing was deleted. "
                                 "`rwk stop` keeps the work; `rwk down --yes` deletes it.")
            say(f"deleting the cluster loses this work:\n{what}\n"
                "(`rwk stop` stops it and keeps the work instead)")
            if not confirm("Delete the cluster and all of it?"):
                say("nothing deleted")
                return False
    backend.down(say)
    forget()
    return True
