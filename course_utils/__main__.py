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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m course_utils", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("execute", help="execute notebooks and store their outputs")
    p.add_argument("paths", nargs="+", help="notebook files")
    p.add_argument("--timeout", type=int, default=600, help="per-cell timeout in seconds")
    p.set_defaults(func=_cmd_execute)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
