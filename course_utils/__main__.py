"""Command line: ``python -m course_utils COMMAND``.

Commands
  execute PATH...                      run notebooks in a fresh kernel and store their outputs (canonical form)
  normalize PATH... [--check]          store notebooks in canonical form (metadata only; sources, outputs kept)
  build-exercises                      write exercises/ from solutions/ (solution regions become stubs)
  grade PATH... --out gradebook.csv    grade submitted exercise notebooks in fresh kernels
        [--format canvas,moodle] [--roster roster.csv] [--assignment NN=TITLE]   and write LMS import files
  export-grades gradebook.csv --format canvas|moodle [--roster roster.csv]  LMS files from a gradebook, no regrading
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from .grading.lms import Grade, Roster


def _cmd_execute(args: argparse.Namespace) -> int:
    from . import notebooks

    for path in args.paths:
        print(f"executing {path}", flush=True)
        notebooks.execute(Path(path), timeout=args.timeout)
    return 0


def _cell_contents(nb: NotebookNode) -> str:
    """What a learner wrote and what ran: each cell's type, source, outputs and execution count, as JSON."""
    return json.dumps(
        [[c.cell_type, c.source, c.get("outputs"), c.get("execution_count")] for c in nb.cells], sort_keys=True
    )


def _cmd_normalize(args: argparse.Namespace) -> int:
    """Rewrite each notebook in the canonical form the hygiene test expects, or with --check only name them."""
    import nbformat

    from . import notebooks

    changed, broken = [], []
    for path in map(Path, args.paths):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            broken.append(f"{path}: cannot be read: {err.strerror}")
            continue
        try:
            nb = nbformat.reads(text, as_version=4)
            before = _cell_contents(nb)
            canonical = nbformat.writes(notebooks.normalize(nb)) + "\n"
            nbformat.validate(nbformat.reads(canonical, as_version=4))
        except Exception as err:  # nbformat raises several unrelated types for broken JSON/schema
            broken.append(f"{path}: not a valid Jupyter notebook: {err}")
            continue
        if _cell_contents(nbformat.reads(canonical, as_version=4)) != before:  # never write such a change
            broken.append(f"{path}: normalising would change cell sources or outputs; left as it is")
            continue
        if canonical != text:
            changed.append(path)
            if not args.check:
                path.write_text(canonical, encoding="utf-8")
    for path in changed:
        print(f"{'not normalised' if args.check else 'normalised'}: {path}")
    for message in broken:
        print(f"normalize: {message}", file=sys.stderr)
    return 1 if broken or (args.check and changed) else 0


def _cmd_build_exercises(args: argparse.Namespace) -> int:
    from .exercises import MarkerError, build_all

    try:
        written = build_all(args.solutions, args.exercises)
    except (MarkerError, FileNotFoundError, ValueError) as err:
        print(f"build-exercises: {err}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


@dataclass(frozen=True)
class _LmsOptions:
    formats: list[str]
    roster: Roster | None
    titles: dict[str, str]


def _lms_options(args: argparse.Namespace, command: str) -> _LmsOptions | None:
    """--format, --roster and --assignment, checked before anything is graded; None after printing the error."""
    from .grading.lms import LmsInputError, parse_assignment_titles, parse_formats, read_roster

    if not args.format:
        if args.roster or args.assignment:
            print(f"{command}: --roster and --assignment need --format canvas or moodle", file=sys.stderr)
            return None
        return _LmsOptions([], None, {})
    try:
        formats = parse_formats(args.format)
        roster = read_roster(args.roster, formats) if args.roster else None
        return _LmsOptions(formats, roster, parse_assignment_titles(args.assignment or []))
    except LmsInputError as err:
        print(f"{command}: {err}", file=sys.stderr)
        return None


def _export_lms(grades: Sequence[Grade], out: str, options: _LmsOptions, command: str) -> int:
    """Write the LMS files; print each with how to import it, the notes, and (exit 1) what was left out."""
    from .grading.lms import LmsInputError, write_lms_files

    try:
        report = write_lms_files(grades, out, options.formats, options.roster, options.titles)
    except LmsInputError as err:
        print(f"{command}: {err}", file=sys.stderr)
        return 2
    for fmt, path, how in report.written:
        print(f"{fmt}: wrote {path} ({how})")
    for note in report.notes:
        print(f"note: {note}")
    for problem in report.problems:
        print(f"{command}: left out of the LMS files: {problem}", file=sys.stderr)
    if report.problems:
        print(f"{command}: {len(report.problems)} grade(s) could not be exported (listed above)", file=sys.stderr)
    return 1 if report.problems else 0


def _cmd_grade(args: argparse.Namespace) -> int:
    from .grading import SandboxUnavailable, feedback_dir, grade
    from .grading.batch import Terminated
    from .grading.lms import grades_from_results

    missing = [path for path in args.paths if not Path(path).exists()]
    if missing:
        print(f"grade: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    lms = _lms_options(args, "grade")
    if lms is None:
        return 2
    try:
        results = grade(
            args.paths,
            args.out,
            timeout=args.timeout,
            budget=args.budget,
            jobs=args.jobs,
            seed=args.seed,
            output_cap=args.output_cap,
            sandbox=not args.no_sandbox,
            resume=args.resume,
            installed_dir=args.package_dir,
        )
    except SandboxUnavailable as err:
        print(f"grade: refusing to run student code without a sandbox: {err}", file=sys.stderr)
        return 2
    except (Terminated, KeyboardInterrupt):
        print(f"grade: stopped; what was graded is kept in {args.out} (--resume goes on)", file=sys.stderr)
        return 130
    print(f"{len(results)} submissions graded: {args.out} (feedback in {feedback_dir(args.out)}/)")
    return _export_lms(grades_from_results(results), args.out, lms, "grade") if lms.formats else 0


def _cmd_export_grades(args: argparse.Namespace) -> int:
    from .grading.lms import LmsInputError, read_gradebook

    lms = _lms_options(args, "export-grades")
    if lms is None:
        return 2
    try:
        grades, note = read_gradebook(args.gradebook)
    except LmsInputError as err:
        print(f"export-grades: {err}", file=sys.stderr)
        return 2
    if note:
        print(f"export-grades: the gradebook says: {note}", file=sys.stderr)
    return _export_lms(grades, args.gradebook, lms, "export-grades")


def _add_lms_options(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument(
        "--format",
        action="append",
        required=required,
        help="LMS import file to write beside the gradebook: canvas, moodle (repeat or comma-separate)",
    )
    p.add_argument("--roster", default=None, help="CSV mapping submission folders to LMS student IDs (see README)")
    p.add_argument(
        "--assignment",
        action="append",
        metavar="NN=TITLE",
        help="LMS column title of lesson NN (default 'Exercises NN'); Canvas: 'Title (ID)' names an assignment",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_utils", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("execute", help="execute notebooks and store their outputs")
    p.add_argument("paths", nargs="+", help="notebook files")
    p.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
    p.set_defaults(func=_cmd_execute)

    p = sub.add_parser("normalize", help="store notebooks in canonical form (metadata only)")
    p.add_argument("paths", nargs="+", help="notebook files")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is not canonical")
    p.set_defaults(func=_cmd_normalize)

    p = sub.add_parser("build-exercises", help="write exercises/ from solutions/")
    p.add_argument("--solutions", default="solutions", help="folder of solution notebooks (default: solutions)")
    p.add_argument("--exercises", default="exercises", help="folder to write (default: exercises)")
    p.set_defaults(func=_cmd_build_exercises)

    p = sub.add_parser("grade", help="grade submitted exercise notebooks")
    p.add_argument("paths", nargs="+", help="submitted notebooks or folders of them")
    p.add_argument("--out", required=True, help="gradebook CSV to write (feedback goes to OUT.feedback/)")
    p.add_argument("--timeout", type=int, default=60, help="per-cell timeout in seconds (default: 60)")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default: 1)")
    p.add_argument(
        "--budget", type=float, default=600, help="wall-clock seconds per submission, all cells (default: 600)"
    )
    p.add_argument("--resume", action="store_true", help="skip submissions this gradebook already holds")
    p.add_argument(
        "--no-sandbox", action="store_true", help="run kernels without bubblewrap (unsafe; noted in the gradebook)"
    )
    p.add_argument("--seed", type=int, default=None, help="seed for the hidden cases (default: fresh each run)")
    p.add_argument("--output-cap", type=int, default=2_000_000, help="bytes of cell output kept per submission")
    p.add_argument(
        "--package-dir", default=None, help="course_utils folder to guard (default: the imported package's folder)"
    )
    _add_lms_options(p, required=False)
    p.set_defaults(func=_cmd_grade)

    p = sub.add_parser("export-grades", help="write LMS import files from an existing gradebook (no regrading)")
    p.add_argument("gradebook", help="the gradebook CSV that `grade --out` wrote")
    _add_lms_options(p, required=True)
    p.set_defaults(func=_cmd_export_grades)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
