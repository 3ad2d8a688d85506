"""Every cell of a solutions notebook outside its solution regions runs in the grader's build too.

The grading kernel imports the grading build of ``course_utils`` (:mod:`course_utils.grading.build`): no checks'
judges (``checks`` is a stub with only the ``exNN_...`` checkers), and the names of ``answers.ANSWERS`` raise when
used. So the notebook's own cells (guard, demos, measurements) may only use public names that exist in that build,
and may import a withheld name (the learner's solution may need it at home) but never use it themselves. A demo cell
that read a checker's private reference (``from course_utils.checks import lesson02``) raised ImportError there.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils import notebooks
from course_utils.exercises import strip_solutions
from course_utils.grading import build_grading_package
from course_utils.grading.answers import withheld_names
from course_utils.grading.guard import package_dir

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def course_names(source: str, bound: dict[str, str] | None = None) -> tuple[set[str], set[str]]:
    """``(imported, used)``: the qualified ``course_utils`` names a cell imports, and those it uses after importing
    them (``checks.get`` → ``course_utils.checks.get``; ``profile(...)`` → ``course_utils.counting.profile``).
    ``bound`` (local name → qualified name) carries the imports of the notebook's earlier cells; it is updated."""
    tree = ast.parse(source)
    bound = {} if bound is None else bound
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "course_utils":
                    bound[alias.asname or "course_utils"] = alias.name if alias.asname else "course_utils"
                    imported.add(alias.name)
        elif (
            isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "course_utils"
        ):
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                imported.add(f"{node.module}.{alias.name}")
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
            used.add(f"{bound[node.value.id]}.{node.attr}")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in bound:
            used.add(bound[node.id])
    return imported, used


def notebook_names(path: Path) -> tuple[set[str], set[str]]:
    """What the cells of ``path`` import and use once their solution regions are replaced by the stubs."""
    imported: set[str] = set()
    used: set[str] = set()
    bound: dict[str, str] = {}
    for cell in notebooks.read(path).cells:
        if cell.cell_type == "code":
            cell_imported, cell_used = course_names(strip_solutions(cell.source), bound)
            imported |= cell_imported
            used |= cell_used
    return imported, used


_PROBE = """
import importlib, json, sys
missing = []
for qualname in json.loads(sys.argv[1]):
    parts = qualname.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            missing.append(qualname)
        break
    else:
        missing.append(qualname)
print(json.dumps(missing))
"""


def missing_in_build(qualnames: set[str], build_parent: Path) -> list[str]:
    """The names that do not resolve when ``course_utils`` is the grading build under ``build_parent``."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(sorted(qualnames))],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(build_parent)},
        cwd=build_parent,
        check=True,
    )
    return list(json.loads(done.stdout))


def test_the_scan_sees_private_imports_checker_internals_and_withheld_uses():
    imported, used = course_names(
        "from course_utils.checks import lesson02 as _l\nfrom course_utils import checks, counting\n"
        "from course_utils.counting import profile\n"
        "checks.get('ex02_signal_kept')\ncounting.conv_macs(1, 1, 1, (2, 2))\nprofile(None, (1,))\n"
    )
    assert "course_utils.checks.lesson02" in imported
    assert {"course_utils.checks.get", "course_utils.counting.conv_macs", "course_utils.counting.profile"} <= used


#: Names the probe must find missing from the build (the first two) and present (the last).
PROBE_SELF_TEST = {"course_utils.checks.lesson02", "course_utils.checks.get", "course_utils.data.digits"}


@pytest.fixture(scope="module")
def missing_from_build(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every name the solutions notebooks import or use (and the probe's self-test) that does not resolve in the
    grading build: one probe process for all of them (each process imports torch)."""
    parent = tmp_path_factory.mktemp("grading_build")
    build_grading_package(package_dir(), parent)
    names = set(PROBE_SELF_TEST)
    for path in SOLUTIONS:
        imported, used = notebook_names(path)
        names |= imported | used
    return set(missing_in_build(names, parent))


def test_the_probe_reports_what_the_build_lacks(missing_from_build):
    assert sorted(missing_from_build & PROBE_SELF_TEST) == ["course_utils.checks.get", "course_utils.checks.lesson02"]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name[:2])
def test_cells_outside_the_solutions_use_only_public_names_of_the_grading_build(path, missing_from_build):
    imported, used = notebook_names(path)
    private = sorted(n for n in imported | used if any(part.startswith("_") for part in n.split(".")))
    assert private == [], f"{path.name}: private names are not in the grading build: {private}"
    missing = sorted((imported | used) & missing_from_build)
    assert missing == [], f"{path.name}: these names do not exist in the grading build: {missing}"
    withheld = sorted(used & set(withheld_names()))
    assert withheld == [], f"{path.name}: these names raise while grading (they answer an exercise): {withheld}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name[:2])
def test_the_solutions_themselves_use_no_withheld_name(path):
    """A name the task tells learners to use (exercise 09: counting.profile) must work while grading, or the
    solution itself scores 0 there."""
    bound: dict[str, str] = {}
    used: set[str] = set()
    for cell in notebooks.read(path).cells:
        if cell.cell_type == "code":
            used |= course_names(cell.source, bound)[1]
    assert sorted(used & set(withheld_names())) == [], f"{path.name}: its own solutions would raise while grading"
