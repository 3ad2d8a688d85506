"""Command line: ``python -m course_utils COMMAND``.

Commands
  execute PATH...                      run notebooks in a fresh kernel and store their outputs (canonical form)
  build-exercises                      write exercises/ from solutions/ (solution regions become stubs)
  grade PATH... --out gradebook.csv    grade submitted exercise notebooks in fresh kernels
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_execute(args: argparse.Namespace) -> int:
    from . import notebooks

    for path in args.paths:
        print(f"executing {path}", flush=True)
        notebooks.execute(Path(path), timeout=args.timeout)
    return 0


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
