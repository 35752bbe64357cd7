"""`sandbox._alive`, which `rwk stop` and `rwk up` trust to say whether a component has gone:
a process whose main thread has exited while another thread still runs (as a Go server's does
while it shuts down) is alive; a finished process nobody has reaped yet is not."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from checker.clusters.sandbox import _alive

# The main thread leaves with pthread_exit; the process lives on in its second thread, which
# sleeps for as many seconds as the one argument says.
LEADER_EXITS_FIRST = r"""
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
static void *worker(void *seconds) { sleep((unsigned)(long)seconds); return 0; }
int main(int argc, char **argv) {
    pthread_t thread;
    pthread_create(&thread, 0, worker, (void *)(long)atoi(argv[1]));
    pthread_exit(0);
}
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("no gcc here to build the test program")
    folder = tmp_path_factory.mktemp("alive")
    (folder / "leader.c").write_text(LEADER_EXITS_FIRST)
    subprocess.run(["gcc", "-o", str(folder / "leader"), str(folder / "leader.c"), "-lpthread"],
                   check=True)
    return folder / "leader"


def _wait_for(predicate, seconds: float = 5) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_a_process_whose_main_thread_is_a_zombie_is_alive_while_a_thread_runs(program: Path):
    process = subprocess.Popen([str(program), "3"])
    try:
        time.sleep(0.5)
        assert _alive(process.pid)
    finally:
        process.kill()
        process.wait()


def test_a_finished_process_not_yet_reaped_is_gone(program: Path):
    process = subprocess.Popen([str(program), "0"])
    try:
        # Not reaped (no wait yet): it stays a zombie, every thread of it finished.
        assert _wait_for(lambda: not _alive(process.pid))
    finally:
        process.wait()


def test_a_pid_no_process_has_is_gone():
    process = subprocess.Popen(["true"])
    process.wait()
    assert not _alive(process.pid)
