"""``python -m bench.grading [--n 20] [--jobs 2] [--timeout 60]``: what the grading sandbox costs.

Generates ``--n`` submissions of lesson 00 (the solution notebook, each a separate student), grades them with
``--jobs`` workers once in the bubblewrap sandbox and once with ``--no-sandbox``, alternating the order, and
prints submissions graded per minute for each and the slowdown. Goal: the sandbox at most 20 % slower.
Wall-clock figures depend on what else runs on the machine: read them as measurements, not constants.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "00_multichannel_conv.ipynb"
GOAL = 0.20  # the sandbox may cost at most 20 % of the throughput


def _submissions(folder: Path, n: int) -> Path:
    for i in range(n):
        (folder / f"student{i:02d}").mkdir(parents=True)
        shutil.copy(SOLUTION, folder / f"student{i:02d}" / SOLUTION.name)
    return folder


def _grade_once(subs: Path, out: Path, jobs: int, timeout: int, sandbox: bool) -> float:
    """Seconds to grade the folder (checks every row is full marks)."""
    command = [sys.executable, "-m", "course_utils", "grade", str(subs), "--out", str(out), "--jobs", str(jobs)]
    command += ["--timeout", str(timeout)] + ([] if sandbox else ["--no-sandbox"])
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603 - our own CLI
    seconds = time.perf_counter() - start
    rows = [line for line in out.read_text().splitlines() if not line.startswith("#")][1:]
    if not all(",9,9," in row for row in rows):
        raise RuntimeError(f"a submission lost points while benchmarking: {rows}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.grading", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20, help="generated submissions (default: 20)")
    parser.add_argument("--jobs", type=int, default=2, help="grading workers (default: 2)")
    parser.add_argument("--timeout", type=int, default=60, help="per-cell timeout (default: 60)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of (sandbox, no sandbox) (default: 1)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        subs = _submissions(Path(tmp) / "subs", args.n)
        times: dict[bool, list[float]] = {True: [], False: []}
        for round_ in range(args.rounds):
            order = (True, False) if round_ % 2 == 0 else (False, True)
            for sandbox in order:
                out = Path(tmp) / f"gb-{sandbox}-{round_}.csv"
                times[sandbox].append(_grade_once(subs, out, args.jobs, args.timeout, sandbox))
    rate = {sandbox: 60 * args.n / min(seconds) for sandbox, seconds in times.items()}
    slowdown = 1 - rate[True] / rate[False]
    print(f"{args.n} submissions of lesson 00, --jobs {args.jobs}, best of {args.rounds} round(s)")
    print(f"  no sandbox: {rate[False]:6.1f} submissions/min  (runs: {', '.join(f'{s:.1f} s' for s in times[False])})")
    print(f"  sandbox:    {rate[True]:6.1f} submissions/min  (runs: {', '.join(f'{s:.1f} s' for s in times[True])})")
    verdict = "PASS" if slowdown <= GOAL else "MISS"
    print(f"  sandbox costs {slowdown:+.1%} of the throughput (negative: faster; goal <= {GOAL:.0%}): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
