"""The notebook suite's own gate can fail: `run_nbval` (nbval in a pytest session inside the
worker) reports a raising cell with its error, and stops a notebook that overruns
NOTEBOOK_TIMEOUT. Real kernels, no cluster."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from . import test_notebooks


def _notebook(folder: Path, *sources: str) -> Path:
    cells = [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
              "source": source} for source in sources]
    path = folder / "probe.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_a_notebook_that_runs_passes_in_its_folder_with_the_given_environment(tmp_path):
    """...and its kernel listens on unix sockets, not on TCP ports (`_on_unix_sockets`)."""
    env = {**os.environ, "RWK_PROBE": "given"}
    notebook = _notebook(tmp_path, "import json, os, pathlib, ipykernel.connect",
                         "assert os.environ['RWK_PROBE'] == 'given'",
                         f"assert pathlib.Path.cwd() == pathlib.Path({str(tmp_path)!r})",
                         "connection = json.loads(ipykernel.connect.get_connection_info())",
                         "assert connection['transport'] == 'ipc', connection")
    done = test_notebooks.run_nbval(notebook, env)
    assert (done.exit_code, done.failures, done.timed_out) == (0, [], False)
    assert "RWK_PROBE" not in os.environ


def test_a_raising_cell_fails_the_run_and_is_named(tmp_path):
    notebook = _notebook(tmp_path, "x = 1", "raise ValueError('the probe broke')")
    done = test_notebooks.run_nbval(notebook, dict(os.environ))
    assert done.exit_code != 0
    assert any("the probe broke" in failure for failure in done.failures), done.failures


def test_a_notebook_past_its_timeout_is_stopped_though_no_cell_is_past_its_own(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(test_notebooks, "NOTEBOOK_TIMEOUT", 4)
    notebook = _notebook(tmp_path, "import time", *["time.sleep(2)"] * 10)
    done = test_notebooks.run_nbval(notebook, dict(os.environ))
    assert done.timed_out and done.exit_code != 0
    assert any("KeyboardInterrupt" in failure for failure in done.failures), done.failures
    with pytest.raises(AssertionError, match="probe.ipynb .*stopped at 4 s"):
        test_notebooks.check_result(done, "probe.ipynb")
