"""The classroom grader on one batch of generated submissions (--jobs 2) in the bubblewrap sandbox: correct,
stub, wrong, and every hostile class of the grading issues (reaching outside, poisoning later students, using the
package's answers, resources, time budget, links, odd names), then a second batch that must grade the correct
notebook exactly as before. Kept to two batches of lesson 00 notebooks because each submission starts a kernel."""

from __future__ import annotations

import csv
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from course_utils import notebooks
from course_utils.grading import _lesson_of, find_submissions, hash_tree, restore_tree, snapshot_tree
from course_utils.grading.sandbox import ProcessCap

ROOT = Path(__file__).resolve().parents[1]
SECRET = "instructor-secret-7f3a9c"  # noqa: S105 - a marker a hostile notebook tries to leak
SITE_PACKAGES = Path(next(p for p in sys.path if p.endswith("site-packages")))


def _require_bwrap() -> None:
    """The sandbox tests must not pass where bwrap is missing: skip locally, fail on CI (the Makefile installs it)."""
    if shutil.which("bwrap") is None:
        message = "bubblewrap (bwrap) is not installed: `make test` installs it as root (apt-get install bubblewrap)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


SOLUTION = ROOT / "solutions" / "00_multichannel_conv.ipynb"
EXERCISE = ROOT / "exercises" / "00_multichannel_conv.ipynb"
NB_NAME = SOLUTION.name
FULL = 9  # ex00: 2 + 3 + 4 points


# The batch grades submissions in the order of their names, two at a time: the two that hold their lane longest
# (the time budget, the cell timeout) are named to start first, so that the lanes end together.
SLOW, LOOPS = "0_slow", "0_loops"


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
    _write(folder, LOOPS, nb)

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


def _attempts(*lines: str) -> str:
    """A cell trying each line on its own, then raising ``ATTEMPTS ok,no,...`` (one word per line, in order),
    which the grader's feedback reports as the error the cell raised."""
    body = "".join(
        f"try:\n    {line}\n    _did.append('ok')\nexcept BaseException:\n    _did.append('no')\n" for line in lines
    )
    return (
        "import os, sys, pathlib, subprocess, shutil\n_did = []\n"
        + body
        + "raise RuntimeError('ATTEMPTS ' + ','.join(_did))\n"
    )


def _make_hostile(folder: Path, tmp: Path, installed: Path) -> None:
    """One notebook per hostile class of the grading issue (built on the stub when it hopes to gain points, on
    the solution when it hopes to harm the others)."""
    solution, stub = notebooks.read(SOLUTION), notebooks.read(EXERCISE)

    def variant(base):
        return nbformat.reads(nbformat.writes(base), as_version=4)

    subs, gradebook = folder, tmp / "gradebook.csv"
    nb = variant(stub)  # reaching outside its copy: classmates, the gradebook, a secret file, the environment
    nb.cells.append(
        new_code_cell(
            _attempts(
                f"open({str(subs / 'correct' / NB_NAME)!r}, 'a').write(' ')",
                f"shutil.copy({str(subs / 'correct' / NB_NAME)!r}, '.')",
                f"open({str(gradebook)!r}, 'w').write('reaches_out,00,2,3,4,9,9,')",
                f"LEAK = open({str(tmp / 'secret.txt')!r}).read()",
                "LEAK = os.environ['GRADER_SECRET']",
                f"LEAK = open({str(tmp / 'solutions' / NB_NAME)!r}).read()",
            ).replace("raise RuntimeError(", "ATT = (")
            + "def conv2d(*a):\n    raise ValueError(ATT + globals().get('LEAK', ' nothing leaked ') + str(dict(os.environ)))\n"
        )
    )
    _write(folder, "reaches_out", nb)

    nb = variant(solution)  # poisoning later students (this notebook itself is correct)
    plant = "print('POISON'); import builtins; builtins.__import__ = None\n"
    nb.cells.append(
        new_code_cell(
            _attempts(
                "p = pathlib.Path.home() / '.ipython/profile_default/startup'; p.mkdir(parents=True); "
                f"(p / '00.py').write_text({plant!r})",
                f"p = pathlib.Path.home() / '.jupyter'; p.mkdir(); (p / 'jupyter_config.py').write_text({plant!r})",
                f"p = pathlib.Path({str(tmp / 'home' / '.local/share/jupyter/kernels/python3')!r}); "
                "p.mkdir(parents=True); (p / 'kernel.json').write_text('{\"argv\": [\"false\"]}')",
                f"(pathlib.Path({str(SITE_PACKAGES)!r}) / 'zz_poison.pth').write_text('import os')",
                f"p = pathlib.Path({str(installed)!r}) / 'checks/__pycache__'; p.mkdir(exist_ok=True); "
                "(p / 'lesson00.cpython-311.pyc').write_bytes(b'x')",
                f"p = pathlib.Path({str(tmp / 'cwd' / 'course_utils')!r}); p.mkdir(); (p / '__init__.py').write_text('x')",
                "import course_utils; p = pathlib.Path(course_utils.__file__).parent / 'checks' / '__init__.py'; "
                "p.write_text(p.read_text() + '# edited')",
            )
        )
    )
    _write(folder, "poisoner", nb)

    nb = variant(stub)  # using the answers that ship with the package, and oversized return values
    nb.cells.append(
        new_code_cell(
            "from course_utils import counting, reference\n"
            "def conv_cost(*a):\n    return counting.conv_params(*a[:4]), counting.conv_macs(*a[:4], (5, 5))\n"
            "def conv2d(*a):\n    return reference.conv2d(*a)\n"
            "def conv_output_shape(*a):\n    x = []\n    for _ in range(200_000):\n        x = [x]\n    return x\n"
        )
    )
    _write(folder, "uses_answers", nb)

    nb = variant(solution)  # resources: memory, disk, processes that try to outlive the run (itself correct)
    nb.cells.append(
        new_code_cell(
            _attempts(
                "x = bytearray(3 * 2**30)",
                # 1 GiB written a megabyte at a time (0.2 s here): one 1 GiB bytes object first touches 1 GiB of
                # fresh memory (1.2 s idle), the likeliest reason this cell reached the 15 s limit under load
                "f = open('big', 'wb'); [f.write(b'x' * 2**20) for _ in range(1024)]",
                "[subprocess.Popen(['sleep', '1234'], start_new_session=True) for _ in range(200)]",
                "__import__('socket').create_connection(('1.1.1.1', 53), timeout=3)",
            )
        )
    )
    _write(folder, "resources", nb)

    nb = variant(solution)  # holds the batch: every cell under the per-cell timeout, the total over the budget
    for _ in range(4):  # 4 × 8 s: each cell under the 15 s timeout, together over the 30 s budget
        nb.cells.insert(_cell_defining(nb, "conv2d"), new_code_cell("import time\ntime.sleep(8)\n"))
    _write(folder, SLOW, nb)

    (folder / "linker").mkdir()  # links to a classmate's notebook and to a folder of solutions
    (folder / "linker" / NB_NAME).symlink_to(folder / "correct" / NB_NAME)
    (folder / "linked_dir").symlink_to(tmp / "solutions")
    # Names that a naive sanitiser maps to one file name. What is tested is the name, so two of them are not JSON
    # (graded without a kernel) and one is the stub.
    for odd in ("a b", "a_b"):
        (folder / odd).mkdir()
        (folder / odd / NB_NAME).write_text('{"cells": [ not json')
    _write(folder, "x\u00e9\n;y", variant(stub))


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _listing(folder: Path) -> list[tuple[str, int, int]]:
    return sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir())


def _outside(tmp: Path) -> dict:
    """What must not change: submissions, package, venv site-packages, HOME and the working directory."""
    return dict(
        submissions=_hashes(tmp / "submissions"),
        installed=hash_tree(tmp / "installed" / "course_utils"),
        package=hash_tree(ROOT / "course_utils"),
        site_packages=_listing(SITE_PACKAGES),
        home=_hashes(tmp / "home"),
        cwd=_hashes(tmp / "cwd"),
    )


def _run_grader(tmp: Path, subs: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(tmp / "home"), "GRADER_SECRET": SECRET, "TMPDIR": str(tmp / "tmpdir")}
    return subprocess.run(
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
            "--budget",
            "30",
            "--jobs",
            "2",
            "--package-dir",
            str(tmp / "installed" / "course_utils"),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp / "cwd",
        env=env,
    )


def _rows(out: Path) -> dict:
    with out.open(newline="", encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return {row["submission"].split("__")[0]: row for row in csv.DictReader(lines)}


def _sleepers() -> list[str]:
    ps = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout.splitlines()
    return [line for line in ps if line.startswith("sleep 1234")]


def _grade_batch(tmp: Path) -> dict:
    installed = tmp / "installed" / "course_utils"
    restore_tree(installed, snapshot_tree(ROOT / "course_utils"))
    installed_hash = hash_tree(installed)
    for name in ("home", "cwd", "tmpdir", "solutions"):
        (tmp / name).mkdir()
    (tmp / "home" / ".bashrc").write_text("# the instructor's\n")
    (tmp / "secret.txt").write_text(SECRET)
    shutil.copy(SOLUTION, tmp / "solutions" / NB_NAME)
    subs = tmp / "submissions"
    _make_submissions(subs, installed)
    _make_hostile(subs, tmp, installed)
    before = _hashes(subs)
    outside = _outside(tmp)
    out = tmp / "gradebook.csv"
    proc = _run_grader(tmp, subs, out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    feedback = {p.name: p.read_text(encoding="utf-8") for p in (tmp / "gradebook.feedback").glob("*.md")}
    rows = _rows(out)
    outside_after = _outside(tmp)
    # The next batch: the correct notebook alone, after every hostile one ran.
    (tmp / "next" / "correct").mkdir(parents=True)
    shutil.copy(subs / "correct" / NB_NAME, tmp / "next" / "correct" / NB_NAME)
    proc2 = _run_grader(tmp, tmp / "next", tmp / "next.csv")
    assert proc2.returncode == 0, proc2.stderr[-3000:]
    return dict(
        rows=rows,
        next_rows=_rows(tmp / "next.csv"),
        before=before,
        after=_hashes(subs),
        outside=outside,
        outside_after=outside_after,
        feedback=feedback,
        gradebook_text=out.read_text(encoding="utf-8"),
        leftover_tmp=sorted(os.listdir(tmp / "tmpdir")),
        sleepers=_sleepers(),
        installed_hash=installed_hash,
        installed_after=hash_tree(installed),
        out=str(out),
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the batch once per test session, even when pytest-xdist spreads these tests over several workers
    (they share the session's base temp folder; a file lock lets the first worker grade and the others read)."""
    _require_bwrap()
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
            LOOPS,
            "kills_kernel",
            "noisy_deleter",
            "broken",
            "reaches_out",
            "poisoner",
            "uses_answers",
            "resources",
            SLOW,
            "linker",
            "submissions",  # the link submissions/linked_dir, named after the folder it sits in
            "a b",
            "a_b",
            "x\u00e9\n;y",
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
    for name, row in rows.items():
        assert row["max"] == (str(FULL) if name not in ("linker", "submissions") else "0"), name


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
def test_editing_course_utils_is_impossible_and_changes_nothing(graded):
    """The kernel sees a read-only grading build; the installed package is not mounted at all."""
    for name in ("edits_package", "edits_installed"):
        assert graded["rows"][name]["total"] == str(FULL)  # correct code; the edit failed (Read-only / not found)
    assert "cell 13 raised FileNotFoundError" in graded["feedback"]["edits_package__00_multichannel_conv.md"]
    assert "No such file or directory" in graded["feedback"]["edits_installed__00_multichannel_conv.md"]
    assert graded["installed_after"] == graded["installed_hash"]


@pytest.mark.slow
def test_infinite_loop_and_dead_kernel_cost_only_what_they_did_not_reach(graded):
    loops = graded["rows"][LOOPS]
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
    assert len(files) == 20  # one each, the odd names included (a b, a_b, x\u00e9\n;y: three files)
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
    assert _lesson_of("homework.ipynb", "checks.ex01_reshape_bug(f)") == "01"
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


@pytest.mark.slow
def test_nothing_outside_the_grader_output_changed(graded):
    assert graded["outside_after"] == graded["outside"]
    assert graded["leftover_tmp"] == [] and graded["sleepers"] == []


@pytest.mark.slow
def test_reaching_outside_gets_nothing_and_leaks_nothing(graded):
    row = graded["rows"]["reaches_out"]
    assert row["total"] == "0"
    text = graded["feedback"]["reaches_out__00_multichannel_conv.md"]
    # Attempt 3 (forge the gradebook) may "succeed": the sandbox's /tmp is its own tmpfs, so the write lands
    # there; the real gradebook holds the grader's row only. Every other attempt fails outright.
    assert re.search(r"ATTEMPTS no,no,(ok|no),no,no,no nothing leaked", text), text
    assert "GRADER_SECRET" not in text and SECRET not in graded["gradebook_text"]
    assert "reaches_out,00,2,3,4,9,9," not in graded["gradebook_text"]
    assert "HOME': '/sandbox/home'" in text  # the only environment it saw is the sandbox's
    assert graded["rows"]["correct"]["total"] == str(FULL)


@pytest.mark.slow
def test_poisoning_later_students_fails_and_the_next_batch_grades_alike(graded):
    text = graded["feedback"]["poisoner__00_multichannel_conv.md"]
    assert graded["rows"]["poisoner"]["total"] == str(FULL)
    assert graded["next_rows"]["correct"]["total"] == str(FULL) and graded["next_rows"]["correct"]["reasons"] == ""
    # Plants in the sandbox's own HOME and /tmp may succeed (attempts 1-3): both are thrown away with it (the
    # host HOME is hashed by test_nothing_outside_the_grader_output_changed). The venv's site-packages, the
    # installed package, the grader's cwd and the grading build cannot be written (attempts 4-7).
    assert re.search(r"ATTEMPTS (ok|no),(ok|no),(ok|no),no,no,no,no", text), text


@pytest.mark.slow
def test_the_package_answers_are_withheld_and_huge_returns_are_refused(graded):
    row = graded["rows"]["uses_answers"]
    assert row["ex00_conv2d"] == "0" and row["ex00_conv_cost"] == "0"
    assert "not available while grading: write your own" in row["reasons"]
    assert row["ex00_conv_output_shape"] == "0"  # 200 000 nested lists come back as one bounded placeholder


@pytest.mark.slow
def test_memory_disk_processes_and_network_are_limited(graded):
    text = graded["feedback"]["resources__00_multichannel_conv.md"]
    # the 3 GiB allocation, the 1 GiB file, 200 processes (the pids cgroup allows 64 tasks) and the network
    # connection all failed; without a writable pids cgroup only RLIMIT_NPROC applies, which root ignores
    processes = "no" if ProcessCap.available() or os.getuid() != 0 else "(ok|no)"
    assert re.search(rf"ATTEMPTS no,no,{processes},no", text), text
    assert graded["rows"]["resources"]["total"] == str(FULL)
    assert graded["sleepers"] == []  # the processes it did start died with its sandbox


@pytest.mark.slow
def test_the_time_budget_stops_a_slow_notebook(graded):
    row = graded["rows"][SLOW]
    assert row["ex00_conv2d"] == "0" and "over the time budget of 30 s" in row["reasons"]
    assert row["ex00_conv_output_shape"] == "2" and row["ex00_conv_cost"] == "3"  # defined before the budget ran out


@pytest.mark.slow
def test_links_are_refused_with_the_reason_and_odd_names_get_their_own_files(graded):
    for name in ("linker", "submissions"):
        assert "symbolic link" in graded["rows"][name]["reasons"]
    names = [n for n in graded["feedback"] if n.startswith(("a_b", "a b", "x"))]
    assert len(names) == 3 and len(set(names)) == 3


def test_returned_values_are_bounded_before_they_are_judged(tmp_path):
    import torch

    from course_utils.grading import read_results

    many = tmp_path / "many.pt"
    torch.save({"results": [{"value": list(range(200_000))}]}, many)  # small file, 200 000 nodes
    assert read_results(many, 1) == (None, "the returned values are too large")
    views = tmp_path / "views.pt"
    base = torch.zeros(10_000_000)
    torch.save({"results": [{"value": [base[:] for _ in range(10)]}]}, views)  # one storage, 10 views
    assert read_results(views, 1) == (None, "the returned values are too large")


def test_inputs_are_read_defensively(tmp_path):
    from course_utils.grading import read_submission, safe_file_name
    from course_utils.grading.find import Refused

    big = tmp_path / "big.ipynb"
    big.write_bytes(b" " * 101)
    with pytest.raises(Refused, match="over the 100-byte limit"):
        read_submission(big, cap=100)
    fifo = tmp_path / "fifo.ipynb"
    os.mkfifo(fifo)
    with pytest.raises(Refused, match="not a regular file"):
        read_submission(fifo)
    link = tmp_path / "link.ipynb"
    link.symlink_to(big)
    with pytest.raises(Refused, match="symbolic link"):
        read_submission(link)
    names = ["a b", "a_b", "a/b", "a\nb", "../a_b", "é", "ü"]
    assert len({safe_file_name(n) for n in names}) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", safe_file_name(n)) for n in names)
