"""The roster: a CSV file naming a class's students (CLASSROOM.md, "The roster").

`student` is required; `name`, `email` and `namespace` are optional; every other column is
kept, in roster order, for the gradebooks. A student without a namespace gets `student-`
and the id in lower case, each run of characters outside a-z0-9 turned into one `-`.
Bad input raises `UsageError` (exit 2) naming the line of the file.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

from ..errors import UsageError
from ..gradebook.model import Roster, Student

KNOWN = ("student", "name", "email", "namespace")
"""The columns the classroom reads; every other one is only carried along."""
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_MAX_NAMESPACE = 63
_RESERVED = ("default", "kube-system", "kube-public", "kube-node-lease")


def load_roster(path: str | os.PathLike) -> Roster:
    """The roster in `path`, its students in file order."""
    text = _read_text(Path(path))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise UsageError(f"roster {path}: the file is empty; it needs a header row with "
                             "a `student` column")
        columns = _columns(path, header)
        students: list[Student] = []
        seen_ids: dict[str, int] = {}
        seen_namespaces: dict[str, int] = {}
        while True:
            line = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                break
            if not any(cell.strip() for cell in row):
                continue   # a blank line, as spreadsheets leave at the end
            student = _student(path, line, columns, row)
            for seen, key, what in ((seen_ids, student.student, "id"),
                                    (seen_namespaces, student.namespace, "namespace")):
                if key in seen:
                    raise UsageError(f"roster {path}, line {line}: {what} {key!r} is already "
                                     f"used on line {seen[key]}; each student needs their "
                                     f"own {what}")
                seen[key] = line
            students.append(student)
    except csv.Error as error:
        raise UsageError(f"roster {path}, line {reader.line_num}: not CSV text ({error})") \
            from None
    others = tuple(name for name in columns if name not in KNOWN and name is not None)
    return Roster(path=str(path), students=tuple(students), columns=others)


def default_namespace(student_id: str) -> str:
    """`student-` and the id in lower case, each run of characters outside a-z0-9 one `-`,
    cut to 63 characters with no `-` at either end."""
    name = "student-" + re.sub(r"[^a-z0-9]+", "-", student_id.lower())
    return name[:_MAX_NAMESPACE].strip("-")


def namespace_problem(name: str) -> str | None:
    """Why `name` cannot be a student's namespace, or None when it can."""
    if len(name) > _MAX_NAMESPACE:
        return f"it has {len(name)} characters, more than {_MAX_NAMESPACE}"
    if not _LABEL.fullmatch(name):
        return ("a namespace is lower-case letters, digits and `-`, beginning and ending with "
                "a letter or digit")
    if name in _RESERVED or name.startswith("kube-"):
        return "it is one of the cluster's own namespaces"
    return None


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"roster {path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"roster {path}: a directory, not a CSV file") from None
    except OSError as error:
        raise UsageError(f"roster {path}: cannot read it ({error.strerror})") from None
    if b"\x00" in data:
        line = data[:data.index(b"\x00")].count(b"\n") + 1
        raise UsageError(f"roster {path}, line {line}: not CSV text (a NUL byte: a binary "
                         "file, or a spreadsheet saved in its own format; export it as CSV "
                         "UTF-8)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise UsageError(f"roster {path}, line {line}: not UTF-8 text (byte "
                         f"0x{data[error.start]:02x}); export the roster as CSV UTF-8") \
            from None


def _columns(path: str | os.PathLike, header: list[str]) -> list[str | None]:
    """The header's column names; None for an unnamed column (kept only while empty)."""
    names = [cell.strip() or None for cell in header]
    named = [n for n in names if n is not None]
    for name in named:
        if named.count(name) > 1:
            raise UsageError(f"roster {path}, line 1: column {name!r} appears twice in the "
                             "header")
    if "student" not in named:
        found = ", ".join(named) or "none"
        raise UsageError(f"roster {path}, line 1: no `student` column (the header names: "
                         f"{found}); add a column `student` holding each student's id")
    return names


def _student(path: str | os.PathLike, line: int, columns: list[str | None],
             row: list[str]) -> Student:
    where = f"roster {path}, line {line}"
    if len(row) > len(columns):
        raise UsageError(f"{where}: {len(row)} cells, but the header names {len(columns)} "
                         "columns")
    cells = dict.fromkeys((c for c in columns if c is not None), "")
    for name, value in zip(columns, row):
        if name is None:
            if value.strip():
                raise UsageError(f"{where}: a value ({value.strip()[:20]!r}) in a column the "
                                 "header leaves unnamed")
            continue
        cells[name] = value
    student_id = cells["student"].strip()
    if not student_id:
        raise UsageError(f"{where}: the `student` cell is empty; every student needs an id")
    namespace = cells.get("namespace", "").strip()
    given = bool(namespace)
    namespace = namespace or default_namespace(student_id)
    problem = namespace_problem(namespace)
    if problem:
        source = "the namespace" if given else f"the namespace made from id {student_id!r}"
        raise UsageError(f"{where}: {source} {namespace!r} is not valid: {problem}; set the "
                         "`namespace` column")
    others = tuple((name, value) for name, value in cells.items() if name not in KNOWN)
    return Student(student=student_id, namespace=namespace, name=cells.get("name", "").strip(),
                   email=cells.get("email", "").strip(), columns=others)
