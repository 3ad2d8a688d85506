"""Classroom grading: ``python -m course_utils grade PATH... --out gradebook.csv [--timeout S] [--budget S]
[--jobs N] [--resume] [--no-sandbox]``.

A submission is untrusted code. One concern per module::

    find       submissions found without following links, size-capped, unique safe names
    sandbox    bubblewrap around every kernel: read-only system/venv/grading build, one writable scratch tmpfs,
               empty HOME, no network, own PID namespace, rlimits, minimal environment
    build      the grading build of course_utils: no judges, answering names withheld (table: answers)
    kernel     runs the notebook (per-cell timeout, wall-clock budget, every message against the output cap)
    judge      hidden cases in, bounded values out (never unpickled); verdicts computed in the grader's process
    gradebook  CSV + feedback + resume state, written atomically after every submission
    batch      grade_submission / grade: every submission gets a row; temp folders removed on any exit

What the tests prove is listed in the README ("What the grader guarantees"), each claim with its test.

Scoring: an exercise earns ``points × (hidden cases passed / hidden cases)``. Visible cases guide the learner
but do not score: they are printed in the notebook, so they could be hard-coded.
"""

from __future__ import annotations

from .answers import ANSWERS, Answers
from .batch import DEFAULT_BUDGET, DEFAULT_OUTPUT_CAP, DEFAULT_TIMEOUT, NO_SANDBOX_WARNING, grade, grade_submission
from .build import build_grading_package
from .find import find_submissions, lesson_of, read_submission, safe_file_name
from .gradebook import feedback_dir, write_feedback, write_gradebook
from .guard import hash_tree, restore_tree, snapshot_tree
from .judge import RESULT_FILE_CAP, read_results
from .results import ExerciseResult, SubmissionResult
from .sandbox import Limits, SandboxUnavailable, check_sandbox

_lesson_of = lesson_of  # older names, kept for callers of the single-module grader
_read_results = read_results

__all__ = [
    "ANSWERS",
    "Answers",
    "DEFAULT_BUDGET",
    "DEFAULT_OUTPUT_CAP",
    "DEFAULT_TIMEOUT",
    "NO_SANDBOX_WARNING",
    "RESULT_FILE_CAP",
    "ExerciseResult",
    "Limits",
    "SandboxUnavailable",
    "SubmissionResult",
    "build_grading_package",
    "check_sandbox",
    "feedback_dir",
    "find_submissions",
    "grade",
    "grade_submission",
    "hash_tree",
    "lesson_of",
    "read_results",
    "read_submission",
    "restore_tree",
    "safe_file_name",
    "snapshot_tree",
    "write_feedback",
    "write_gradebook",
]
