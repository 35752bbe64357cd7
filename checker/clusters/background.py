"""`rwk up` run in the background, as Binder's `start` runs it: its log, pid and outcome.

JupyterHub gives a Binder server 30 s to answer, and the sandbox needs longer on one CPU, so
`binder/start` runs ``python -m checker.clusters.background rwk up --backend sandbox`` and
hands over to JupyterLab at once. Meanwhile `rwk status` says the sandbox is still starting
(with the log's last line), and a second `rwk up` (lesson 00's) waits for this one instead of
starting a cluster of its own beside it.

Files, in the cache's logs folder: ``background-up.log`` (the command's output),
``background-up.pid`` and, once it ended, ``background-up.rc`` (its exit code).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from .binaries import cache_dir

_MARK = "checker.clusters.background"
CHILD_ENV = "RWK_BACKGROUND_CHILD"
"""Set in the background command's environment, so its own `rwk up` does not wait for itself."""


def _file(suffix: str) -> Path:
    return cache_dir() / "logs" / f"background-up.{suffix}"


def log_path() -> Path:
    """Where the background command's output goes."""
    return _file("log")


@dataclass(frozen=True)
class Background:
    """The last background start and where it stands."""

    pid: int
    running: bool
    exit_code: int | None
    """None while running, or when it died without saying (killed)."""
    last_line: str
    """The log's last non-empty line: what it is doing, or why it failed."""
    log: Path

    def describe(self) -> str:
        """One line for `rwk status` and a waiting `rwk up`."""
        if self.running:
            return (f"the sandbox is still starting in the background (pid {self.pid}); "
                    f"its log {self.log} says: {self.last_line or '(nothing yet)'}. "
                    "Run `rwk status` again in a moment")
        if self.exit_code == 0:
            return f"the background start finished (log {self.log})"
        how = f"exit {self.exit_code}" if self.exit_code is not None else "it was killed"
        return (f"the background start failed ({how}); its log {self.log} ends: "
                f"{self.last_line or '(empty)'}. Run `rwk up` to try again and see why")


def last_line(text: str) -> str:
    """The last non-empty line of a log, stripped."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _ours_and_running(pid: int) -> bool:
    """True while pid is a live (not zombie) process of this module's child mode."""
    try:
        process = psutil.Process(pid)
        return _MARK in " ".join(process.cmdline()) and process.status() not in (
            psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.Error:
        return False


def state(alive: Callable[[int], bool] = _ours_and_running) -> Background | None:
    """The last background start, or None when there was none."""
    try:
        pid = int(_file("pid").read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        code: int | None = int(_file("rc").read_text().strip())
    except (OSError, ValueError):
        code = None
    try:
        tail = last_line(log_path().read_text(errors="replace")[-4000:])
    except OSError:
        tail = ""
    running = code is None and alive(pid)
    return Background(pid, running, code, tail, log_path())


def running_elsewhere() -> Background | None:
    """A background start still running, unless this process is part of it."""
    if os.environ.get(CHILD_ENV):
        return None
    found = state()
    return found if found and found.running else None


def wait(say: Callable[[str], None], timeout: float = 600, poll: float = 1.0) -> Background:
    """Wait for a running background start to end, passing on each new log line."""
    deadline = time.monotonic() + timeout
    shown = 0

    def pass_on() -> int:
        try:
            lines = log_path().read_text(errors="replace").splitlines()
        except OSError:
            return shown
        for line in lines[shown:]:
            if line.strip():
                say(f"[background] {line}")
        return max(shown, len(lines))

    found = state()
    while found and found.running and time.monotonic() < deadline:
        shown = pass_on()
        time.sleep(poll)
        found = state()
    shown = pass_on()
    if found is None:
        raise RuntimeError("the background start left no pid file")
    return found


STARTED_WAIT = 5.0
"""Seconds `start` waits for the child to write its first log line."""


def start(command: list[str]) -> int:
    """Run `command` detached from this process, its output in the log; return its pid once
    the child has logged the command (or ended, or STARTED_WAIT passed), so a `state()` right
    after sees it running. (Popen returns once exec closed its pipe, which the kernel does
    before it sets the new program's arguments: /proc/PID/cmdline could still be empty, and
    `state()` said "killed". An empty cmdline cannot simply count as "starting": a dead,
    unreaped child shows one too.) The child's own output goes to the log too: a child that
    dies before it logs anything (a broken install) leaves its traceback there."""
    log = log_path()
    log.parent.mkdir(parents=True, exist_ok=True)
    _file("rc").unlink(missing_ok=True)
    log.write_text("")
    with open(log, "ab", buffering=0) as output:
        child = subprocess.Popen([sys.executable, "-m", _MARK, "--child", *command],
                                 stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                                 start_new_session=True, env={**os.environ, CHILD_ENV: "1"})
    _file("pid").write_text(f"{child.pid}\n")
    deadline = time.monotonic() + STARTED_WAIT
    while (child.poll() is None and not log.stat().st_size
           and time.monotonic() < deadline):
        time.sleep(0.02)
    return child.pid


def _child(command: list[str]) -> int:
    with open(log_path(), "ab", buffering=0) as log:
        log.write(f"$ {' '.join(command)}\n".encode())
        try:
            code = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT).returncode
        except OSError as error:
            log.write(f"could not run {command[0]}: {error}\n".encode())
            code = 127
        log.write(f"(exit {code})\n".encode())
    _file("rc").write_text(f"{code}\n")
    return code


def main(argv: list[str]) -> int:
    """`python -m checker.clusters.background COMMAND...`: start it, print where it logs."""
    if argv[:1] == ["--child"]:
        return _child(argv[1:])
    if not argv:
        print("usage: python -m checker.clusters.background COMMAND [ARGS...]", file=sys.stderr)
        return 2
    pid = start(argv)
    print(f"started in the background (pid {pid}): {' '.join(argv)}; log: {log_path()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
