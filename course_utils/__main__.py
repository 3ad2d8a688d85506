"""Command line: ``python -m course_utils COMMAND``.

Commands
  execute PATH...                      run notebooks in a fresh kernel and store their outputs (canonical form)
  normalize PATH... [--check]          store notebooks in canonical form (metadata only; sources, outputs kept)
  build-exercises                      write exercises/ from solutions/ (solution regions become stubs)
  grade PATH... --out gradebook.csv    grade submitted exercise notebooks in fresh kernels
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbformat import NotebookNode


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


def _cmd_grade(args: argparse.Namespace) -> int:
    from .grading import SandboxUnavailable, feedback_dir, grade
    from .grading.batch import Terminated

    missing = [path for path in args.paths if not Path(path).exists()]
    if missing:
        print(f"grade: no such file or folder: {', '.join(missing)}", file=sys.stderr)
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
    return 0


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
    p.set_defaults(func=_cmd_grade)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
