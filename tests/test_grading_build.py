"""The grading build of course_utils: the answers table is complete and every name in it is withheld."""

from __future__ import annotations

import importlib
import subprocess
import sys

from course_utils import checks
from course_utils.grading import ANSWERS, build_grading_package
from course_utils.grading.answers import withheld_names
from course_utils.grading.guard import package_dir


def test_every_exercise_has_an_answers_entry_and_an_empty_one_says_why():
    missing = sorted(set(checks.all_exercises()) - set(ANSWERS))
    assert missing == [], f"add these to course_utils/grading/answers.py ANSWERS: {missing}"
    assert sorted(set(ANSWERS) - set(checks.all_exercises())) == []
    assert [name for name, a in ANSWERS.items() if not a.names and not a.why_none.strip()] == []


def test_every_withheld_name_exists_in_the_package():
    for qualname in withheld_names():
        module, attr = qualname.rsplit(".", 1)
        assert hasattr(importlib.import_module(module), attr), qualname


def test_the_build_withholds_the_answers_and_has_no_judges(tmp_path):
    build = build_grading_package(package_dir(), tmp_path)
    assert not (build / "checks" / "lesson00.py").exists() and not (build / "grading").exists()
    probe = (
        "import course_utils, course_utils.blocks as b, course_utils.counting as c\n"
        f"assert course_utils.__file__.startswith({str(tmp_path)!r}), course_utils.__file__\n"
        "for call in (lambda: b.InceptionModule(3, 1, 1, 1, 1, 1, 1), lambda: c.conv_macs(3, 3, 3, (4, 4))):\n"
        "    try:\n        call()\n    except RuntimeError as err:\n        print(err)\n"
        "class Mine(b.Bottleneck):\n    pass\n"
        "try:\n    Mine()\nexcept RuntimeError as err:\n    print(err)\n"
        "try:\n    import course_utils.checks.lesson00\nexcept ImportError:\n    print('no judges')\n"
        "from course_utils import checks\nchecks.ex03_inception_module(None)\n"
        "print(c.format_count(1234))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path)}, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("course_utils.blocks.InceptionModule is not available while grading: write your own")
    assert "ex03_inception_module" in lines[0]
    assert lines[1].startswith("course_utils.counting.conv_macs is not available while grading")
    assert lines[2].startswith("course_utils.blocks.Bottleneck is not available while grading")
    assert lines[3] == "no judges" and "not run while grading" in lines[4]
    assert lines[5] != ""  # what is not an answer still works


def test_a_hint_cell_in_a_submission_does_not_raise_while_grading(tmp_path):
    build_grading_package(package_dir(), tmp_path)
    probe = "from course_utils import checks\nchecks.hint('ex06_channel_shuffle')\n"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path)}, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ex06_channel_shuffle: hints are not shown while grading")
