"""Writing one gradebook file so that a crash never leaves half of it under its final name.

Every writer goes through `write_text`: the text goes to a temporary file in the same folder
(so the rename stays on one file system), is flushed to disk, and only then replaces the
final name with `os.replace`, which is atomic. A reader sees the old file or the new one.

The files are owner-only (mode 0600, whatever the umask): they hold students' names, emails
and grades, and a student's kubeconfig holds a token. The classroom writes its kubeconfigs and
the executed notebooks through `write_text` too.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path


def write_text(path: Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically, creating its folder; return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp")
    try:
        os.fchmod(handle, 0o600)
        # newline="": the text is written as given (CSV rows end in \r\n by the csv module).
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path


def write_json(path: Path, value: object) -> Path:
    """`value` as indented JSON, non-ASCII characters kept as they are (the file is UTF-8)."""
    return write_text(path, json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """A header row and the rows, quoted by the csv module so any text round-trips."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return write_text(path, buffer.getvalue())
