"""The classroom grader on one batch of generated submissions (--jobs 2): correct, stub, wrong, and every
adversarial case from the grading issue. Kept to one batch of lesson 00 notebooks because it starts kernels."""

from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from course_utils import notebooks
from course_utils.grading import _lesson_of, find_submissions, hash_tree, restore_tree, snapshot_tree

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "00_multichannel_conv.ipynb"
EXERCISE = ROOT / "exercises" / "00_multichannel_conv.ipynb"
NB_NAME = SOLUTION.name
FULL = 9  # ex00: 2 + 3 + 4 points


def _cell_defining(nb, name: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and f"def {name}(" in c.source)


def _write(folder: Path, student: str, nb) -> None:
    (folder / student).mkdir(parents=True)
    nbformat.write(nb, str(folder / student / NB_NAME))


def _make_submissions(folder: Path, installed: Path) -> None:
    solution = notebooks.read(SOLUTION)
    stub = notebooks.read(EXERCISE)

    def variant(base=solution):
        return nbformat.reads(nbformat.writes(base), as_version=4)  # a deep copy

    _write(folder, "correct", variant())
    _write(folder, "stub", variant(stub))

    nb = variant()  # a plausible mistake: the +1 forgotten in the output size
    cell = nb.cells[_cell_defining(nb, "conv_output_shape")]
    cell.source = cell.source.replace("// stride + 1", "// stride")
    _write(folder, "wrong", nb)

    nb = variant(stub)  # prints fake passes and monkeypatches the checker, the framework and torch.load
    nb.cells.append(
        new_code_cell(
            "import course_utils.checks as C, course_utils.checks._framework as F\n"
            "F.compare = lambda *a, **k: None\n"
            "F.judge_all = lambda *a, **k: None\n"
            "C.ex00_conv2d = lambda f: print('✅ ex00_conv2d: all 2 visible and 8 hidden cases pass')\n"
            "C.ex00_conv2d(None)\n"
            "print('✅ ex00_conv_output_shape: all 3 visible and 8 hidden cases pass')\n"
            "print('✅ ex00_conv_cost: all 3 visible and 6 hidden cases pass')\n"
        )
    )
    _write(folder, "cheater", nb)

    nb = variant()  # edits the course_utils it imports (the grader's private copy)
    nb.cells.append(
        new_code_cell(
            "import pathlib, course_utils\n"
            "p = pathlib.Path(course_utils.__file__).parent / 'checks' / '_framework.py'\n"
            "p.write_text(p.read_text() + '\\n# edited by a submission\\n')\n"
        )
    )
    _write(folder, "edits_package", nb)

    nb = variant()  # edits the installed package by its absolute path
    nb.cells.append(
        new_code_cell(
            f"import pathlib\np = pathlib.Path({str(installed / 'checks' / 'lesson00.py')!r})\n"
            "p.write_text(p.read_text() + '\\n# edited by a submission\\n')\n"
        )
    )
    _write(folder, "edits_installed", nb)

    nb = variant()  # loops forever before defining conv_cost
    cell = nb.cells[_cell_defining(nb, "conv_cost")]
    cell.source = "while True:\n    pass\n" + cell.source
    _write(folder, "loops", nb)

    nb = variant()  # kills its kernel before defining conv2d, and again whenever conv_cost is called
    cell = nb.cells[_cell_defining(nb, "conv2d")]
    cell.source = "import os\nos._exit(1)\n" + cell.source
    cell = nb.cells[_cell_defining(nb, "conv_cost")]
    cell.source = cell.source.replace('"""\n', '"""\n    import os\n    os._exit(1)\n', 1)
    _write(folder, "kills_kernel", nb)

    nb = variant()  # prints megabytes and deletes every file in its working directory
    nb.cells.insert(
        2,
        new_code_cell(
            "import os\nprint('x' * 2_500_000)\nfor i in range(5_000):\n    print(i)\n"
            "for f in os.listdir('.'):\n    os.remove(f)\nprint(sorted(os.listdir('.')))\n"
        ),
    )
    _write(folder, "noisy_deleter", nb)

    (folder / "broken").mkdir()
    (folder / "broken" / NB_NAME).write_text('{"cells": [ this is not json')


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _grade_batch(tmp: Path) -> dict:
    installed = tmp / "installed" / "course_utils"
    restore_tree(installed, snapshot_tree(ROOT / "course_utils"))
    installed_hash = hash_tree(installed)
    subs = tmp / "submissions"
    _make_submissions(subs, installed)
    before = _hashes(subs)
    out = tmp / "gradebook.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "course_utils",
            "grade",
            str(subs),
            "--out",
            str(out),
            "--timeout",
            "15",
            "--jobs",
            "2",
            "--package-dir",
            str(installed),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    with out.open(newline="", encoding="utf-8") as handle:
        rows = {row["submission"].split("__")[0]: row for row in csv.DictReader(handle)}
    return dict(
        rows=rows,
        before=before,
        after=_hashes(subs),
        installed_hash=installed_hash,
        installed_after=hash_tree(installed),
        out=str(out),
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the batch once per test session, even when pytest-xdist spreads these tests over several workers
    (they share the session's base temp folder; a file lock lets the first worker grade and the others read)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        result = _grade_batch(tmp_path_factory.mktemp("grading"))
    else:
        shared = tmp_path_factory.getbasetemp().parent / "grading-batch"
        shared.mkdir(exist_ok=True)
        with open(shared / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            done = shared / "result.json"
            if not done.exists():
                done.write_text(json.dumps(_grade_batch(shared)))
            result = json.loads(done.read_text())
    result["out"] = Path(result["out"])
    return result


@pytest.mark.slow
def test_one_row_per_submission_with_points_total_max(graded):
    rows = graded["rows"]
    assert sorted(rows) == sorted(
        [
            "correct",
            "stub",
            "wrong",
            "cheater",
            "edits_package",
            "edits_installed",
            "loops",
            "kills_kernel",
            "noisy_deleter",
            "broken",
        ]
    )
    assert list(next(iter(rows.values())))[:6] == [
        "submission",
        "lesson",
        "ex00_conv_output_shape",
        "ex00_conv_cost",
        "ex00_conv2d",
        "total",
    ]
    for row in rows.values():
        assert row["max"] == str(FULL)


@pytest.mark.slow
def test_correct_and_stub(graded):
    rows = graded["rows"]
    assert rows["correct"]["total"] == str(FULL) and rows["correct"]["reasons"] == ""
    assert rows["stub"]["total"] == "0"
    assert rows["stub"]["reasons"].count("not attempted") == 3


@pytest.mark.slow
def test_a_plausible_mistake_costs_that_exercise_with_a_reason(graded):
    row = graded["rows"]["wrong"]
    assert row["ex00_conv_cost"] == "3" and row["ex00_conv2d"] == "4"
    assert float(row["ex00_conv_output_shape"]) < 2
    assert "ex00_conv_output_shape: visible case" in row["reasons"]


@pytest.mark.slow
def test_fake_pass_and_monkeypatching_gain_nothing(graded):
    row = graded["rows"]["cheater"]
    assert row["total"] == "0" and row["reasons"].count("not attempted") == 3


@pytest.mark.slow
def test_editing_course_utils_scores_zero_and_the_package_is_restored(graded):
    rows = graded["rows"]
    assert (
        rows["edits_package"]["total"] == "0"
        and "modified the course_utils package" in rows["edits_package"]["reasons"]
    )
    assert rows["edits_installed"]["total"] == "0"
    assert "modified the installed course_utils package" in rows["edits_installed"]["reasons"]
    assert graded["installed_after"] == graded["installed_hash"]
    innocent = [n for n in ("correct", "noisy_deleter") if "installed" in graded["rows"][n]["reasons"]]
    assert innocent == []


@pytest.mark.slow
def test_infinite_loop_and_dead_kernel_cost_only_what_they_did_not_reach(graded):
    loops = graded["rows"]["loops"]
    assert loops["ex00_conv_cost"] == "0" and "timed out in cell" in loops["reasons"]
    assert loops["ex00_conv_output_shape"] == "2" and loops["ex00_conv2d"] == "4"
    died = graded["rows"]["kills_kernel"]
    assert died["ex00_conv2d"] == "0" and "kernel died in cell" in died["reasons"]
    assert died["ex00_conv_cost"] == "0" and "kernel died while running your code" in died["reasons"]
    assert died["ex00_conv_output_shape"] == "2"


@pytest.mark.slow
def test_megabyte_prints_and_deleted_files_do_not_stop_grading(graded):
    assert graded["rows"]["noisy_deleter"]["total"] == str(FULL)


@pytest.mark.slow
def test_invalid_notebook_is_graded_zero_with_the_reason(graded):
    row = graded["rows"]["broken"]
    assert row["total"] == "0" and "not a valid notebook" in row["reasons"]


@pytest.mark.slow
def test_submissions_are_never_modified(graded):
    assert graded["after"] == graded["before"]


@pytest.mark.slow
def test_feedback_file_per_submission(graded):
    folder = graded["out"].with_name("gradebook.feedback")
    files = sorted(p.name for p in folder.glob("*.md"))
    assert len(files) == 10
    text = (folder / "cheater__00_multichannel_conv.md").read_text()
    assert "Score: 0 / 9" in text and "not attempted" in text
    wrong = (folder / "wrong__00_multichannel_conv.md").read_text()
    assert "hint:" in wrong and "(scored on the hidden cases:" in wrong
    stub = (folder / "stub__00_multichannel_conv.md").read_text()
    assert stub.count("not attempted yet") == 3 and "scored on the hidden cases" not in stub  # no "0 of 0 pass"


def test_submission_discovery_and_lesson_detection(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "03_inception.ipynb").write_text("{}")
    (tmp_path / "b.ipynb").write_text("{}")
    assert [n for n, _ in find_submissions([tmp_path / "a", tmp_path / "b.ipynb"])] == ["a__03_inception", "b"]
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "03_inception.ipynb").write_text("{}")
    names = [
        n for n, _ in find_submissions([tmp_path / "a" / "03_inception.ipynb", tmp_path / "c" / "03_inception.ipynb"])
    ]
    assert names == ["a__03_inception", "c__03_inception"]
    assert _lesson_of("alice_03_inception.ipynb", "") == "03"
    assert _lesson_of("homework.ipynb", "checks.ex01_pointwise_conv(f)") == "01"
    assert _lesson_of("homework.ipynb", "") == ""


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_results_files_are_never_unpickled(tmp_path):
    import torch

    from course_utils.grading import _read_results

    marker = tmp_path / "pwned"
    evil = tmp_path / "results.pt"
    torch.save({"results": [_Evil(marker)]}, evil)
    results, problem = _read_results(evil, 1)
    assert results is None and "could not be read" in problem
    assert not marker.exists()
    assert _read_results(tmp_path / "absent.pt", 1) == (None, "no results came back from the kernel")


def test_restore_tree_undoes_edits_additions_and_deletions(tmp_path):
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "a.py").write_text("a = 1\n")
    (root / "sub").mkdir()
    (root / "sub" / "b.py").write_text("b = 2\n")
    snapshot, digest = snapshot_tree(root), hash_tree(root)
    (root / "a.py").write_text("a = 666\n")
    (root / "sub" / "b.py").unlink()
    (root / "evil.py").write_text("import os\n")
    assert hash_tree(root) != digest
    restore_tree(root, snapshot)
    assert hash_tree(root) == digest
