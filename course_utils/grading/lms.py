"""Gradebook files that a learning management system imports as they are: Canvas's gradebook CSV and Moodle's
grade import CSV, written beside ``gradebook.csv`` by ``grade --format`` or ``export-grades``.

Who is who. ``grade submissions/`` names ``submissions/alice/03_inception.ipynb`` ``alice__03_inception``: the
folder names the student (``find.find_submissions``). So a submission's student is its name without the last
``__`` part (``student_of``): ``alice``; a nested ``submissions/sec1/alice/03_x.ipynb`` gives ``sec1__alice``. A
notebook graded on its own (``grade 03_x.ipynb``) has no folder, so no student: it is reported, never guessed.

A roster (``--roster roster.csv``, UTF-8, a header row, then one row per student) gives each folder name the
identifiers the LMS knows. Its columns (``ROSTER_COLUMNS``; any order; only ``student`` is always required):

=================  ==========================================================================================
``student``        the submission folder's name, exactly as graded (``alice``, ``sec1__alice``)
``name``           the name shown in Canvas's Student column (default: the folder name)
``canvas_id``      Canvas's user ID (the ``ID`` column of a Canvas gradebook export)
``sis_user_id``    Canvas's ``SIS User ID``
``sis_login_id``   Canvas's ``SIS Login ID`` (the login)
``section``        Canvas's ``Section`` (informative: Canvas does not match students by it)
``email``          Moodle: the user's email address (Moodle: map "Email address" to ``useremail``)
``idnumber``       Moodle: the user's ID number (map "ID number" to ``useridnumber``)
``username``       Moodle: the user's username (map "Username" to ``username``)
=================  ==========================================================================================

For Canvas every roster row needs one of ``canvas_id``, ``sis_user_id``, ``sis_login_id``; for Moodle every row
needs the first of ``email``, ``idnumber``, ``username`` that the roster has as a column, and that column is the
file's one identifier column. Unknown columns, duplicate students or identifiers, and missing values are errors
naming the file, the row (the header is row 1, as in a spreadsheet) and the column. Without a roster the folder
name is the identifier: Canvas gets it as the student's name and SIS Login ID, Moodle as the username.

Students graded but missing from the roster, two submissions of one student for one lesson, and submissions with
no student or no lesson are *problems*: left out of the LMS files and listed (the command exits 1). Roster
students with no submission are *notes*: left out, so their LMS grades stay as they are.

The formats, as the tools' own code and documentation define them:

* Canvas (``instructure/canvas-lms``, ``lib/gradebook_importer.rb``, commit 00b222d7; ``lib/gradebook_exporter.rb``
  writes the same layout): the header must start ``Student``, ``ID`` and end its student columns with
  ``Section``; ``SIS User ID`` and ``SIS Login ID`` sit between them. A student is matched by ``ID``, then ``SIS
  User ID``, then ``SIS Login ID``, then by name. Each further column is an assignment: ``Title (123)`` matches
  assignment 123, a bare title matches an assignment of that title or creates a new one. A row whose first cell
  contains ``Points Possible`` (the exporter writes ``"    Points Possible"``) gives each assignment's points. A
  blank cell changes nothing. Comma or semicolon separated, UTF-8. Ohio State's CarmenCanvas guide "Import CSV
  File for Carmen Grades" (teaching.resources.osu.edu) describes the same columns and that new assignment columns
  create new assignments.
* Moodle (MoodleDocs "Grade import", docs.moodle.org/311/en/Grade_import; ``moodle/moodle``,
  ``grade/import/csv/classes/load_data.php``): a header row; the instructor maps one column ("Map from") to a
  user field ("Map to": ``userid``, ``username``, ``useridnumber`` or ``useremail``) and each other column to a
  grade item, a new grade item, or "ignore". A row whose user is not found aborts the whole import, a row with a
  blank identifier keeps the previous row's user, and a blank or ``-`` grade is imported as "no grade" (it
  clears a grade already there). So a Moodle file is written per lesson (``gradebook.moodle-03.csv``), and holds
  only students who have a grade for it, each with a non-empty identifier.

Every file is written atomically (``gradebook._atomic_write``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .gradebook import _atomic_write
from .results import SubmissionResult

__all__ = [
    "FORMATS",
    "ROSTER_COLUMNS",
    "LmsInputError",
    "Grade",
    "RosterEntry",
    "Roster",
    "Export",
    "ExportReport",
    "student_of",
    "grades_from_results",
    "read_gradebook",
    "read_roster",
    "parse_formats",
    "parse_assignment_titles",
    "match_students",
    "canvas_rows",
    "moodle_rows",
    "lms_paths",
    "write_lms_files",
]

FORMATS = ("canvas", "moodle")
ROSTER_COLUMNS = (
    "student",
    "name",
    "canvas_id",
    "sis_user_id",
    "sis_login_id",
    "section",
    "email",
    "idnumber",
    "username",
)
CANVAS_IDS = ("canvas_id", "sis_user_id", "sis_login_id")  # Canvas tries them in this order, then the name
MOODLE_IDS = ("email", "idnumber", "username")  # the first one the roster has identifies students in Moodle
MOODLE_HEADERS = {"email": "Email address", "idnumber": "ID number", "username": "Username"}  # Moodle's own export
MOODLE_MAP_TO = {"email": "useremail", "idnumber": "useridnumber", "username": "username"}  # its "Map to" values
CANVAS_HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_POSSIBLE = "    Points Possible"  # as Canvas's exporter writes it; the importer looks for the words
# Canvas's importer drops every column whose title contains one of these (NON_ASSIGNMENT_COLUMN_HEADERS)
CANVAS_NOT_ASSIGNMENTS = (
    "Current Score",
    "Current Points",
    "Current Grade",
    "Final Score",
    "Final Points",
    "Final Grade",
    "Override Score",
    "Override Grade",
    "Override Status",
)


class LmsInputError(ValueError):
    """A roster, gradebook or option that cannot be exported: the message names the file, row and column."""


@dataclass(frozen=True)
class Grade:
    """One graded submission as an LMS sees it: whose, which lesson, the total and the maximum."""

    submission: str
    lesson: str
    points: float
    max_points: float

    @property
    def student(self) -> str:
        return student_of(self.submission)


def student_of(submission: str) -> str:
    """The folder that names the student: ``alice__03_inception`` -> ``alice``; ``""`` for a lone notebook."""
    folder, _, _ = submission.rpartition("__")
    return folder


def grades_from_results(results: Iterable[SubmissionResult]) -> list[Grade]:
    return [Grade(r.name, r.lesson, r.total, r.max_points) for r in results]


# ---------------------------------------------------------------------------------------------
# Reading: the gradebook (for export-grades) and the roster
# ---------------------------------------------------------------------------------------------
def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")  # a spreadsheet's byte-order mark is fine
    except FileNotFoundError:
        raise LmsInputError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise LmsInputError(f"{what} {path} is a folder, not a CSV file") from None
    except OSError as err:
        raise LmsInputError(f"{what} {path} cannot be read: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise LmsInputError(f"{what} {path} is not UTF-8 text (byte {err.start}): save it as CSV UTF-8") from None


def _records(path: Path, text: str, what: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), strict=True))  # blank rows kept: rows count as shown
    except csv.Error as err:
        raise LmsInputError(f"{what} {path}: not valid CSV: {err}") from None


def read_gradebook(path: str | Path) -> tuple[list[Grade], str]:
    """The grades a ``gradebook.csv`` holds (columns ``submission``, ``lesson``, ``total``, ``max``), and its
    ``# ...`` note line (the --no-sandbox warning) or ``""``."""
    path = Path(path)
    text = _read_text(path, "gradebook")
    lines = text.splitlines(keepends=True)
    notes = []
    while lines and lines[0].startswith("#"):
        notes.append(lines.pop(0).lstrip("#").strip())
    records = _records(path, "".join(lines), "gradebook")
    if not any(records):
        raise LmsInputError(f"gradebook {path} is empty: expected the CSV that `grade --out` writes")
    header, rows = records[0], records[1:]
    missing = [c for c in ("submission", "lesson", "total", "max") if c not in header]
    if missing:
        raise LmsInputError(
            f"gradebook {path}: no column {', '.join(repr(c) for c in missing)} in its header {header}: "
            "expected the CSV that `grade --out` writes"
        )
    where = {c: header.index(c) for c in ("submission", "lesson", "total", "max")}
    grades = []
    for number, row in enumerate(rows, start=2 + len(notes)):  # as a spreadsheet numbers the file's rows
        if not row:
            continue
        if len(row) != len(header):
            raise LmsInputError(f"gradebook {path}, row {number}: {len(row)} fields, its header has {len(header)}")
        values = {}
        for column in ("total", "max"):
            try:
                values[column] = float(row[where[column]])
            except ValueError:
                raise LmsInputError(
                    f"gradebook {path}, row {number}, column {column!r}: {row[where[column]]!r} is not a number"
                ) from None
        grades.append(Grade(row[where["submission"]], row[where["lesson"]], values["total"], values["max"]))
    return grades, " ".join(notes)


@dataclass(frozen=True)
class RosterEntry:
    """One student of the roster (``ROSTER_COLUMNS``); ``row`` is its row in the file (the header is row 1)."""

    student: str
    row: int = 0
    name: str = ""
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    email: str = ""
    idnumber: str = ""
    username: str = ""


@dataclass(frozen=True)
class Roster:
    path: Path
    columns: tuple[str, ...]
    entries: dict[str, RosterEntry]  # by folder name, in the file's order

    @property
    def moodle_field(self) -> str:
        """The roster column that identifies students in Moodle: the first of ``MOODLE_IDS`` it has."""
        return next((c for c in MOODLE_IDS if c in self.columns), "")


def _roster_header(path: Path, header: list[str]) -> tuple[str, ...]:
    columns = tuple(h.strip().lower() for h in header)
    unknown = [h for h, c in zip(header, columns, strict=True) if c not in ROSTER_COLUMNS]
    if unknown:
        raise LmsInputError(
            f"roster {path}, row 1: unknown column {', '.join(repr(u) for u in unknown)}; "
            f"the columns are {', '.join(ROSTER_COLUMNS)}"
        )
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise LmsInputError(f"roster {path}, row 1: column {', '.join(repr(c) for c in repeated)} appears twice")
    if "student" not in columns:
        raise LmsInputError(
            f"roster {path}, row 1: no 'student' column (the submission folder's name, e.g. alice for "
            f"submissions/alice/03_inception.ipynb); header: {', '.join(header)}"
        )
    return columns


def _check_ids_for(
    path: Path, columns: tuple[str, ...], entries: Sequence[RosterEntry], formats: Sequence[str]
) -> None:
    if "canvas" in formats:
        if not any(c in columns for c in CANVAS_IDS):
            raise LmsInputError(
                f"roster {path}, row 1: Canvas needs a column {', '.join(CANVAS_IDS)} to find each student; "
                f"header: {', '.join(columns)}"
            )
        for e in entries:
            if not any(getattr(e, c) for c in CANVAS_IDS):
                raise LmsInputError(
                    f"roster {path}, row {e.row} (student {e.student!r}): no "
                    f"{' / '.join(c for c in CANVAS_IDS if c in columns)}; Canvas needs one of them to find the student"
                )
    if "moodle" in formats:
        id_field = next((c for c in MOODLE_IDS if c in columns), "")
        if not id_field:
            raise LmsInputError(
                f"roster {path}, row 1: Moodle needs a column {', '.join(MOODLE_IDS)} to find each student; "
                f"header: {', '.join(columns)}"
            )
        for e in entries:
            if not getattr(e, id_field):
                raise LmsInputError(
                    f"roster {path}, row {e.row} (student {e.student!r}), column {id_field!r}: empty; Moodle "
                    f"finds students by {id_field} (the first of {', '.join(MOODLE_IDS)} the roster has)"
                )


def _check_unique(path: Path, entries: Sequence[RosterEntry]) -> None:
    for column in ("student", *CANVAS_IDS, *MOODLE_IDS):
        seen: dict[str, int] = {}
        for e in entries:
            value = getattr(e, column)
            if not value:
                continue
            if value in seen:
                raise LmsInputError(
                    f"roster {path}, rows {seen[value]} and {e.row}, column {column!r}: both are {value!r}; "
                    "each student and each LMS identifier appears once"
                )
            seen[value] = e.row


def read_roster(path: str | Path, formats: Sequence[str] = FORMATS) -> Roster:
    """Read and check ``path`` for ``formats``; ``LmsInputError`` naming the file, row and column otherwise."""
    path = Path(path)
    records = _records(path, _read_text(path, "roster"), "roster")
    if not records or not records[0]:
        raise LmsInputError(f"roster {path} is empty: expected a header row (student, ...) and one row per student")
    columns = _roster_header(path, records[0])
    entries = []
    for number, row in enumerate(records[1:], start=2):
        if not row:
            continue
        if len(row) != len(columns):
            raise LmsInputError(f"roster {path}, row {number}: {len(row)} fields, its header has {len(columns)}")
        values = {c: v.strip() for c, v in zip(columns, row, strict=True)}
        if not values["student"]:
            raise LmsInputError(f"roster {path}, row {number}, column 'student': empty (the submission folder's name)")
        entries.append(RosterEntry(row=number, **values))
    _check_unique(path, entries)
    _check_ids_for(path, columns, entries, formats)
    return Roster(path, columns, {e.student: e for e in entries})


# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------
def parse_formats(values: Iterable[str]) -> list[str]:
    """``["canvas,moodle"]`` or ``["canvas", "moodle"]`` -> ``["canvas", "moodle"]``; unknown names raise."""
    formats: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip().lower()
            if name not in FORMATS:
                raise LmsInputError(f"--format {name!r} is not supported: choose from {', '.join(FORMATS)}")
            if name not in formats:
                formats.append(name)
    if not formats:
        raise LmsInputError(f"--format needs a name: {', '.join(FORMATS)}")
    return formats


def parse_assignment_titles(values: Iterable[str]) -> dict[str, str]:
    """``["03=Exercises 03 (4567)"]`` -> ``{"03": "Exercises 03 (4567)"}``: the LMS column title of a lesson."""
    titles: dict[str, str] = {}
    for value in values:
        lesson, sep, title = value.partition("=")
        lesson, title = lesson.strip(), title.strip()
        if not sep or not re.fullmatch(r"\d\d", lesson) or not title:
            raise LmsInputError(f"--assignment {value!r}: expected LESSON=TITLE, e.g. --assignment '03=Exercises 03'")
        if lesson in titles:
            raise LmsInputError(f"--assignment: lesson {lesson} is given twice")
        _check_title(title)
        titles[lesson] = title
    return titles


def _check_title(title: str) -> None:
    """A title the LMS would not read as a grade column: a student column, or one Canvas drops as a total."""
    dropped = [words for words in CANVAS_NOT_ASSIGNMENTS if words in title]
    if dropped:
        raise LmsInputError(
            f"--assignment title {title!r}: Canvas ignores a column whose title contains {dropped[0]!r}"
        )
    if title.casefold() in {h.casefold() for h in (*CANVAS_HEADER, *MOODLE_HEADERS.values())}:
        raise LmsInputError(f"--assignment title {title!r} is the name of a student column; choose another")


def default_title(lesson: str) -> str:
    return f"Exercises {lesson}"


# ---------------------------------------------------------------------------------------------
# Matching grades to students
# ---------------------------------------------------------------------------------------------
@dataclass
class Export:
    """Who gets which grade: ``cells[(student, lesson)]``, students in roster (else gradebook) order."""

    students: list[str]
    lessons: list[str]
    cells: dict[tuple[str, str], Grade]
    max_points: dict[str, float]
    entries: dict[str, RosterEntry]
    titles: dict[str, str]
    problems: list[str] = field(default_factory=list)  # grades left out: the command exits 1
    notes: list[str] = field(default_factory=list)


def _grouped(grades: Sequence[Grade], problems: list[str]) -> dict[tuple[str, str], list[Grade]]:
    groups: dict[tuple[str, str], list[Grade]] = {}
    for g in grades:
        if not g.student:
            problems.append(
                f"{g.submission}: graded as a lone notebook, so no folder names its student; grade the folder "
                "(`grade submissions/` with submissions/STUDENT/NN_topic.ipynb)"
            )
        elif not g.lesson:
            problems.append(f"{g.submission}: no lesson (the grader could not tell which lesson it is)")
        else:
            groups.setdefault((g.student, g.lesson), []).append(g)
    for (student, lesson), group in groups.items():
        if len(group) > 1:
            names = ", ".join(g.submission for g in group)
            problems.append(f"{student} has {len(group)} submissions for lesson {lesson} ({names}); keep one")
    return {key: group for key, group in groups.items() if len(group) == 1}


def _titles_for(lessons: Sequence[str], titles: dict[str, str], notes: list[str]) -> dict[str, str]:
    chosen = {lesson: titles.get(lesson, default_title(lesson)) for lesson in lessons}
    clashes = sorted({t for t in chosen.values() if list(chosen.values()).count(t) > 1})
    if clashes:
        raise LmsInputError(f"--assignment: two lessons would share the column title {clashes[0]!r}")
    unused = sorted(set(titles) - set(lessons))
    if unused:
        notes.append(f"--assignment for lesson {', '.join(unused)}: no submission of that lesson was graded")
    return chosen


def match_students(
    grades: Sequence[Grade], roster: Roster | None = None, titles: dict[str, str] | None = None
) -> Export:
    """Place each grade in a (student, lesson) cell; what cannot be placed becomes a problem, named."""
    problems: list[str] = []
    notes: list[str] = []
    groups = _grouped(grades, problems)
    placed_somewhere = {student for student, _ in groups}
    graded_students = [s for s in dict.fromkeys(g.student for g in grades) if s in placed_somewhere]
    if roster is None:
        students = graded_students
        entries = {s: RosterEntry(s, name=s, sis_login_id=s, username=s) for s in students}
    else:
        entries = roster.entries
        unknown = [s for s in graded_students if s not in entries]
        for s in unknown:
            subs = ", ".join(group[0].submission for (student, _), group in groups.items() if student == s)
            problems.append(f"{s} ({subs}): not in the roster {roster.path}; add a row for {s}")
        ungraded = [s for s in entries if s not in graded_students]
        if ungraded:
            notes.append(
                f"in the roster {roster.path} but no submission graded (left out; their LMS grades stay as they "
                f"are): {', '.join(ungraded)}"
            )
        students = [s for s in entries if s in graded_students]
    placed = set(students)
    cells = {key: group[0] for key, group in groups.items() if key[0] in placed}
    lessons = sorted({lesson for _, lesson in cells})
    max_points = {lesson: max(g.max_points for (_, of), g in cells.items() if of == lesson) for lesson in lessons}
    return Export(
        students, lessons, cells, max_points, entries, _titles_for(lessons, titles or {}, notes), problems, notes
    )


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------
def _number(x: float) -> str:
    """Points as an LMS reads them: ``9``, ``2.25``; never ``1e-05`` (points are rounded to hundredths)."""
    text = f"{round(x, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def canvas_rows(export: Export) -> list[list[str]]:
    """Header, the Points Possible row, then one row per student with a grade: ``Student, ID, SIS User ID, SIS
    Login ID, Section, <one column per lesson>``; a lesson the student did not submit is blank (no change)."""
    rows = [[*CANVAS_HEADER, *(export.titles[lesson] for lesson in export.lessons)]]
    rows.append([CANVAS_POINTS_POSSIBLE, "", "", "", "", *(_number(export.max_points[n]) for n in export.lessons)])
    for s in export.students:
        e = export.entries[s]
        cells = [export.cells.get((s, lesson)) for lesson in export.lessons]
        scores = [_number(c.points) if c else "" for c in cells]
        rows.append([e.name or s, e.canvas_id, e.sis_user_id, e.sis_login_id, e.section, *scores])
    return rows


def moodle_rows(export: Export, lesson: str, id_field: str) -> list[list[str]]:
    """Header ``<identifier>, <title>``, then one row per student graded in ``lesson``."""
    rows = [[MOODLE_HEADERS[id_field], export.titles[lesson]]]
    for s in export.students:
        cell = export.cells.get((s, lesson))
        if cell is not None:
            rows.append([getattr(export.entries[s], id_field), _number(cell.points)])
    return rows


def _csv_text(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)  # RFC 4180: quotes only where needed
    return buffer.getvalue()


def lms_paths(out: str | Path, fmt: str, lessons: Sequence[str]) -> list[Path]:
    """``gradebook.csv`` -> ``gradebook.canvas.csv``; ``gradebook.moodle-03.csv`` per lesson."""
    out = Path(out)
    if fmt == "canvas":
        return [out.with_name(f"{out.stem}.canvas.csv")]
    return [out.with_name(f"{out.stem}.moodle-{lesson}.csv") for lesson in lessons]


@dataclass
class ExportReport:
    written: list[tuple[str, Path, str]]  # (format, path, how to import it)
    problems: list[str]
    notes: list[str]


def _refuse_to_overwrite(paths: Iterable[Path], inputs: Iterable[Path]) -> None:
    protected = {p.resolve() for p in inputs}
    for path in paths:
        if path.resolve() in protected:
            raise LmsInputError(f"{path} is an input (the gradebook or the roster): it is never overwritten")


def write_lms_files(
    grades: Sequence[Grade],
    out: str | Path,
    formats: Sequence[str],
    roster: Roster | None = None,
    titles: dict[str, str] | None = None,
) -> ExportReport:
    """Write one LMS file per format (Moodle: per lesson) beside the gradebook ``out``; return what was written,
    what was left out (problems) and the notes."""
    if roster is not None:  # read for other formats, perhaps: check it has what these need
        _check_ids_for(roster.path, roster.columns, list(roster.entries.values()), formats)
    export = match_students(grades, roster, titles)
    id_field = roster.moodle_field if roster is not None else "username"
    inputs = [Path(out)] + ([roster.path] if roster is not None else [])
    planned: list[tuple[str, Path, list[list[str]], str]] = []
    for fmt in formats:
        if fmt == "canvas":
            (path,) = lms_paths(out, fmt, export.lessons)
            planned.append((fmt, path, canvas_rows(export), "Canvas: Grades > Import, choose this file"))
            if not export.lessons:
                export.notes.append("canvas: no lesson has a grade to export, so the Canvas file has no grade column")
        else:
            how = f"Moodle: Grades > Import > CSV file; map {MOODLE_HEADERS[id_field]!r} to {MOODLE_MAP_TO[id_field]}"
            for lesson, path in zip(export.lessons, lms_paths(out, fmt, export.lessons), strict=True):
                planned.append((fmt, path, moodle_rows(export, lesson, id_field), how))
            if not export.lessons:
                export.notes.append("moodle: no lesson has a grade to export, so no Moodle file was written")
    _refuse_to_overwrite([p for _, p, _, _ in planned], inputs)
    for _, path, rows, _ in planned:
        _atomic_write(path, _csv_text(rows))
    return ExportReport([(f, p, how) for f, p, _, how in planned], export.problems, export.notes)
