"""Run one handed-in notebook with papermill: the process `rwk grade --submissions` starts for
each notebook, in the student's environment (their restricted KUBECONFIG, no other
credentials), so the kernel papermill starts inherits nothing of the grader's.

    python _papermill_main.py INPUT OUTPUT NAMESPACE CELL_TIMEOUT WORKDIR [--ready]

Run as a file, not as `-m checker...`: it imports papermill only, and nothing of the
checker, so it starts fast and holds no cluster client. Errors are allowed (every cell runs,
as "Run All" does when a cell fails); a cell that runs past CELL_TIMEOUT seconds is
interrupted and the notebook goes on. papermill saves the output after every cell, so the
grader can read how far a notebook got when it has to kill it. Exit 0 when every cell ran
without an error, 1 when some cell failed, 2 when papermill itself could not run it, 3 when
told not to run it (`--ready` and end of input), 4 when the notebook's kernel died or did not
answer within START_TIMEOUT seconds, before any cell ran (the grading machine's trouble, not
the student's: the grader runs the notebook once more).

Kernels talk to papermill over unix sockets (ZeroMQ's ipc transport) in a folder of this
process's own, not over TCP ports. jupyter_client picks a TCP kernel's ports by binding and
closing them, and the kernel binds them again later; with several notebooks graded at once
another process can take a port in between, and the kernel then dies at its start
("Address already in use", jupyter/jupyter_client#154). A student's notebook was lost to
that in a CI run.

`--ready`: get ready while the student's previous notebook still runs, then wait for a line
on stdin before running anything: papermill imported and the notebook's kernel started
(a fresh IPython in WORKDIR, nothing executed in it; it is this notebook's kernel and no
other's), so the grader's clock starts at that line and what a notebook's run costs beyond
its cells (0.6 s of imports and about 1 s of kernel start here, per notebook) overlaps the
previous notebook's waits. A kernel that fails to start then is started again by papermill
as without `--ready`, and its error said as papermill says it.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
import tempfile

_NOT_IMPORTED = ("rfc3987_syntax",)
"""Optional modules papermill's imports would load and never use: jsonschema (through
nbformat) loads rfc3987_syntax, when installed, for its `iri` format check, and building its
grammar takes 1.6 s of the 2.4 s papermill's import takes here (`python -X importtime`).
nbformat never validates that format; jsonschema does without it (it catches the
ImportError). The notebook's kernel is another process and is not affected."""
KERNEL = "python3"
START_TIMEOUT = 180
"""Seconds a kernel may take to answer (papermill's default, 60, was seen passed on a busy
grading machine running several students and a sandbox on two cores)."""


SOCKETS_IN = "RWK_KERNEL_SOCKETS_IN"
"""The variable that names the folder in which this process makes the folder of its kernel's
sockets (the grader's scratch folder, which it removes at the end, even after a kill): a
short path, as a unix socket's must be (108 bytes). Unset: the system's temporary folder."""


def _kernel_manager(sockets: str) -> object:
    """A kernel manager (no kernel started yet) whose kernel listens in folder `sockets`."""
    from jupyter_client.manager import AsyncKernelManager

    return AsyncKernelManager(kernel_name=KERNEL, transport="ipc",
                              ip=os.path.join(sockets, "kernel"))


def _started_kernel(workdir: str, sockets: str) -> object:
    """A kernel started in `workdir` for the notebook; when it would not start, a manager
    with none, which papermill starts after the go (and says what fails)."""
    from jupyter_client.utils import run_sync

    manager = _kernel_manager(sockets)
    try:
        run_sync(manager.start_kernel)(cwd=workdir)
    except Exception:
        return _kernel_manager(sockets)
    return manager


def main(argv: list[str]) -> int:
    ready = argv[5:] == ["--ready"]
    source, output, namespace, cell_timeout, workdir = argv[:5]
    for name in _NOT_IMPORTED:
        sys.modules.setdefault(name, None)   # an import of it raises ImportError
    importlib.import_module("papermill")   # now, while the previous notebook runs

    # Read and removed: the kernel inherits nothing of the grader's.
    sockets = tempfile.mkdtemp(prefix="k", dir=os.environ.pop(SOCKETS_IN, None) or None)
    try:
        kernel = _started_kernel(workdir, sockets) if ready else _kernel_manager(sockets)
        if ready and not sys.stdin.readline():
            _stop(kernel)
            return 3
        return _execute(source, output, namespace, cell_timeout, workdir, kernel)
    finally:
        shutil.rmtree(sockets, ignore_errors=True)


def _execute(source: str, output: str, namespace: str, cell_timeout: str, workdir: str,
             kernel: object) -> int:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            source, output, parameters={"NAMESPACE": namespace}, cwd=workdir,
            kernel_name=KERNEL, progress_bar=False, log_output=False,
            execution_timeout=int(float(cell_timeout)), allow_errors=True,
            interrupt_on_timeout=True, request_save_on_cell_execute=True,
            start_timeout=START_TIMEOUT, km=kernel)
    except PapermillExecutionError:
        return 1
    except Exception as error:   # not a notebook papermill can run: say why, in one line
        print(f"papermill could not run the notebook: {type(error).__name__}: {error}",
              file=sys.stderr)
        return 4 if _kernel_trouble(error) else 2
    finally:
        _stop(kernel)   # papermill does not shut down a kernel it was given
    return 0


def _kernel_trouble(error: BaseException) -> bool:
    """The kernel never answered: the RuntimeError jupyter_client raises when a kernel dies
    or does not answer within the start timeout, before any cell ran. (A kernel that dies in
    a cell may be the student's doing, and stays exit 2.)"""
    return isinstance(error, RuntimeError) and any(
        words in str(error) for words in ("Kernel didn't respond",
                                          "Kernel died before replying to kernel_info"))


def _stop(kernel: object) -> None:
    if not kernel.has_kernel:
        return
    from jupyter_client.utils import run_sync

    try:
        run_sync(kernel.shutdown_kernel)(now=True)
    except Exception:
        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
