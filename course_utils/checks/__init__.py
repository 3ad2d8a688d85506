"""Exercise checkers: ``checks.exNN_name(your_object)`` prints one verdict for exercise NN.

Every ``lessonNN`` module in this package is discovered automatically (``pkgutil``): each holds a list
``EXERCISES`` of :class:`~course_utils.checks._framework.Exercise`, and every exercise becomes a checker
function of the same name here, e.g. ``checks.ex03_inception_module(InceptionModule)``. To add lesson 05's
exercises, add ``lesson05.py``: nothing in this file changes.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable

from ._framework import Exercise, Verdict, evaluate, hints_opened, make_checker, reset_hints
from ._framework import hint as _hint_text

__all__ = [
    "all_exercises",
    "exercises_for_lesson",
    "get",
    "evaluate",
    "assert_pass",
    "hint",
    "hints_opened",
    "reset_hints",
    "Exercise",
    "Verdict",
]

_LESSON_MODULE = re.compile(r"lesson\d\d$")
_REGISTRY: dict[str, Exercise] = {}


def _discover() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not _LESSON_MODULE.match(info.name):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for exercise in getattr(module, "EXERCISES", ()):
            if exercise.name in _REGISTRY:
                raise ValueError(f"exercise {exercise.name!r} is defined twice (second time in {module.__name__})")
            if exercise.lesson != info.name[-2:]:
                raise ValueError(
                    f"exercise {exercise.name!r} lives in {module.__name__}: its number must be {info.name[-2:]}"
                )
            _REGISTRY[exercise.name] = exercise
            checker: Callable[[object], None] = make_checker(exercise)
            globals()[exercise.name] = checker
            __all__.append(exercise.name)


def all_exercises() -> dict[str, Exercise]:
    """Every exercise of every lesson, by name (``'ex03_inception_module'`` → Exercise)."""
    return dict(_REGISTRY)


def exercises_for_lesson(lesson: str | int) -> list[Exercise]:
    """The exercises of lesson ``'03'`` (or ``3``), in the order they are defined."""
    lesson = f"{int(lesson):02d}"
    return [e for e in _REGISTRY.values() if e.lesson == lesson]


def get(name: str) -> Exercise:
    """The exercise called ``name``; ``KeyError`` naming the known exercises otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no exercise {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def assert_pass(name: str, obj: object) -> None:
    """Print exercise ``name``'s verdict for ``obj`` and raise ``AssertionError`` unless it passes.

    For code that needs the raise wherever it runs; the course's own check cells print, and raise only under
    nbgrader (``NBGRADER_EXECUTION`` set), which scores an "autograded tests" cell by whether it raises.
    """
    verdict = evaluate(get(name), obj)
    print(verdict.text)
    if verdict.status != "pass":
        raise AssertionError(verdict.text)


def hint(name: str) -> None:
    """Print the next level of exercise ``name``'s help: a nudge, then the idea, then the formula (one per call).

    ``checks.hint("ex06_channel_shuffle")``. Opening hints is never a penalty; :func:`hints_opened` counts them.
    """
    print(_hint_text(get(name)))


def __getattr__(name: str) -> object:  # a clear message for a typo in a check cell
    if name.startswith("ex") and name[2:4].isdigit():
        raise AttributeError(f"course_utils.checks has no checker {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    raise AttributeError(name)


_discover()
