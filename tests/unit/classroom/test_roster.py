"""The roster (CLASSROOM.md, "The roster"): columns, derived namespaces, and every kind of
bad input refused with the line it is on."""

from __future__ import annotations

import pytest

from checker.classroom.roster import default_namespace, load_roster
from checker.errors import UsageError


def roster(tmp_path, text: str | bytes, name: str = "roster.csv"):
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def refused(tmp_path, text: str | bytes) -> str:
    with pytest.raises(UsageError) as error:
        load_roster(roster(tmp_path, text))
    assert error.value.exit_code == 2
    return str(error.value)


def test_students_in_file_order_with_their_columns(tmp_path):
    loaded = load_roster(roster(tmp_path, "student,name,email,Section,SIS User ID\n"
                                          "alice,Alice A,a@example.com,S1,1001\n"
                                          "Bob.B,Bob,b@example.com,S2,1002\n"))
    assert [s.student for s in loaded.students] == ["alice", "Bob.B"]
    alice, bob = loaded.students
    assert (alice.name, alice.email, alice.namespace) == ("Alice A", "a@example.com",
                                                          "student-alice")
    assert bob.namespace == "student-bob-b"
    assert loaded.columns == ("Section", "SIS User ID")
    assert bob.columns == (("Section", "S2"), ("SIS User ID", "1002"))
    assert bob.column("SIS User ID") == "1002" and bob.file_id == "student-bob-b"


def test_only_student_is_required_and_a_bom_is_accepted(tmp_path):
    loaded = load_roster(roster(tmp_path, "\ufeffstudent\r\nzoe\r\n\r\n"))
    assert [(s.student, s.name, s.email, s.namespace) for s in loaded.students] == \
        [("zoe", "", "", "student-zoe")]
    assert loaded.columns == ()


def test_a_namespace_column_is_used_and_empty_cells_fall_back(tmp_path):
    loaded = load_roster(roster(tmp_path, "namespace,student\nteam-a,amy\n,ben\n"))
    assert [s.namespace for s in loaded.students] == ["team-a", "student-ben"]


@pytest.mark.parametrize("student_id, namespace", [
    ("alice", "student-alice"),
    ("Alice Smith", "student-alice-smith"),
    ("j.doe@uni.edu", "student-j-doe-uni-edu"),
    ("A__B  C!!", "student-a-b-c-"[:-1]),
    ("Zoë 42", "student-zo-42"),
    ("x" * 80, ("student-" + "x" * 80)[:63]),
    ("a" * 54 + " b", "student-" + "a" * 54),     # cut at 63, then no trailing dash
    ("李雷", "student"),
])
def test_default_namespace(student_id, namespace):
    assert default_namespace(student_id) == namespace
    assert len(namespace) <= 63 and not namespace.endswith("-")


def test_quoted_cells_with_commas_and_newlines(tmp_path):
    loaded = load_roster(roster(tmp_path, 'student,name\n"doe, jane","Jane\nDoe"\nmax,Max\n'))
    assert [s.student for s in loaded.students] == ["doe, jane", "max"]
    assert loaded.students[0].namespace == "student-doe-jane"


def test_no_student_column(tmp_path):
    message = refused(tmp_path, "Student,ID\nDoe,1\n")
    assert "line 1" in message and "no `student` column" in message and "Student, ID" in message


def test_empty_id_names_its_line(tmp_path):
    message = refused(tmp_path, "student,name\nann,Ann\n,Nobody\n")
    assert "line 3" in message and "empty" in message


def test_repeated_id_names_both_lines(tmp_path):
    message = refused(tmp_path, "student\nann\nbob\nann\n")
    assert "line 4" in message and "line 2" in message and "'ann'" in message


def test_two_students_with_one_namespace(tmp_path):
    message = refused(tmp_path, "student\nAnn.B\nann-b\n")
    assert "line 3" in message and "student-ann-b" in message and "line 2" in message
    message = refused(tmp_path, "student,namespace\nann,shared\nbob,shared\n")
    assert "line 3" in message and "'shared'" in message


@pytest.mark.parametrize("namespace", ["Team_A", "-a", "a-", "a" * 64, "kube-system",
                                       "default", "kube-x", "a.b"])
def test_invalid_namespace(tmp_path, namespace):
    message = refused(tmp_path, f"student,namespace\nok,fine\nann,{namespace}\n")
    assert "line 3" in message and "not valid" in message and repr(namespace) in message


def test_binary_file(tmp_path):
    message = refused(tmp_path, b"PK\x03\x04\x14\x00\x00\x00student\n")
    assert "not CSV text" in message and "line 1" in message


def test_undecodable_text(tmp_path):
    message = refused(tmp_path, "student,name\nann,Ann\nbob,B".encode() + b"\xe9b\xe9\n")
    assert "not UTF-8" in message and "line 3" in message


def test_bad_csv_quoting(tmp_path):
    message = refused(tmp_path, 'student\n"ann\n')
    assert "not CSV text" in message


def test_too_many_cells_and_values_in_unnamed_columns(tmp_path):
    assert "line 2" in refused(tmp_path, "student,name\nann,Ann,extra\n")
    assert "unnamed" in refused(tmp_path, "student,\nann,x\n")
    loaded = load_roster(roster(tmp_path, "student,,\nann,,\n"))   # a spreadsheet's tail
    assert loaded.columns == () and loaded.students[0].student == "ann"


def test_repeated_column_and_empty_or_missing_file(tmp_path):
    assert "appears twice" in refused(tmp_path, "student,name,name\nann,a,b\n")
    assert "empty" in refused(tmp_path, "")
    with pytest.raises(UsageError, match="no such file"):
        load_roster(tmp_path / "missing.csv")
