"""Running the external commands the backends drive (kwokctl, kind, kubectl, docker)."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """What one command did."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def output(self) -> str:
        """stdout and stderr together, for error messages."""
        return (self.stdout + "\n" + self.stderr).strip()


TIMED_OUT = 124
"""The code of a command stopped at its timeout (as coreutils' `timeout` exits)."""

Runner = Callable[..., Result]
"""`runner(args, env=None, input=None, timeout=None) -> Result`; tests pass a recording fake."""


def run(args: Sequence[str], env: Mapping[str, str] | None = None, input: str | None = None,
        timeout: float | None = 300) -> Result:
    """Run a command to completion and capture its output; a missing program is code 127."""
    try:
        done = subprocess.run(list(args), env=dict(env) if env else None, input=input,
                              capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError as error:
        return Result(tuple(args), 127, "", str(error))
    except subprocess.TimeoutExpired as error:
        out = error.stdout.decode() if isinstance(error.stdout, bytes) else (error.stdout or "")
        return Result(tuple(args), TIMED_OUT, out, f"timed out after {timeout}s")
    return Result(tuple(args), done.returncode, done.stdout, done.stderr)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
