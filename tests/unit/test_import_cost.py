"""Importing nbformat must not build rfc3987-syntax's parsers (pyproject.toml pins
jsonschema<4.25 for it): that import alone cost 2.5 s of CPU in every nbval run, every
graded notebook and every JupyterLab start."""

from __future__ import annotations

import subprocess
import sys


def test_nbformat_and_jupyter_events_leave_the_earley_iri_parsers_unbuilt():
    probe = ("import sys, nbformat, jupyter_events.validators, papermill\n"
             "print(sorted(m for m in sys.modules if m.startswith('rfc3987_syntax')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]", (
        f"jsonschema imported rfc3987-syntax ({done.stdout.strip()}); see pyproject.toml's "
        "jsonschema pin")
