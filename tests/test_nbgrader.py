"""nbgrader 0.9.6 as shipped runs the course's solution notebooks, with no clicking: `make test-nbgrader`.

In a temporary course folder this runs the README's commands ("Using nbgrader instead"): ``nbgrader
generate_assignment`` on ``solutions/`` (whose cell metadata ``make exercises`` writes), ``nbgrader autograde`` on
a submitted solution and on the submitted release (the stub a learner gets) for two lessons, and ``nbgrader
export``; and it grades the same notebooks with ``python -m course_utils grade``. The solution must earn every
point, the stub none, and each exercise the points of the course's registry, in nbgrader and in our grader.

Nothing is installed here: without nbgrader the tests skip, saying why (under ``CI`` they fail instead).
Only the check that the README shows these very commands runs without nbgrader (in ``make check``).
"""

from __future__ import annotations

import csv
import importlib.metadata
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils import checks, notebooks

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ("00", "01")  # two of the quickest lessons to run; the metadata of every lesson is tested without nbgrader
BIN = Path(sys.executable).parent
CONFIG = 'c = get_config()\nc.CourseDirectory.course_id = "pointwise"\n'  # nbgrader_config.py
GENERATE = ["nbgrader", "generate_assignment", "ps*"]
AUTOGRADE = ["nbgrader", "autograde", "ps*", "--create"]
EXPORT = ["nbgrader", "export", "--to", "grades.csv"]


def needs_nbgrader(test):
    """Mark a test as part of `make test-nbgrader` (kept out of `make test` and `make check`)."""
    return pytest.mark.nbgrader(pytest.mark.slow(pytest.mark.usefixtures("nbgrader_installed")(test)))


def _pinned_version() -> str:
    """The nbgrader version pyproject.toml's ``nbgrader`` extra pins (``nbgrader==X``)."""
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["nbgrader"]
    return next(r.split("==")[1] for r in extra if r.startswith("nbgrader=="))


@pytest.fixture(scope="module")
def nbgrader_installed() -> None:
    try:
        version = importlib.metadata.version("nbgrader")
    except importlib.metadata.PackageNotFoundError:
        message = "nbgrader is not installed: `make test-nbgrader` installs the extra .[nbgrader] into .venv"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    assert version == _pinned_version(), f"nbgrader {version} installed, pyproject pins {_pinned_version()}"
    assert (BIN / "nbgrader").is_file(), f"no nbgrader command beside {sys.executable}"


def _solution(lesson: str) -> Path:
    return next((ROOT / "solutions").glob(f"{lesson}_*.ipynb"))


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run one command; on failure the error names it and shows its output."""
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (
        f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout + done.stderr


def _isolated_env(home: Path) -> dict[str, str]:
    """This venv first on PATH, and none of the user's Jupyter config or kernels (a global ``python3`` kernel or
    nbgrader_config.py must not decide what runs): only the venv's own ``python3`` kernelspec is found."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "NBGRADER"))}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        JUPYTER_CONFIG_DIR=str(home / "jupyter-config"),
        JUPYTER_DATA_DIR=str(home / "jupyter-data"),
    )
    return env


@pytest.fixture(scope="module")
def course(nbgrader_installed: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A course folder after the README's commands, with our grader's gradebook of the same submissions."""
    root = tmp_path_factory.mktemp("course")
    env = _isolated_env(tmp_path_factory.mktemp("home"))
    (root / "nbgrader_config.py").write_text(CONFIG)
    for lesson in LESSONS:
        (root / "source" / f"ps{lesson}").mkdir(parents=True)
        shutil.copy(_solution(lesson), root / "source" / f"ps{lesson}")
    _run(GENERATE, root, env)
    ours = root / "ours"
    ours.mkdir()
    for lesson in LESSONS:
        name = _solution(lesson).name
        for student, notebook in (("solution", root / "source"), ("stub", root / "release")):
            folder = root / "submitted" / student / f"ps{lesson}"
            folder.mkdir(parents=True)
            shutil.copy(notebook / f"ps{lesson}" / name, folder / name)
            shutil.copy(notebook / f"ps{lesson}" / name, ours / f"{student}_{lesson}.ipynb")
    # Our grader runs beside nbgrader's autograde (two cores, two batches of kernels). Without bubblewrap
    # (`make test-nbgrader` installs it where it can) it grades unsandboxed: the points are the same.
    sandbox = [] if shutil.which("bwrap") else ["--no-sandbox"]
    grader = subprocess.Popen(
        [sys.executable, "-m", "course_utils", "grade", str(ours), "--out", str(root / "ours.csv"), "--jobs", "1"]
        + sandbox,
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _run(AUTOGRADE, root, env)
        _run(EXPORT, root, env)
    finally:
        try:
            output, _ = grader.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            grader.kill()
            raise
    assert grader.returncode == 0, f"python -m course_utils grade failed:\n{output[-3000:]}"
    return {"root": root, "env": env}


def _exported(root: Path) -> dict[tuple[str, str], dict[str, str]]:
    """``nbgrader export``'s rows by (assignment, student)."""
    with open(root / "grades.csv", newline="") as handle:
        return {(row["assignment"], row["student_id"]): row for row in csv.DictReader(handle)}


def _nbgrader_cell_scores(root: Path, lesson: str, student: str) -> dict[str, tuple[float, float]]:
    """Autograded (score, max) per grade cell of one submission, read from nbgrader's gradebook database."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission_notebook(_solution(lesson).stem, f"ps{lesson}", student)
        return {grade.name: (grade.auto_score, grade.max_score) for grade in submission.grades}


def _ours(root: Path) -> dict[str, dict[str, str]]:
    """Our gradebook's rows by submission file stem (``solution_00``)."""
    with open(root / "ours.csv", newline="") as handle:
        rows = [row for row in csv.reader(handle) if row and not row[0].startswith("#")]
    header = rows[0]
    found = {}
    for values in rows[1:]:
        row = dict(zip(header, values, strict=False))
        stem = re.search(r"(solution|stub)_\d\d", row["submission"])
        assert stem, f"unexpected submission name {row['submission']!r}"
        found[stem.group(0)] = row
    return found


def _registry_points(lesson: str) -> dict[str, float]:
    return {e.name: float(e.points) for e in checks.exercises_for_lesson(lesson)}


@needs_nbgrader
def test_the_venvs_own_kernel_runs_the_notebooks(course, monkeypatch):
    """nbgrader starts the notebooks' ``python3`` kernel: in the test's environment that is this venv's."""
    from jupyter_client.kernelspec import KernelSpecManager

    for key in [k for k in os.environ if k.startswith("JUPYTER")]:
        monkeypatch.delenv(key)
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
        monkeypatch.setenv(key, course["env"][key])
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert Path(spec.resource_dir).resolve().is_relative_to(Path(sys.prefix).resolve()), spec.resource_dir


@needs_nbgrader
@pytest.mark.parametrize("lesson", LESSONS)
def test_the_release_is_the_stub_and_keeps_the_task(course, lesson):
    release = notebooks.read(course["root"] / "release" / f"ps{lesson}" / _solution(lesson).name)
    answers = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert answers and all("raise NotImplementedError" in c.source for c in answers)
    assert all("### BEGIN SOLUTION" not in c.source for c in release.cells)
    assert all("# Task:" in c.source for c in answers), "nbgrader's stub must keep the task line above it"


@needs_nbgrader
@pytest.mark.parametrize("lesson", LESSONS)
def test_export_gives_the_solution_every_point_and_the_stub_none(course, lesson):
    rows = _exported(course["root"])
    total = sum(_registry_points(lesson).values())
    solution, stub = rows[(f"ps{lesson}", "solution")], rows[(f"ps{lesson}", "stub")]
    assert float(solution["max_score"]) == float(stub["max_score"]) == total
    assert float(solution["score"]) == total, solution
    assert float(stub["score"]) == 0, stub


@needs_nbgrader
@pytest.mark.parametrize("lesson", LESSONS)
def test_every_exercise_scores_in_nbgrader_what_the_course_grader_gives(course, lesson):
    ours = _ours(course["root"])
    points = _registry_points(lesson)
    for student in ("solution", "stub"):
        expected = {name: (p if student == "solution" else 0.0) for name, p in points.items()}
        scores = _nbgrader_cell_scores(course["root"], lesson, student)
        assert {name: s for name, (s, _) in scores.items()} == expected, f"nbgrader, {student} of lesson {lesson}"
        assert {name: m for name, (_, m) in scores.items()} == points
        row = ours[f"{student}_{lesson}"]
        assert {name: float(row[name]) for name in points} == expected, f"course grader, {student} of {lesson}"


@needs_nbgrader
def test_solution_metadata_on_a_learners_stub_would_lose_the_signature():
    """Why exercises/ carries no nbgrader metadata: nbgrader's release step replaces a whole solution cell
    that has no solution region by its own stub (def line and task included)."""
    from nbgrader.preprocessors import ClearSolutions

    name = _solution("03").name
    exercise = notebooks.read(ROOT / "exercises" / name)
    released, _ = ClearSolutions().preprocess(notebooks.read(ROOT / "exercises" / name), {})
    assert [c.source for c in released.cells] == [c.source for c in exercise.cells]  # as shipped: untouched
    for cell, solution_cell in zip(exercise.cells, notebooks.read(ROOT / "solutions" / name).cells, strict=True):
        cell.metadata["nbgrader"] = solution_cell.metadata["nbgrader"]
    clobbered, _ = ClearSolutions().preprocess(exercise, {})
    assert not any("def inception_params" in c.source for c in clobbered.cells)


def _as_typed(args: list[str]) -> str:
    """A command as the README types it (a glob in double quotes)."""
    return " ".join(f'"{a}"' if "*" in a else shlex.quote(a) for a in args)


def test_the_readme_shows_the_commands_this_test_runs():
    section = (ROOT / "README.md").read_text().split("### Using nbgrader instead", 1)[1].split("\n## ", 1)[0]
    missing = [_as_typed(args) for args in (GENERATE, AUTOGRADE, EXPORT) if _as_typed(args) not in section]
    assert not missing, f"README's nbgrader section lacks the tested commands {missing}"
    config = re.search(r"printf '(.*)' > nbgrader_config.py", section)
    assert config and config.group(1).replace("\\n", "\n") == CONFIG, (
        "README's nbgrader_config.py is not the tested one"
    )
    assert 'pip install -e ".[nbgrader]"' in section


def test_make_test_nbgrader_installs_the_extra_when_missing_and_ci_runs_it():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    commands = subprocess.run(
        ["make", "--no-print-directory", "-n", "test-nbgrader"], cwd=ROOT, env=env, capture_output=True, text=True
    ).stdout
    assert (
        'python -c "import nbgrader" 2>/dev/null || ' in commands and 'pip install --quiet -e ".[nbgrader]"' in commands
    )
    assert "-m nbgrader" in commands and "tests/test_nbgrader.py" in commands
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test-nbgrader" in ci.split('if [ -n "${CI:-}" ]; then', 1)[1], ".ci/run must run it under CI"


@needs_nbgrader
@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*.ipynb")), ids=lambda p: p.name[:2])
def test_every_lesson_passes_nbgraders_metadata_check_and_solution_clearing(path):
    """What stopped generate_assignment before (every lesson, in-process: no kernel): nbgrader's own schema-3
    validator and ClearSolutions with enforce_metadata, which refuses a solution region outside a solution cell."""
    from nbgrader.nbgraderformat import MetadataValidator
    from nbgrader.preprocessors import ClearSolutions

    nb = notebooks.read(path)
    MetadataValidator().validate_nb(nb)
    released, _ = ClearSolutions(enforce_metadata=True).preprocess(nb, {})
    assert not any("### BEGIN SOLUTION" in cell.source for cell in released.cells)
    assert sum("raise NotImplementedError()" in cell.source for cell in released.cells) == len(
        checks.exercises_for_lesson(path.name[:2])
    )
