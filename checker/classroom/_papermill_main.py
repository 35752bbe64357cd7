"""Run one handed-in notebook with papermill: the process `rwk grade --submissions` starts for
each notebook, in the student's environment (their restricted KUBECONFIG, no other
credentials), so the kernel papermill starts inherits nothing of the grader's.

    python _papermill_main.py INPUT OUTPUT NAMESPACE CELL_TIMEOUT WORKDIR

Run as a file, not as `-m checker...`: it imports papermill only, and nothing of the
checker, so it starts fast and holds no cluster client. Errors are allowed (every cell runs,
as "Run All" does when a cell fails); a cell that runs past CELL_TIMEOUT seconds is
interrupted and the notebook goes on. papermill saves the output after every cell, so the
grader can read how far a notebook got when it has to kill it. Exit 0 when every cell ran
without an error, 1 when some cell failed, 2 when papermill itself could not run it.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    source, output, namespace, cell_timeout, workdir = argv
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            source, output, parameters={"NAMESPACE": namespace}, cwd=workdir,
            kernel_name="python3", progress_bar=False, log_output=False,
            execution_timeout=int(float(cell_timeout)), allow_errors=True,
            interrupt_on_timeout=True, request_save_on_cell_execute=True)
    except PapermillExecutionError:
        return 1
    except Exception as error:   # not a notebook papermill can run: say why, in one line
        print(f"papermill could not run the notebook: {type(error).__name__}: {error}",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
