"""The grading build of ``course_utils``: what a grading kernel imports instead of the real package.

It is a copy of the package's teaching modules with (a) no ``checks`` judges or reference solutions (a stub
``checks`` whose checkers only say that grading happens elsewhere), no ``grading`` and no solution tooling, and
(b) every name of :data:`course_utils.grading.answers.ANSWERS` replaced by a class that raises
``WithheldWhileGrading`` when called or instantiated (also through a subclass).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .answers import withheld_names

__all__ = ["build_grading_package", "WITHHELD_MESSAGE"]

WITHHELD_MESSAGE = "is not available while grading: write your own"
_LEFT_OUT = {"checks", "grading", "exercises.py", "site.py", "__main__.py"}

_WITHHELD_MODULE = f'''"""Grading build: names that answer an exercise raise instead of answering."""


class WithheldWhileGrading(RuntimeError):
    """A package name that answers an exercise was used while grading."""


def withheld(qualname, exercises):
    message = qualname + " {WITHHELD_MESSAGE} (it answers " + ", ".join(exercises) + ")"

    def __new__(cls, *args, **kwargs):
        raise WithheldWhileGrading(message)

    return type(qualname.rsplit(".", 1)[1], (), {{"__new__": __new__, "__doc__": message, "__module__": "course_utils"}})
'''

_CHECKS_STUB = '''"""Grading build: the checkers and their reference solutions stay in the grader's process."""


def _not_here(name):
    def checker(*args, **kwargs):
        print(name + ": checks are not run while grading; your work is graded on hidden cases")

    return checker


def hint(name):
    print(str(name) + ": hints are not shown while grading (opening them at home costs nothing)")


def __getattr__(name):
    if name.startswith("ex"):
        return _not_here(name)
    raise AttributeError(name)
'''


def build_grading_package(source: str | Path, dest: str | Path) -> Path:
    """Write the grading build of the package folder ``source`` to ``dest/course_utils``; return that folder."""
    source, target = Path(source), Path(dest) / "course_utils"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", *_LEFT_OUT)
    shutil.copytree(source, target, ignore=ignore, symlinks=False)
    (target / "checks").mkdir()
    (target / "checks" / "__init__.py").write_text(_CHECKS_STUB, encoding="utf-8")
    (target / "_withheld.py").write_text(_WITHHELD_MODULE, encoding="utf-8")
    by_module: dict[str, list[tuple[str, list[str]]]] = {}
    for qualname, exercises in withheld_names().items():
        module, attr = qualname.rsplit(".", 1)
        by_module.setdefault(module, []).append((attr, exercises))
    for module, names in by_module.items():
        path = target.joinpath(*module.split(".")[1:]).with_suffix(".py")
        if not path.is_file():
            raise ValueError(f"the answers table names module {module!r}, which is not in {source}")
        lines = ["", "", "# --- grading build: answers withheld (course_utils.grading.answers) ---"]
        lines.append("from course_utils._withheld import withheld as _withheld  # noqa: E402")
        lines += [f"{attr} = _withheld({module + '.' + attr!r}, {exercises!r})" for attr, exercises in names]
        with path.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    return target
