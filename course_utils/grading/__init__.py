"""Classroom grading: ``python -m course_utils grade PATH... --out gradebook.csv [--timeout S] [--budget S]
[--jobs N] [--resume] [--no-sandbox] [--format canvas,moodle [--roster roster.csv]]``.

A submission is untrusted code. One concern per module::

    find       submissions found without following links, size-capped, unique safe names
    sandbox    bubblewrap around every kernel: read-only system/venv/grading build, one writable scratch tmpfs,
               empty HOME, no network, own PID namespace, rlimits, minimal environment
    build      the grading build of course_utils: no judges, answering names withheld (table: answers)
    kernel     runs the notebook (per-cell timeout, wall-clock budget, every message against the output cap)
    judge      hidden cases in, bounded values out (never unpickled); verdicts computed in the grader's process
    gradebook  CSV + feedback + resume state, written atomically after every submission
    lms        Canvas and Moodle import files from the gradebook (``--format``, ``export-grades``): students by
               folder name or a roster; whoever cannot be placed is listed, never dropped silently
    batch      grade_submission / grade: every submission gets a row; temp folders removed on any exit

What the grader guarantees, each claim proved by the test named (``tests/test_grading*.py``; the README's
"What the grader guarantees" says the same):

* a notebook cannot change a classmate's submission, the gradebook, the package, the venv, HOME or the
  grader's working directory, nor read the grader's files or environment
  (``test_reaching_outside_gets_nothing_and_leaks_nothing``, ``test_nothing_outside_the_grader_output_changed``);
* no submission changes how later ones are graded (``test_poisoning_later_students_fails_and_the_next_batch_grades_alike``);
* the package's answers are withheld (``test_the_package_answers_are_withheld_and_huge_returns_are_refused``,
  ``tests/test_grading_build.py``: the table covers every exercise);
* memory, file size, disk, processes (a pids cgroup, where writable) and network are limited, and started
  processes die with the sandbox
  (``test_memory_disk_processes_and_network_are_limited``); ``--budget`` bounds a notebook's cells
  (``test_the_time_budget_stops_a_slow_notebook``);
* verdicts are computed here from values read with ``weights_only=True``
  (``test_results_files_are_never_unpickled``, ``test_fake_pass_and_monkeypatching_gain_nothing``);
* every submission gets a row with its reason (links, broken JSON, loops, dead kernels), the gradebook survives
  SIGTERM, temp folders and kernels are removed, ``--resume`` goes on (``tests/test_grading_batch.py``);
* without bubblewrap grading refuses; ``--no-sandbox`` warns in the gradebook (``tests/test_grading_batch.py``).

Not proven by a test: the bound on the grader's own memory against crafted kernel messages (zmq
``MAXMSGSIZE``, ``--output-cap``) and a total disk quota for the I/O folder shared with the kernel.

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
