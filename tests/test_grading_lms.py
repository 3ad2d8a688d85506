"""LMS import files (course_utils/grading/lms.py): Canvas's gradebook CSV and Moodle's grade import CSV, exact to
the byte; the roster mapping; students missing on either side; bad rosters and gradebooks named by file, row
and column; odd names quoted; atomic writes. No kernel starts: results and gradebooks are built here."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import textwrap
from pathlib import Path

import pytest

from course_utils.__main__ import main
from course_utils.grading import gradebook
from course_utils.grading.gradebook import write_gradebook
from course_utils.grading.lms import (
    ROSTER_COLUMNS,
    Grade,
    LmsInputError,
    RosterEntry,
    _number,
    grades_from_results,
    match_students,
    parse_assignment_titles,
    parse_formats,
    read_gradebook,
    read_roster,
    student_of,
    write_lms_files,
)
from course_utils.grading.results import ExerciseResult, SubmissionResult

GRADES = [
    Grade("alice__00_multichannel_conv", "00", 7.5, 9),
    Grade("bob__00_multichannel_conv", "00", 9, 9),
    Grade("alice__03_inception", "03", 12, 12),
]


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _roster(tmp_path: Path, text: str, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# The formats, byte for byte
# ---------------------------------------------------------------------------------------------
def test_canvas_file_without_a_roster_is_exact(tmp_path):
    report = write_lms_files(GRADES, tmp_path / "gradebook.csv", ["canvas"])
    assert [(f, p.name) for f, p, _ in report.written] == [("canvas", "gradebook.canvas.csv")]
    assert report.problems == [] and report.notes == []
    assert (tmp_path / "gradebook.canvas.csv").read_bytes() == (
        b"Student,ID,SIS User ID,SIS Login ID,Section,Exercises 00,Exercises 03\r\n"
        b"    Points Possible,,,,,9,12\r\n"
        b"alice,,,alice,,7.5,12\r\n"
        b"bob,,,bob,,9,\r\n"  # bob did not submit lesson 03: blank, which Canvas leaves unchanged
    )


def _canvas_separator(text: str) -> str:
    """Canvas's importer guesses the separator from the first three lines (identify_delimiter): a separator
    counts only if it splits every line into as many fields, and semicolons win only with more fields."""
    lines = re.findall(r"[^\n]*\n|[^\n]+$", text)[:3]
    counts = {";": 0, ",": 0}
    for sep in counts:
        try:
            sizes = {len(next(csv.reader([line], delimiter=sep, strict=True), [])) for line in lines}
        except csv.Error:  # Ruby's MalformedCSVError, e.g. a quoted line break cut by readline
            continue
        counts[sep] = sizes.pop() if len(sizes) == 1 else 0
    return ";" if counts[";"] > counts[","] else ","


def _canvas_importer_reads(path: Path) -> dict[str, object]:
    """The checks of Canvas's own importer (instructure/canvas-lms lib/gradebook_importer.rb: identify_delimiter,
    header?, update_column_count, check_for_non_student_row, Assignment.title_and_id), restated to test our file."""
    assert _canvas_separator(path.read_text(encoding="utf-8")) == ","
    rows = _rows(path)
    header = rows[0]
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1]
    student_columns = 3
    if re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]):
        student_columns += 2
    assert "Section" in header[student_columns - 1]  # the last student column
    assert "Points Possible" in rows[1][0]
    titles = header[student_columns:]
    ids = [m.group(2) if (m := re.fullmatch(r"(.*)\s\((\d+)\)", t)) else None for t in titles]
    points = dict(zip(titles, rows[1][student_columns:], strict=True))
    return {"student_columns": student_columns, "titles": titles, "assignment_ids": ids, "points": points}


def test_canvas_file_passes_the_checks_of_canvas_own_importer(tmp_path):
    titles = parse_assignment_titles(["03=Exercises 03 — Inception (4567)"])
    write_lms_files(GRADES, tmp_path / "gradebook.csv", ["canvas"], titles=titles)
    seen = _canvas_importer_reads(tmp_path / "gradebook.canvas.csv")
    assert seen["student_columns"] == 5  # Student, ID, SIS User ID, SIS Login ID, Section
    assert seen["assignment_ids"] == [None, "4567"]  # lesson 00 by title (or new); lesson 03 is assignment 4567
    assert seen["points"] == {"Exercises 00": "9", "Exercises 03 — Inception (4567)": "12"}


def test_moodle_files_one_per_lesson_without_a_roster_are_exact(tmp_path):
    report = write_lms_files(GRADES, tmp_path / "gradebook.csv", ["moodle"])
    assert [p.name for _, p, _ in report.written] == ["gradebook.moodle-00.csv", "gradebook.moodle-03.csv"]
    assert "map 'Username' to username" in report.written[0][2]
    assert (tmp_path / "gradebook.moodle-00.csv").read_bytes() == b"Username,Exercises 00\r\nalice,7.5\r\nbob,9\r\n"
    # bob has no lesson 03: he is not in its file at all (a blank would clear his grade in Moodle)
    assert (tmp_path / "gradebook.moodle-03.csv").read_bytes() == b"Username,Exercises 03\r\nalice,12\r\n"


def test_both_formats_at_once_and_points_are_never_in_exponent_form(tmp_path):
    grades = [Grade("a__00_x", "00", 0.01, 9), Grade("b__00_x", "00", 2.25, 9), Grade("c__00_x", "00", 0, 9)]
    report = write_lms_files(grades, tmp_path / "g.csv", parse_formats(["canvas,moodle"]))
    assert [p.name for _, p, _ in report.written] == ["g.canvas.csv", "g.moodle-00.csv"]
    assert [r[1] for r in _rows(tmp_path / "g.moodle-00.csv")[1:]] == ["0.01", "2.25", "0"]
    assert [_number(x) for x in (9.0, 12, 7.5, 1e-5, -0.0, 3.333333)] == ["9", "12", "7.5", "0", "0", "3.33"]


# ---------------------------------------------------------------------------------------------
# Students: folder names, the roster, who is missing on either side
# ---------------------------------------------------------------------------------------------
def test_the_folder_names_the_student():
    assert student_of("alice__03_inception") == "alice"
    assert student_of("sec1__alice__03_inception") == "sec1__alice"  # nested folders: the whole folder path
    assert student_of("03_inception") == ""  # a notebook graded on its own: no folder, no student


ROSTER = (
    "Student,Name,Canvas_ID,SIS_User_ID,SIS_Login_ID,Section,Email,IDNumber\n"
    "bob,Bob Jones,102,S-2,bjones,Lab B,bob@example.org,2002\n"
    'alice,"Smith, Alice",101,S-1,asmith,Lab A,alice@example.org,2001\n'
    "carol,Carol,103,,,Lab A,carol@example.org,2003\n"
)


def test_the_roster_supplies_the_lms_identifiers_in_its_own_order(tmp_path):
    roster = read_roster(_roster(tmp_path, ROSTER))
    report = write_lms_files(GRADES, tmp_path / "gradebook.csv", ["canvas", "moodle"], roster)
    assert _rows(tmp_path / "gradebook.canvas.csv")[2:] == [
        ["Bob Jones", "102", "S-2", "bjones", "Lab B", "9", ""],
        ["Smith, Alice", "101", "S-1", "asmith", "Lab A", "7.5", "12"],
    ]
    # Moodle: email comes first of email, idnumber, username; its header is the one Moodle's own export uses
    assert _rows(tmp_path / "gradebook.moodle-00.csv") == [
        ["Email address", "Exercises 00"],
        ["bob@example.org", "9"],
        ["alice@example.org", "7.5"],
    ]
    assert "map 'Email address' to useremail" in report.written[1][2]
    assert report.problems == []
    assert report.notes == [f"in the roster {tmp_path / 'roster.csv'} but no submission graded (left out; their LMS "
                            "grades stay as they are): carol"]  # fmt: skip


def test_moodle_uses_idnumber_then_username_when_the_roster_has_no_email(tmp_path):
    roster = read_roster(
        _roster(tmp_path, "student,idnumber,username\nalice,2001,asmith\nbob,2002,bjones\n"), ["moodle"]
    )
    write_lms_files(GRADES, tmp_path / "g.csv", ["moodle"], roster)
    assert _rows(tmp_path / "g.moodle-00.csv") == [["ID number", "Exercises 00"], ["2001", "7.5"], ["2002", "9"]]
    roster = read_roster(_roster(tmp_path, "student,username\nalice,asmith\nbob,bjones\n"), ["moodle"])
    write_lms_files(GRADES, tmp_path / "g.csv", ["moodle"], roster)
    assert _rows(tmp_path / "g.moodle-00.csv")[0] == ["Username", "Exercises 00"]


def test_graded_students_missing_from_the_roster_are_reported_and_left_out(tmp_path):
    roster = read_roster(_roster(tmp_path, "student,canvas_id\nalice,101\ncarol,103\n"), ["canvas"])
    report = write_lms_files(GRADES, tmp_path / "g.csv", ["canvas"], roster)
    assert report.problems == [f"bob (bob__00_multichannel_conv): not in the roster {roster.path}; add a row for bob"]
    assert "no submission graded" in report.notes[0] and report.notes[0].endswith(": carol")
    assert [r[0] for r in _rows(tmp_path / "g.canvas.csv")[2:]] == ["alice"]


def test_two_submissions_for_one_lesson_lone_notebooks_and_unknown_lessons_are_reported():
    grades = [*GRADES, Grade("alice__00_multichannel_conv-2", "00", 0, 9), Grade("03_x", "03", 1, 12)]
    grades.append(Grade("dave__broken", "", 0, 0))
    export = match_students(grades)
    assert export.problems == [
        "03_x: graded as a lone notebook, so no folder names its student; grade the folder "
        "(`grade submissions/` with submissions/STUDENT/NN_topic.ipynb)",
        "dave__broken: no lesson (the grader could not tell which lesson it is)",
        "alice has 2 submissions for lesson 00 (alice__00_multichannel_conv, alice__00_multichannel_conv-2); keep one",
    ]
    assert ("alice", "00") not in export.cells and export.cells[("alice", "03")].points == 12  # never guessed
    assert export.students == ["alice", "bob"]


def test_assignment_titles_are_checked():
    assert parse_assignment_titles(["03 = Exercises 03 (4567)"]) == {"03": "Exercises 03 (4567)"}
    for bad in ("3=x", "03", "03=", "ab=x"):
        with pytest.raises(LmsInputError, match="expected LESSON=TITLE"):
            parse_assignment_titles([bad])
    with pytest.raises(LmsInputError, match="Canvas ignores a column whose title contains 'Final Grade'"):
        parse_assignment_titles(["10=Final Grade project"])
    with pytest.raises(LmsInputError, match="is the name of a student column"):
        parse_assignment_titles(["03=email address"])
    with pytest.raises(LmsInputError, match="lesson 03 is given twice"):
        parse_assignment_titles(["03=a", "03=b"])
    with pytest.raises(LmsInputError, match="share the column title 'Same'"):
        match_students(GRADES, titles={"00": "Same", "03": "Same"})
    assert "lesson 07: no submission" in match_students(GRADES, titles={"07": "x"}).notes[0]


def test_a_roster_read_for_one_format_is_checked_again_for_another(tmp_path):
    roster = read_roster(_roster(tmp_path, "student,canvas_id\nalice,101\n"), ["canvas"])
    with pytest.raises(LmsInputError, match="row 1: Moodle needs a column email, idnumber, username"):
        write_lms_files(GRADES, tmp_path / "g.csv", ["moodle"], roster)
    assert not list(tmp_path.glob("g.*"))


def test_formats_are_checked():
    assert parse_formats(["canvas", "Moodle,canvas"]) == ["canvas", "moodle"]
    with pytest.raises(LmsInputError, match="--format 'blackboard' is not supported: choose from canvas, moodle"):
        parse_formats(["canvas,blackboard"])


def test_the_roster_columns_are_the_entry_fields():
    assert ROSTER_COLUMNS == tuple(f.name for f in dataclasses.fields(RosterEntry) if f.name != "row")


# ---------------------------------------------------------------------------------------------
# Bad input: the file, the row and the column are named
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "formats", "expected"),
    [
        ("name,canvas_id\nAlice,101\n", ["canvas"], "row 1: no 'student' column"),
        ("student,canvas id\nalice,101\n", ["canvas"], "row 1: unknown column 'canvas id'; the columns are student,"),
        ("student,email,Email\na,x,y\n", ["moodle"], "row 1: column 'email' appears twice"),
        ("student,canvas_id\nalice,101\nbob\n", ["canvas"], "row 3: 1 fields, its header has 2"),
        ("student,canvas_id\nalice,101\n\nbob\n", ["canvas"], "row 4: 1 fields"),  # a blank row still counts
        ("student,canvas_id\n ,101\n", ["canvas"], "row 2, column 'student': empty"),
        ("student,canvas_id\nalice,101\nalice,102\n", ["canvas"], "rows 2 and 3, column 'student': both are 'alice'"),
        ("student,email\na,x@e.org\nb,x@e.org\n", ["moodle"], "rows 2 and 3, column 'email': both are 'x@e.org'"),
        ("student,email\nalice,a@e.org\n", ["canvas"], "row 1: Canvas needs a column canvas_id, sis_user_id"),
        (
            "student,canvas_id,sis_login_id\na,1,x\nb,,\n",
            ["canvas"],
            "row 3 (student 'b'): no canvas_id / sis_login_id",
        ),
        ("student,canvas_id\nalice,101\n", ["moodle"], "row 1: Moodle needs a column email, idnumber, username"),
        ("student,email,username\na,,ua\n", ["moodle"], "row 2 (student 'a'), column 'email': empty"),
        ("", ["canvas"], "is empty: expected a header row"),
        ('student,canvas_id\n"alice,101\n', ["canvas"], "not valid CSV"),
    ],
)
def test_bad_rosters_are_refused_naming_file_row_and_column(tmp_path, text, formats, expected):
    path = _roster(tmp_path, text)
    with pytest.raises(LmsInputError) as err:
        read_roster(path, formats)
    assert str(err.value).startswith(f"roster {path}") and expected in str(err.value)


def test_unreadable_rosters_are_refused_with_the_reason(tmp_path):
    (tmp_path / "latin1.csv").write_bytes("student,name\nj,Jos\xe9\n".encode("latin-1"))
    with pytest.raises(LmsInputError, match="is not UTF-8 text .*save it as CSV UTF-8"):
        read_roster(tmp_path / "latin1.csv", ["canvas"])
    with pytest.raises(LmsInputError, match=f"roster {tmp_path / 'nope.csv'} does not exist"):
        read_roster(tmp_path / "nope.csv")
    with pytest.raises(LmsInputError, match="is a folder, not a CSV file"):
        read_roster(tmp_path)
    bom = _roster(tmp_path, "\ufeffstudent,canvas_id\r\nalice,101\r\n")  # as Excel saves "CSV UTF-8"
    assert read_roster(bom, ["canvas"]).entries["alice"].canvas_id == "101"


def test_bad_gradebooks_are_refused_naming_file_row_and_column(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("submission,lesson,total,max\na__00_x,00,seven,9\n", encoding="utf-8")
    with pytest.raises(LmsInputError, match=r"g.csv, row 2, column 'total': 'seven' is not a number"):
        read_gradebook(path)
    path.write_text("# WARNING\nsubmission,lesson,total,max\n\na__00_x,00,7\n", encoding="utf-8")
    with pytest.raises(LmsInputError, match=r"g.csv, row 4: 3 fields, its header has 4"):  # as a spreadsheet counts
        read_gradebook(path)
    path.write_text("submission,total\na__00_x,7\n", encoding="utf-8")
    with pytest.raises(LmsInputError, match=r"no column 'lesson', 'max' in its header"):
        read_gradebook(path)


# ---------------------------------------------------------------------------------------------
# Odd names, the gradebook round trip, atomic writes, inputs never overwritten
# ---------------------------------------------------------------------------------------------
ODD = ['O\'Brien, Seán "Jr"', "Zoë; Ōtsuka 大塚", "line\nbreak", " spaced "]


def test_odd_names_are_quoted_and_read_back_exactly(tmp_path):
    lines = ["student,name,canvas_id,username"]
    for i, name in enumerate(ODD):
        quoted = '"' + name.replace('"', '""') + '"'
        lines.append(f"s{i},{quoted},{100 + i},{quoted}")
    roster = read_roster(_roster(tmp_path, "\n".join(lines) + "\n"))
    grades = [Grade(f"s{i}__00_x", "00", i, 9) for i in range(len(ODD))]
    write_lms_files(grades, tmp_path / "g.csv", ["canvas", "moodle"], roster)
    assert _canvas_importer_reads(tmp_path / "g.canvas.csv")["titles"] == ["Exercises 00"]
    stripped = [n.strip() for n in ODD]  # the roster's values are stripped of surrounding spaces
    assert [r[0] for r in _rows(tmp_path / "g.canvas.csv")[2:]] == stripped
    assert [r[0] for r in _rows(tmp_path / "g.moodle-00.csv")[1:]] == stripped
    text = (tmp_path / "g.canvas.csv").read_text(encoding="utf-8")
    assert '"O\'Brien, Seán ""Jr""",100,' in text and '"line\nbreak",102,' in text
    # without a roster, an odd folder name travels the same way
    write_lms_files([Grade(f"{ODD[0]}__00_x", "00", 1, 9)], tmp_path / "h.csv", ["canvas"])
    assert _rows(tmp_path / "h.canvas.csv")[2][:4] == [ODD[0], "", "", ODD[0]]


def test_export_from_a_written_gradebook_equals_export_from_the_results(tmp_path):
    results = [
        SubmissionResult("alice__00_x", "a.ipynb", "00", [ExerciseResult("e1", 2.5, 3), ExerciseResult("e2", 6, 6)]),
        SubmissionResult(f"{ODD[0]}__00_x", "b.ipynb", "00", [ExerciseResult("e1", 0, 3, "not attempted")]),
        SubmissionResult("broken", "c.ipynb", error="cannot tell which lesson this is"),
    ]
    write_gradebook(results, tmp_path / "gradebook.csv", header_note="WARNING: graded with --no-sandbox")
    grades, note = read_gradebook(tmp_path / "gradebook.csv")
    assert grades == grades_from_results(results) and note == "WARNING: graded with --no-sandbox"
    assert grades[0] == Grade("alice__00_x", "00", 8.5, 9)


def test_files_are_written_atomically_and_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    out = tmp_path / "g.csv"
    write_lms_files(GRADES, out, ["canvas"])
    before = (tmp_path / "g.canvas.csv").read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(gradebook.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_lms_files([Grade("zed__00_x", "00", 1, 9)], out, ["canvas"])
    assert (tmp_path / "g.canvas.csv").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["g.canvas.csv"]  # no temporary file left behind


def test_an_input_is_never_overwritten(tmp_path):
    roster_path = _roster(tmp_path, "student,canvas_id\nalice,101\n", name="g.canvas.csv")
    roster = read_roster(roster_path, ["canvas"])
    with pytest.raises(LmsInputError, match="is an input .* never overwritten"):
        write_lms_files(GRADES, tmp_path / "g.csv", ["canvas"], roster)
    assert roster_path.read_text(encoding="utf-8") == "student,canvas_id\nalice,101\n"


# ---------------------------------------------------------------------------------------------
# The commands
# ---------------------------------------------------------------------------------------------
def test_export_grades_command_writes_the_files_and_exits_1_naming_what_it_left_out(tmp_path, capsys):
    results = [SubmissionResult(g.submission, "x.ipynb", g.lesson, [ExerciseResult("e", g.points, g.max_points)])
               for g in GRADES]  # fmt: skip
    write_gradebook(results, tmp_path / "gradebook.csv")
    roster = _roster(tmp_path, "student,canvas_id,email\nalice,101,alice@example.org\n")
    command = ["export-grades", str(tmp_path / "gradebook.csv"), "--format", "canvas", "--format", "moodle"]
    assert main([*command, "--roster", str(roster)]) == 1
    out, err = capsys.readouterr()
    assert f"canvas: wrote {tmp_path / 'gradebook.canvas.csv'}" in out
    assert "map 'Email address' to useremail" in out
    assert "left out of the LMS files: bob (bob__00_multichannel_conv): not in the roster" in err
    assert _rows(tmp_path / "gradebook.canvas.csv")[2] == ["alice", "101", "", "", "", "7.5", "12"]
    assert main(command) == 0  # without a roster every folder is its own identifier


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "blackboard"], "--format 'blackboard' is not supported"),
        (["--roster", "r.csv"], "--roster and --assignment need --format canvas or moodle"),
        (["--format", "canvas", "--roster", "missing.csv"], "roster missing.csv does not exist"),
        (["--format", "canvas", "--assignment", "3=x"], "expected LESSON=TITLE"),
    ],
)
def test_grade_checks_the_lms_options_before_grading_anything(tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    (tmp_path / "subs" / "alice" / "00_multichannel_conv.ipynb").write_text("{}")
    assert main(["grade", "subs", "--out", "g.csv", "--no-sandbox", *extra]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "g.csv").exists()


def test_grade_writes_the_lms_files_after_the_batch(tmp_path, capsys, monkeypatch):
    """The real `grade` command, in-process and without a kernel: invalid notebooks score 0 without one."""
    monkeypatch.chdir(tmp_path)
    for student in ("alice", "bob"):
        (tmp_path / "subs" / student).mkdir(parents=True)
        (tmp_path / "subs" / student / "00_multichannel_conv.ipynb").write_text('{"cells": [ not json')
    roster = _roster(tmp_path, "student,name,canvas_id,email\nbob,Bob,102,bob@e.org\nalice,Alice,101,alice@e.org\n")
    command = ["grade", "subs", "--out", "out/g.csv", "--no-sandbox", "--format", "canvas,moodle"]
    assert main([*command, "--roster", str(roster), "--assignment", "00=Exercises 00 (4567)"]) == 0
    assert "canvas: wrote out/g.canvas.csv" in capsys.readouterr().out
    assert (tmp_path / "out" / "g.canvas.csv").read_bytes() == (
        b"Student,ID,SIS User ID,SIS Login ID,Section,Exercises 00 (4567)\r\n"
        b"    Points Possible,,,,,9\r\n"
        b"Bob,102,,,,0\r\n"
        b"Alice,101,,,,0\r\n"
    )
    assert (tmp_path / "out" / "g.moodle-00.csv").read_bytes() == (
        b"Email address,Exercises 00 (4567)\r\nbob@e.org,0\r\nalice@e.org,0\r\n"
    )
    assert (tmp_path / "out" / "g.csv").read_text().startswith("# WARNING: graded with --no-sandbox")


def test_the_readme_lms_commands_and_roster_are_what_the_code_accepts(tmp_path):
    """The README's commands parse with the real parser, and its example roster reads for both formats."""
    import shlex

    from course_utils.__main__ import build_parser

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^\s*python -m course_utils ((?:grade|export-grades) .*--format .*)$", readme, re.M)
    assert len(commands) >= 3
    for command in commands:
        args = build_parser().parse_args(shlex.split(command))
        assert parse_formats(args.format) and parse_assignment_titles(args.assignment or []) is not None
    (example,) = re.findall(r"```csv\n(.*?)```", readme, re.S)
    roster = read_roster(_roster(tmp_path, textwrap.dedent(example)))
    assert roster.entries["alice"] == RosterEntry(
        "alice", 2, name="Smith, Alice", canvas_id="4711", sis_login_id="asmith", email="alice@example.org"
    )
