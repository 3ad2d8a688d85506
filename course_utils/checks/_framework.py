"""The exercise-check framework: one ``Exercise`` per task, visible and hidden cases, one printed verdict.

How a check works
-----------------
An :class:`Exercise` names the object the learner writes (``target``, e.g. ``"InceptionModule"``), its
visible cases (fixed, shown with their data when they fail) and a generator of hidden cases (drawn from a
seed, named in feedback only by what they test). Running a case has two halves that never share state:

1. **apply** — the learner's object is applied to the case's inputs by the exercise's *adapter*, a small
   piece of self-contained source text (:data:`CALL_FUNCTION`, :data:`BUILD_MODULE` or an exercise's own).
   Inputs and results cross a safe boundary (:func:`encode` / :func:`decode`: tensors, arrays, numbers,
   strings, tuples, lists, dicts only). In a notebook this happens in-process; when grading it happens in the
   submission's kernel and the values come back through ``torch.save`` / ``torch.load(weights_only=True)``.
2. **judge** — the exercise compares the returned values with its own reference computation and, on a
   mismatch, recognises the common mistakes (bias forgotten, weights transposed, ...) to give a specific hint.

``evaluate(exercise, obj)`` runs both halves in-process and returns a :class:`Verdict`; the per-exercise
checkers in :mod:`course_utils.checks` print ``verdict.text``. The grader (:mod:`course_utils.grading`)
reuses the same cases, adapter source and judge, but runs the adapter inside the submission's kernel.

Adding exercises
----------------
Create ``course_utils/checks/lessonNN.py`` with a module-level list ``EXERCISES`` of :class:`Exercise`
(usually built with :func:`function_exercise` or :func:`module_exercise`); the package discovers it.
"""

from __future__ import annotations

import math
import os
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ._hints import DIFFICULTY, HINTS

__all__ = [
    "Case",
    "Failure",
    "Verdict",
    "Exercise",
    "function_exercise",
    "module_exercise",
    "evaluate",
    "judge_all",
    "run_adapter",
    "encode",
    "decode",
    "compare",
    "describe",
    "shape_hint",
    "CALL_FUNCTION",
    "BUILD_MODULE",
    "CODEC_SOURCE",
    "hint",
    "hints_opened",
    "reset_hints",
    "stars",
    "MUTATION_HINT",
    "under_nbgrader",
]

# ---------------------------------------------------------------------------------------------
# Kernel-side code, kept as source text: the grader ships exactly this text into a submission's kernel,
# and the in-notebook checker executes the same text here, so both paths apply the learner's object alike.
# It may only use the standard library, numpy and torch (never course_utils: a submission can edit that).
# ---------------------------------------------------------------------------------------------
CODEC_SOURCE = r'''
import numbers as _numbers

import numpy as _np
import torch as _torch


def encode(value, _depth=0):
    """Learner value -> plain structure of tensors/numbers/str/tuple/list/dict (safe for weights_only)."""
    if _depth > 20:
        return {"__unsupported__": "nested too deeply"}
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, _torch.Tensor):
        return {"__tensor__": value.detach().cpu().clone().as_subclass(_torch.Tensor)}
    if isinstance(value, _np.ndarray):
        if value.dtype == object or value.dtype.kind not in "biuf":
            return {"__unsupported__": "ndarray of dtype " + str(value.dtype)}
        return {"__ndarray__": _torch.from_numpy(_np.array(value, copy=True))}
    if isinstance(value, (bool, _np.bool_)):
        return bool(value)
    if isinstance(value, _numbers.Integral):
        return int(value)
    if isinstance(value, _numbers.Real):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, tuple):
        return tuple(encode(v, _depth + 1) for v in value)
    if isinstance(value, list):
        return [encode(v, _depth + 1) for v in value]
    if isinstance(value, dict) and all(type(k) is str for k in value):
        return {"__dict__": {k: encode(v, _depth + 1) for k, v in value.items()}}
    return {"__unsupported__": type(value).__name__}


def decode(value):
    """Inverse of encode (tensors stay tensors, arrays come back as numpy arrays)."""
    if isinstance(value, tuple):
        return tuple(decode(v) for v in value)
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "__tensor__" in value:
            return value["__tensor__"]
        if "__ndarray__" in value:
            return value["__ndarray__"].numpy()
        if "__dict__" in value:
            return {k: decode(v) for k, v in value["__dict__"].items()}
        if "__unsupported__" in value:
            return Unsupported(value["__unsupported__"])
    return value


class Unsupported:
    """A returned value of a type checks cannot compare (e.g. a list of modules)."""

    def __init__(self, type_name):
        self.type_name = str(type_name)

    def __repr__(self):
        return "<" + self.type_name + ">"


_NOTES = []


def note_mutation(name):
    """Adapters call this when the learner's code changed something it was handed (e.g. a layer's weight)."""
    _NOTES.append(str(name))


def same_value(a, b):
    """Whether a value is unchanged: tensors and arrays element by element (NaN equals NaN), containers item by item."""
    if isinstance(a, _torch.Tensor) or isinstance(b, _torch.Tensor):
        if not (isinstance(a, _torch.Tensor) and isinstance(b, _torch.Tensor)):
            return False
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        return bool(_torch.equal(a, b) or ((a == b) | (a.isnan() & b.isnan())).all()) if a.is_floating_point() \
            else bool(_torch.equal(a, b))
    if isinstance(a, _np.ndarray) or isinstance(b, _np.ndarray):
        return (isinstance(a, _np.ndarray) and isinstance(b, _np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and bool(_np.array_equal(a, b, equal_nan=a.dtype.kind == "f")))
    if isinstance(a, (list, tuple)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(same_value(x, y) for x, y in zip(a, b)))
    if isinstance(a, dict):
        return isinstance(b, dict) and set(a) == set(b) and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, (bool, int, float, str)):  # items of a list the learner sorted or reversed in place
        return type(a) is type(b) and (a == b or (a != a and b != b))
    return True


def _argument_names(obj, count):
    """The learner's names for the first ``count`` positional parameters (``#1`` ... when unknown)."""
    import inspect

    names = ["#" + str(i + 1) for i in range(count)]
    try:
        params = [p.name for p in inspect.signature(obj).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return names
    return [params[i] if i < len(params) else names[i] for i in range(count)]


def _mutations(obj, before, after):
    """The arguments (by the learner's name) and case inputs the call changed in place."""
    changed = []
    args_before, args_after = before.get("args", ()), after.get("args", ())
    names = _argument_names(obj, len(args_before))
    for name, a, b in zip(names, args_before, args_after):
        if not same_value(a, b):
            changed.append(name)
    for key in before:
        if key not in ("args", "seed", "attrs") and not same_value(before[key], after.get(key)):
            changed.append(key)
    return changed + [n for n in _NOTES if n not in changed]


def run_case(adapter, obj, case):
    """Apply obj to one case; return {'value': encoded} or {'error': 'Type: message', 'not_implemented': bool}.

    When the call changed one of its inputs in place, the value comes back wrapped as
    ``{'__mutated__': [argument names], '__value__': value}`` (a plain dict, so it crosses any result reader).
    """
    fresh = decode(encode(case))
    del _NOTES[:]
    try:
        value = adapter(obj, fresh)
        encoded = encode(value)
        changed = _mutations(obj, case, fresh)
        if changed:
            encoded = {"__dict__": {"__mutated__": list(changed), "__value__": encoded}}
        return {"value": encoded}
    except BaseException as err:  # the learner's code may raise anything, even SystemExit
        if isinstance(err, KeyboardInterrupt):
            raise
        message = str(err).splitlines()[0][:300] if str(err) else ""
        return {"error": type(err).__name__ + (": " + message if message else ""),
                "not_implemented": isinstance(err, NotImplementedError)}


def unique_state(module):
    """A module's state_dict with every shared tensor once, under its first name (a submodule kept under two
    names, e.g. in a ModuleList beside its own attribute, is one set of weights, not two)."""
    seen = set()
    state = {}
    for name, tensor in module.state_dict(keep_vars=True).items():
        key = (tensor.data_ptr(), tuple(tensor.shape), tensor.dtype) if tensor.numel() else ("empty", name)
        if key in seen:
            continue
        seen.add(key)
        state[name] = tensor
    return state


def seeded_values(state, seed):
    """The values build_seeded (BUILD_MODULE and other module adapters) writes into a module's floating-point state, by name (sorted), from ``seed``."""
    generator = _torch.Generator().manual_seed(int(seed))
    values = {}
    for name in sorted(state):
        tensor = state[name]
        if tensor.is_floating_point():
            if name.endswith("running_var"):
                values[name] = (_torch.rand(tuple(tensor.shape), generator=generator) + 0.5).to(tensor.dtype)
            else:
                values[name] = (_torch.randn(tuple(tensor.shape), generator=generator) * 0.5).to(tensor.dtype)
    return values


def build_seeded(obj, args, x, seed):
    """``obj(*args)``, its floating-point state filled with ``seeded_values(..., seed)`` (so BatchNorm and biases
    matter), run in eval mode on ``x``: ``(module, output, a copy of its state)``. What module adapters compare."""
    module = obj(*args)
    if not isinstance(module, _torch.nn.Module):
        raise TypeError(f"{getattr(obj, '__name__', obj)}(...) returned a {type(module).__name__}, not an nn.Module")
    with _torch.no_grad():
        state = unique_state(module)
        for name, value in seeded_values(state, seed).items():
            state[name].copy_(value)
        module.eval()
        out = module(x)
    return module, out, {k: v.detach().clone() for k, v in unique_state(module).items()}


def grade_io(adapter, obj, in_path, out_path):
    """Grading entry point inside a kernel: read the cases the grader wrote, write {'results': [...]} back
    (or {'missing': True} when the notebook never defined the learner's object)."""
    if obj is None:
        _torch.save({"missing": True}, out_path)
        return
    cases = _torch.load(in_path, weights_only=True)
    _torch.save({"results": [run_case(adapter, obj, decode(c)) for c in cases]}, out_path)
'''

#: Adapter for exercises that ask for a function: ``obj(*case["args"])``.
CALL_FUNCTION = r"""
def adapter(obj, case):
    return obj(*case["args"])
"""

#: Adapter for exercises that ask for an ``nn.Module`` class: build it, give every floating-point
#: parameter and buffer seeded random values (so BatchNorm and biases matter), run it in eval mode on x.
BUILD_MODULE = r"""
def adapter(obj, case):
    module, out, state = build_seeded(obj, case["args"], case["x"], case["seed"])
    return {"out": out, "state": state, "attrs": {a: getattr(module, a, None) for a in case.get("attrs", ())}}
"""


_CODEC: dict[str, Any] = {}
exec(compile(CODEC_SOURCE, "<course_utils.checks codec>", "exec"), _CODEC)  # noqa: S102 - our own codec source, shared with the kernel
encode: Callable[[Any], Any] = _CODEC["encode"]
decode: Callable[[Any], Any] = _CODEC["decode"]
Unsupported = _CODEC["Unsupported"]
_ADAPTERS: dict[str, Callable[[Any, Any], Any]] = {}


def run_adapter(adapter_source: str, obj: Any, case_data: Mapping[str, Any]) -> dict[str, Any]:
    """Apply ``obj`` to one case in this process, exactly as a grading kernel would."""
    if adapter_source not in _ADAPTERS:
        namespace = dict(_CODEC)
        exec(compile(adapter_source, "<course_utils.checks adapter>", "exec"), namespace)  # noqa: S102 - an exercise's own adapter text
        _ADAPTERS[adapter_source] = namespace["adapter"]
    result = _CODEC["run_case"](_ADAPTERS[adapter_source], obj, dict(case_data))
    if "value" in result:
        result["value"] = decode(result["value"])
    return result


# ---------------------------------------------------------------------------------------------
# Cases, failures, verdicts
# ---------------------------------------------------------------------------------------------
@dataclass
class Case:
    """One input for the learner's object. ``label`` says what it tests; it is all a hidden case reveals."""

    label: str
    data: dict[str, Any]
    hidden: bool = False


@dataclass
class Failure:
    """Why one case failed: a short ``what``, formatted expected/received values, and a specific hint."""

    what: str
    expected: str = ""
    received: str = ""
    hint: str = ""
    candidates: list[str] = field(default_factory=list)  # hints of every known mistake this value matches


@dataclass
class Verdict:
    """The outcome of checking one exercise: ``status`` is 'pass', 'fail' or 'not_attempted'."""

    exercise: str
    status: str
    passed: int
    total: int
    text: str
    failures: list[tuple[Case, Failure]] = field(default_factory=list)
    hidden_total: int = 0
    report: str = ""  # lines the checker prints after the verdict (e.g. a measurement beside the prediction)

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def hidden_fraction(self) -> float:
        """Share of the hidden cases that pass: what the grader scores (visible cases could be hard-coded)."""
        if self.status != "pass" and self.status != "fail" or not self.hidden_total:
            return 0.0
        failed = sum(case.hidden for case, _ in self.failures)
        return (self.hidden_total - failed) / self.hidden_total

    def __str__(self) -> str:
        return self.text


Judge = Callable[[Case, dict[str, Any]], "Failure | None"]


@dataclass
class Exercise:
    """One auto-checked task.

    ``target`` is the name the learner defines in the notebook; ``adapter`` the source text that applies it to a
    case; ``visible()`` the fixed cases; ``hidden(rng)`` draws the hidden ones; ``judge(case, result)`` returns
    ``None`` when the case passes, else a :class:`Failure` (``result`` is the dict returned by the adapter
    run: ``{'value': ...}`` or ``{'error': ..., 'not_implemented': ...}``, already decoded).
    """

    name: str
    points: float
    target: str
    adapter: str
    visible: Callable[[], list[Case]]
    hidden: Callable[[np.random.Generator], list[Case]]
    judge: Judge
    lesson: str = ""
    error_hint: str = ""
    # staged help for checks.hint(name): a nudge, then the idea, then the formula (default: HINTS[name])
    hints: tuple[str, ...] = ()
    difficulty: int = 0  # 1 to 3 stars (default: DIFFICULTY[name]; 0: not rated)
    # report(case, value) -> a line printed under the verdict for each visible case that returned a value
    # (what was measured beside what was predicted); kept out of ``Verdict.text``, which stays deterministic
    report: Callable[[Case, Any], str] | None = None

    def __post_init__(self) -> None:
        if not self.name[:2] == "ex" or not self.name[2:4].isdigit() or self.name[4] != "_":
            raise ValueError(f"exercise name={self.name!r} must look like 'exNN_what' (NN = lesson number)")
        self.hints = tuple(self.hints) or HINTS.get(self.name, ())  # one table for every exercise (_hints.py)
        self.difficulty = self.difficulty or DIFFICULTY.get(self.name, 0)
        if not 0 <= self.difficulty <= 3:
            raise ValueError(f"difficulty={self.difficulty!r} must be 1, 2 or 3 stars (0: not rated)")
        self.lesson = self.lesson or self.name[2:4]

    def cases(self, seed: int | None = None) -> list[Case]:
        """Visible cases, then hidden cases drawn from ``seed`` (default: fixed per exercise, for notebooks)."""
        if seed is None:
            seed = zlib.crc32(self.name.encode())
        hidden = self.hidden(np.random.default_rng(seed))
        for case in hidden:
            case.hidden = True
        return [*self.visible(), *hidden]


# ---------------------------------------------------------------------------------------------
# Judging
# ---------------------------------------------------------------------------------------------
MUTATION_HINT = (
    "a checked function must leave its inputs as they were: the caller still needs them. Write "
    "x = x - mean instead of x -= mean, out = a + b instead of a += b, reversed(xs) or xs[::-1] instead of "
    "xs.reverse(), and build new weights instead of reshaping or scaling a layer's own"
)


def _unwrap(result: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Split a result into the plain result and the names of the inputs the call changed in place."""
    value = result.get("value")
    if isinstance(value, dict) and set(value) == {"__mutated__", "__value__"}:
        names = value["__mutated__"]
        return {**result, "value": value["__value__"]}, [str(n) for n in names] if isinstance(names, list) else []
    return result, []


def judge_all(exercise: Exercise, cases: Sequence[Case], results: Sequence[dict[str, Any]]) -> Verdict:
    """Turn per-case results into one verdict (the first failing case is reported).

    Each case is judged on its own: a case that raises ``NotImplementedError`` is a failed case, and the exercise
    is "not attempted" only when every case does. A case whose call changed one of its inputs in place fails,
    whatever it returned.
    """
    name = exercise.name
    n_visible = sum(not c.hidden for c in cases)
    n_hidden = len(cases) - n_visible
    if results and all(r.get("not_implemented") for r in results):
        return Verdict(
            name,
            "not_attempted",
            0,
            len(cases),
            f"⏳ {name}: not attempted yet (the stub still raises NotImplementedError)",
        )
    failures: list[tuple[Case, Failure]] = []
    passed = 0
    for case, raw in zip(cases, results, strict=False):
        result, mutated = _unwrap(raw)
        try:
            failure = _judge_one(exercise, case, result)
        except Exception as err:  # a judge must never raise into the learner's cell
            failure = Failure("the returned value could not be checked", hint=f"{type(err).__name__}: {err}")
        if mutated:
            which = ", ".join(
                f"`{n.split(' (', 1)[0]}` ({n.split(' (', 1)[1]}" if " (" in n else f"`{n}`" for n in mutated
            )
            plural = "s" if len(mutated) > 1 else ""
            failure = Failure(
                f"your function changed its argument{plural} {which} in place"
                + ("" if failure is None else f" (and {failure.what})"),
                hint=MUTATION_HINT,
            )
        if failure is None:
            passed += 1
        else:
            failures.append((case, failure))
    if not failures:
        return Verdict(
            name,
            "pass",
            passed,
            len(cases),
            f"✅ {name}: all {n_visible} visible and {n_hidden} hidden cases pass",
            hidden_total=n_hidden,
            report=_report(exercise, cases, results),
        )
    report = _report(exercise, cases, results)
    case, failure = failures[0]
    if len(failure.candidates) > 1:  # several known mistakes explain this case: take the one explaining most cases
        tally = {hint: sum(hint in f.candidates for _, f in failures) for hint in failure.candidates}
        failure.hint = max(failure.candidates, key=lambda hint: tally[hint])
    text = _failure_text(name, case, failure, passed, len(cases))
    if exercise.hints:
        text += f"\n   more help: run checks.hint({name!r}) ({len(exercise.hints)} levels, one per call)"
    return Verdict(name, "fail", passed, len(cases), text, failures, hidden_total=n_hidden, report=report)


def _report(exercise: Exercise, cases: Sequence[Case], results: Sequence[dict[str, Any]]) -> str:
    """The exercise's report lines for its visible cases that returned a value (hidden cases stay unseen)."""
    if exercise.report is None:
        return ""
    lines = []
    for case, raw in zip(cases, results, strict=False):
        result, _ = _unwrap(raw)
        if case.hidden or "value" not in result:
            continue
        try:
            lines.append(exercise.report(case, result["value"]))
        except Exception as err:  # a report must never raise into the learner's cell
            lines.append(f"   ({case.label}: no report: {type(err).__name__}: {err})")
    return "\n".join(lines)


def _judge_one(exercise: Exercise, case: Case, result: dict[str, Any]) -> Failure | None:
    if "error" in result:
        if result.get("not_implemented"):
            return Failure(
                "raised NotImplementedError", hint="part of your solution is still a stub: this case reaches it"
            )
        return Failure(
            f"raised {result['error']}",
            hint=exercise.error_hint or "read the error: the case's inputs are valid, so your code should accept them",
        )
    return exercise.judge(case, result["value"])


def _failure_text(name: str, case: Case, failure: Failure, passed: int, total: int) -> str:
    kind = "hidden" if case.hidden else "visible"
    lines = [f"❌ {name}: {kind} case '{case.label}' failed: {failure.what} ({passed} of {total} cases pass)"]
    if not case.hidden:
        lines.append(f"   inputs:   {describe_inputs(case.data)}")
        if failure.expected or failure.received:
            lines.append(f"   expected: {failure.expected}")
            lines.append(f"   received: {failure.received}")
    if failure.hint:
        lines.append(f"   hint: {failure.hint}")
    return "\n".join(lines)


def evaluate(exercise: Exercise, obj: Any, seed: int | None = None) -> Verdict:
    """Run every case of ``exercise`` on the learner's ``obj`` in this process and return the verdict."""
    if obj is None or not callable(obj):
        return Verdict(
            exercise.name,
            "fail",
            0,
            0,
            f"❌ {exercise.name}: expected the function or class `{exercise.target}`, got {type(obj).__name__}",
        )
    cases = exercise.cases(seed)
    results = []
    for case in cases:
        results.append(run_adapter(exercise.adapter, obj, case.data))
    return judge_all(exercise, cases, results)


def under_nbgrader() -> bool:
    """Whether nbgrader is executing this notebook: it sets ``NBGRADER_EXECUTION`` ('autograde' in
    ``nbgrader autograde``, 'validate' in ``nbgrader validate``) around the kernel it starts."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def make_checker(exercise: Exercise) -> Callable[[Any], None]:
    """The function learners call in a check cell: prints one verdict, never raises for a wrong answer.

    Under nbgrader (:func:`under_nbgrader`) the same call raises ``AssertionError`` with the verdict instead of
    printing it when the exercise does not pass: nbgrader scores an "autograded tests" cell by whether it raises.
    """

    def checker(obj: Any) -> None:
        try:
            verdict = evaluate(exercise, obj)
        except Exception as err:  # a bug in a check must still not throw a traceback wall at the learner
            text = f"❌ {exercise.name}: the check itself failed ({type(err).__name__}: {err}); tell your instructor"
            if under_nbgrader():
                raise AssertionError(text) from err
            print(text)
            return
        if verdict.status != "pass" and under_nbgrader():
            raise AssertionError(verdict.text)  # the traceback shows the verdict: not printed twice
        print(verdict.text)
        if verdict.report:
            print(verdict.report)

    checker.__name__ = exercise.name
    checker.__qualname__ = exercise.name
    checker.__doc__ = f"Check `{exercise.target}` ({exercise.points:g} points): prints one verdict."
    return checker


_HINTS_OPENED: dict[str, int] = {}


def hint(exercise: Exercise) -> str:
    """The next level of ``exercise``'s staged help (a nudge, then the idea, then the formula), one per call.

    Returns the text (the checks package prints it). Past the last level the last one is repeated. How many
    levels were opened is kept in this process (:func:`hints_opened`); it is never a penalty.
    """
    levels = exercise.hints
    if not levels:
        return f"💡 {exercise.name}: no staged hints for this exercise; reread the task and the lesson's section on it"
    opened = min(_HINTS_OPENED.get(exercise.name, 0) + 1, len(levels))
    _HINTS_OPENED[exercise.name] = opened
    names = ("a nudge", "the idea", "the formula") if len(levels) == 3 else tuple(f"level {i + 1}" for i in range(9))
    more = f" (run it again for {names[opened]})" if opened < len(levels) else " (the last level)"
    return f"💡 {exercise.name}, hint {opened} of {len(levels)}{more}: {levels[opened - 1]}"


def hints_opened() -> dict[str, int]:
    """How many hint levels were opened, per exercise, in this process."""
    return dict(_HINTS_OPENED)


def reset_hints(name: str | None = None) -> None:
    """Start the staged hints again (for one exercise, or for all)."""
    if name is None:
        _HINTS_OPENED.clear()
    else:
        _HINTS_OPENED.pop(name, None)


def stars(exercise: Exercise) -> str:
    """``★★`` for a difficulty of 2 (empty when not rated)."""
    return "★" * exercise.difficulty


# ---------------------------------------------------------------------------------------------
# Comparing values
# ---------------------------------------------------------------------------------------------
def _as_array(value: Any) -> np.ndarray | None:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().double().numpy() if value.dtype != torch.bool else value.numpy()
    if isinstance(value, np.ndarray):
        return value
    return None


def describe(value: Any) -> str:
    """Short deterministic description of a value for feedback (arrays by shape, not by contents)."""
    array = _as_array(value)
    if array is not None:
        kind = "tensor" if isinstance(value, torch.Tensor) else "array"
        return f"{kind} of shape {tuple(array.shape)}"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(describe(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in value.items()) + "}"
    return repr(value)


def describe_inputs(data: Mapping[str, Any]) -> str:
    parts = [describe(a) for a in data.get("args", ())]
    parts += [f"{key}={describe(value)}" for key, value in data.items() if key not in ("args", "seed", "attrs")]
    return ", ".join(parts)


def shape_hint(expected: Sequence[int], received: Sequence[int]) -> str:
    """A hint for a wrong (N, C, H, W) output shape: it names a mistake only when the shapes show it."""
    expected, received = tuple(expected), tuple(received)
    if len(expected) != len(received):
        return f"the output should have {len(expected)} axes, yours has {len(received)}: check your reshape"
    if len(expected) == 4:
        n, c, h, w = expected
        if received == (n, h, w, c) and c not in (h, w):
            return "the channels are left last (N, H, W, C): move them back to axis 1 with permute(0, 3, 1, 2)"
        if expected[2:] == received[2:][::-1] and h != w:
            return "H and W are swapped: keep the axis order (N, C, H, W) when you reshape back"
        if received[:2] == expected[:2] and received[2] - h == received[3] - w and received[2] - h > 0:
            grow = received[2] - h
            return (
                f"H and W both grew by {grow}: a convolution added padding it should not have "
                "(a 1×1 conv takes padding=0; a K×K conv keeps the size with padding=K // 2)"
            )
        if expected[2:] != received[2:] and expected[:2] == received[:2]:
            return "H and W changed: check the stride and padding of each convolution (and of the pooling)"
        if expected[1] != received[1] and expected[2:] == received[2:]:
            return "wrong number of output channels: check the channel count of the layer that produces the output"
    return "the output shape is wrong: check each step's shape against the docstring"


def compare(
    expected: Any,
    received: Any,
    *,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    path: str = "",
    strict_types: bool = False,
) -> Failure | None:
    """``None`` if ``received`` matches ``expected`` (numbers within tolerance, arrays by shape then value).

    By default a tensor may stand for an array and a list for a tuple; with ``strict_types`` (for a task whose
    text names the type) they must be of the expected kind. A dict may hold keys beyond the expected ones.
    """
    where = f" at {path}" if path else ""
    exp_array = _as_array(expected)
    if strict_types:
        kinds = ((torch.Tensor, "a torch tensor"), (np.ndarray, "a NumPy array"), (tuple, "a tuple"), (list, "a list"))
        for kind, label in kinds:
            if isinstance(expected, kind) and not isinstance(received, kind):
                return Failure(
                    f"expected {label}{where}, got {type(received).__name__}",
                    describe(expected),
                    describe(received),
                    f"the task asks for {label} here: return exactly that type",
                )
    if exp_array is not None:
        rec_array = _as_array(received)
        if rec_array is None:
            return Failure(
                f"expected an array/tensor{where}, got {type(received).__name__}",
                describe(expected),
                describe(received),
                "return a NumPy array or a torch tensor",
            )
        if tuple(exp_array.shape) != tuple(rec_array.shape):
            return Failure(
                f"wrong shape{where}",
                describe(expected),
                describe(received),
                shape_hint(exp_array.shape, rec_array.shape),
            )
        if rec_array.dtype.kind not in "biuf":
            return Failure(
                f"expected numbers{where}, got dtype {rec_array.dtype}", describe(expected), describe(received)
            )
        rec64 = rec_array.astype(np.float64)
        exp64 = exp_array.astype(np.float64)
        if not np.all(np.isfinite(rec64)) and np.all(np.isfinite(exp64)):
            return Failure(f"the result contains NaN or inf{where}", describe(expected), describe(received))
        scale = float(np.max(np.abs(exp64))) if exp64.size else 0.0
        if exp64.size and not np.allclose(rec64, exp64, rtol=rtol, atol=atol + rtol * scale):
            diff = np.abs(rec64 - exp64)
            index = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape))
            return Failure(
                f"wrong values{where}",
                f"{exp64[index]:.4f} at index {index}",
                f"{rec64[index]:.4f} (max abs difference {float(diff.max()):.3g})",
            )
        return None
    if isinstance(expected, bool) or isinstance(expected, str):
        ok = (
            (received == expected)
            if not isinstance(expected, str)
            else (isinstance(received, str) and received.strip().lower() == expected.lower())
        )
        return None if ok else Failure(f"wrong value{where}", repr(expected), describe(received))
    if isinstance(expected, (int, float)):
        if isinstance(received, bool) or not isinstance(received, (int, float)):
            return Failure(
                f"expected a number{where}, got {type(received).__name__}", repr(expected), describe(received)
            )
        if isinstance(expected, int) and isinstance(received, int):
            ok = received == expected
        else:
            ok = math.isclose(received, expected, rel_tol=rtol, abs_tol=atol)
        return None if ok else Failure(f"wrong value{where}", describe(expected), describe(received))
    if isinstance(expected, (tuple, list)):
        if not isinstance(received, (tuple, list)):
            return Failure(
                f"expected a {type(expected).__name__} of {len(expected)} items{where}, got {type(received).__name__}",
                describe(expected),
                describe(received),
            )
        if len(received) != len(expected):
            return Failure(
                f"expected {len(expected)} items{where}, got {len(received)}", describe(expected), describe(received)
            )
        for i, (e, r) in enumerate(zip(expected, received, strict=False)):
            failure = compare(e, r, rtol=rtol, atol=atol, path=f"{path}[{i}]", strict_types=strict_types)
            if failure is not None:
                if not failure.expected or _as_array(e) is None:
                    failure.expected, failure.received = describe(expected), describe(received)
                return failure
        return None
    if isinstance(expected, dict):
        if not isinstance(received, dict) or not set(expected) <= set(received):
            return Failure(
                f"expected a dict with keys {sorted(expected)}{where}", describe(expected), describe(received)
            )
        for key in expected:  # extra keys are allowed: only the asked-for ones are judged
            failure = compare(
                expected[key], received[key], rtol=rtol, atol=atol, path=f"{path}[{key!r}]", strict_types=strict_types
            )
            if failure is not None:
                return failure
        return None
    return None if expected == received else Failure(f"wrong value{where}", describe(expected), describe(received))


# ---------------------------------------------------------------------------------------------
# Exercise builders
# ---------------------------------------------------------------------------------------------
Mistake = tuple[str, Callable[..., Any]]


def _match_mistakes(
    failure: Failure,
    received: Any,
    mistakes: Iterable[tuple[str, Callable[[], Any]]],
    same: Callable[[Any, Any], Failure | None],
) -> bool:
    """Add to ``failure.candidates`` the hint of every known mistake whose value equals ``received``.

    ``mistakes`` gives ``(hint, wrong_value())`` pairs (a mistake that raises is skipped). The first matching
    hint becomes ``failure.hint``; returns whether any matched.
    """
    for mistake_hint, wrong_value in mistakes:
        try:
            value = wrong_value()
        except Exception:  # noqa: S112 - a mistake model that cannot run on this case simply does not match
            continue
        if same(value, received) is None:
            failure.candidates.append(mistake_hint)
    if failure.candidates:
        failure.hint = failure.candidates[0]
    return bool(failure.candidates)


UNKNOWN_MISTAKE = "this is not one of the known mistakes: compare your value with the expected one"
UNKNOWN_MISTAKE_HIDDEN = (
    "this is not one of the known mistakes; the visible cases pass, so look for what this case has that they "
    "lack (its label says what it tests)"
)


def _unknown(failure: Failure, case: Case, fallback: str, staged: bool) -> None:
    """The hint of a mismatch that no known mistake explains: say so plainly (or, for an exercise without staged
    hints, give its fallback reminder, as before)."""
    if staged:
        if not failure.hint or failure.what.startswith("wrong value"):
            failure.hint = UNKNOWN_MISTAKE_HIDDEN if case.hidden else UNKNOWN_MISTAKE
    elif fallback and (not failure.hint or failure.what.startswith("wrong value")):
        failure.hint = fallback


def function_exercise(
    name: str,
    points: float,
    target: str,
    visible: Callable[[], list[Case]],
    hidden: Callable[[np.random.Generator], list[Case]],
    reference: Callable[..., Any],
    mistakes: Iterable[Mistake] = (),
    hint: str = "",
    rtol: float = 1e-4,
    atol: float = 1e-5,
    comparer: Callable[[Any, Any], Failure | None] | None = None,
    error_hint: str = "",
    adapter: str = CALL_FUNCTION,
    *,
    hints: Sequence[str] = (),
    difficulty: int = 0,
    strict_types: bool = False,
    accept: Iterable[Callable[..., Any]] = (),
    report: Callable[[Case, Any], str] | None = None,
) -> Exercise:
    """An exercise asking for a function ``target(*args)``.

    ``reference(*args)`` computes the right answer; each mistake is ``(hint, wrong(*args))``: when the learner's
    value matches a plausible wrong answer, that hint is given. ``adapter`` (source text) may replace the plain
    call, e.g. to build an ``nn.Linear`` from the case's tensors and return what the learner's module computes;
    ``reference`` then returns the same structure. ``comparer(expected, received)`` replaces :func:`compare`
    (e.g. to ignore the sign of PCA components). ``accept`` lists other references whose values are also right
    (e.g. ``mode='nearest-exact'`` where the text says "nearest neighbour").

    ``hints`` are the staged levels of :func:`hint` (nudge, idea, formula) and ``difficulty`` the stars (1–3); by
    default both come from the tables of :mod:`._hints` under ``name``. With levels, a mismatch no mistake
    explains says so plainly; without them (an exercise in neither table) the fallback ``hint`` is printed
    instead, and it becomes the only staged level. ``strict_types``: the task names the returned types (tuple, tensor, array).
    ``report(case, value)``: a line printed under the verdict for each visible case (see :class:`Exercise`).
    """
    mistakes = list(mistakes)
    alternatives = list(accept)
    same = comparer or (
        lambda expected, received: compare(expected, received, rtol=rtol, atol=atol, strict_types=strict_types)
    )
    staged = tuple(hints) or HINTS.get(name, ())  # as Exercise resolves them; the judge needs them now

    def judge(case: Case, received: Any) -> Failure | None:
        args = case.data["args"]
        failure = same(reference(*args), received)
        if failure is None:
            return None
        for alternative in alternatives:
            if same(alternative(*args), received) is None:
                return None

        def on_this_case(wrong: Callable[..., Any]) -> Callable[[], Any]:
            """The mistake ``wrong`` applied to this case's arguments, when called."""
            return lambda: wrong(*args)

        if _match_mistakes(failure, received, ((h, on_this_case(w)) for h, w in mistakes), same):
            return failure
        _unknown(failure, case, hint, bool(staged))
        return failure

    return Exercise(
        name,
        points,
        target,
        adapter,
        visible,
        hidden,
        judge,
        error_hint=error_hint,
        hints=staged or ((hint,) if hint else ()),
        difficulty=difficulty,
        report=report,
    )


def _signature(key: str, tensor: torch.Tensor) -> tuple[str, tuple[int, ...]]:
    return key.rsplit(".", 1)[-1], tuple(tensor.shape)


def _alignments(
    state: Mapping[str, torch.Tensor], ref_state: Mapping[str, torch.Tensor], limit: int = 24
) -> list[dict[str, torch.Tensor]]:
    """Ways to read the learner's state under the reference's names, most plausible first.

    Behaviour is what counts, not the layout: entries are matched by kind (``weight``, ``bias``,
    ``running_mean``, ...) and shape. First the exact names, then, within each top-level submodule, registration
    order; then registration order among entries of the same kind and shape anywhere in the module (so
    submodules kept in an ``nn.Sequential``, a ``ModuleList`` or under other names are read alike); then, when
    entries of one kind and shape are few, their other orders (at most ``limit`` alignments in all).
    Empty when the learner's entries cannot be matched one to one.
    """
    out: list[dict[str, torch.Tensor]] = []

    def add(candidate: dict[str, torch.Tensor] | None) -> None:
        if candidate is None or any(all(c.get(k) is v for k, v in candidate.items()) for c in out):
            return
        out.append(candidate)

    if set(state) == set(ref_state):
        add(dict(state))

    def by_prefix() -> dict[str, torch.Tensor] | None:
        def groups(keys: Iterable[str]) -> dict[str, list[str]]:
            grouped: dict[str, list[str]] = {}
            for key in keys:
                grouped.setdefault(key.split(".")[0], []).append(key)
            return grouped

        mine, theirs = groups(state), groups(ref_state)
        if set(mine) != set(theirs):
            return None
        aligned = {}
        for prefix, ref_keys in theirs.items():
            keys = mine[prefix]
            if len(keys) != len(ref_keys):
                return None
            for key, ref_key in zip(keys, ref_keys, strict=False):
                if _signature(key, state[key]) != _signature(ref_key, ref_state[ref_key]):
                    return None
                aligned[ref_key] = state[key]
        return aligned

    add(by_prefix())
    mine_by_sig: dict[tuple[str, tuple[int, ...]], list[str]] = {}
    theirs_by_sig: dict[tuple[str, tuple[int, ...]], list[str]] = {}
    for key, tensor in state.items():
        mine_by_sig.setdefault(_signature(key, tensor), []).append(key)
    for key, tensor in ref_state.items():
        theirs_by_sig.setdefault(_signature(key, tensor), []).append(key)
    if {k: len(v) for k, v in mine_by_sig.items()} != {k: len(v) for k, v in theirs_by_sig.items()}:
        return out
    import itertools

    orders = [
        [(sig, perm) for perm in itertools.permutations(mine_by_sig[sig])]
        if len(mine_by_sig[sig]) <= 4
        else [(sig, tuple(mine_by_sig[sig]))]
        for sig in theirs_by_sig
    ]
    for choice in itertools.islice(itertools.product(*orders), limit):
        aligned = {}
        for sig, keys in choice:
            for key, ref_key in zip(keys, theirs_by_sig[sig], strict=True):
                aligned[ref_key] = state[key]
        add(aligned)
    return out


def module_exercise(
    name: str,
    points: float,
    target: str,
    visible: Callable[[], list[Case]],
    hidden: Callable[[np.random.Generator], list[Case]],
    reference: Callable[..., nn.Module],
    mistakes: Iterable[tuple[str, Callable[..., nn.Module]]] = (),
    key_hint: Callable[[list[str], list[str]], str] | str = "",
    hint: str = "",
    attrs: Mapping[str, tuple[Callable[..., Any], str]] | None = None,
    error_hint: str = "",
    *,
    hints: Sequence[str] = (),
    difficulty: int = 0,
) -> Exercise:
    """An exercise asking for an ``nn.Module`` class ``target(*args)``.

    The learner's module is built, filled with seeded random values and run on ``x`` (:data:`BUILD_MODULE`).
    Its parameters and buffers come back (each shared tensor once) and are loaded into ``reference(*args)``:
    behaviour is judged, not layout, so the entries are matched by kind and shape whatever the submodules are
    called or however they are nested (see :func:`_alignments`); the module passes when, read one of those
    ways, the reference computes the same output on the same ``x``. ``mistakes`` are ``(hint, wrong_module(*args))``
    variants loaded with the same state: matching one gives its hint. ``attrs`` maps attribute names to
    ``(f(*args) giving the expected value, hint)``, e.g. ``out_channels``. ``key_hint(missing, unexpected)``
    (or a string) explains parameters that cannot be matched to the specification's. ``hints``: as in
    :func:`function_exercise`.
    """
    mistakes = list(mistakes)
    attrs = dict(attrs or {})
    staged = tuple(hints) or HINTS.get(name, ())  # as Exercise resolves them; the judge needs them now

    def judge(case: Case, received: Any) -> Failure | None:
        args = case.data["args"]
        if not isinstance(received, dict) or not {"out", "state", "attrs"} <= set(received):
            return Failure("the module could not be run", hint="forward must return a tensor")
        for attr, (expected_fn, attr_hint) in attrs.items():
            failure = compare(expected_fn(*args), received["attrs"].get(attr), path=f"self.{attr}")
            if failure is not None:
                failure.hint = attr_hint
                return failure
        ref = reference(*args)
        ref_state = ref.state_dict()
        state = dict(received["state"])
        if not all(isinstance(v, torch.Tensor) for v in state.values()):
            return Failure("the module's state_dict holds something other than tensors")
        expected_values = _CODEC["seeded_values"](state, case.data["seed"])
        if any(not torch.equal(state[name], value) for name, value in expected_values.items()):
            return Failure(
                "the module's state_dict does not hold the values the check wrote into it",
                hint="keep the parameters as registered nn.Parameters/buffers and don't override state_dict",
            )
        readings = _alignments(state, ref_state)
        if not readings:
            missing = sorted(set(ref_state) - set(state))
            unexpected = sorted(set(state) - set(ref_state))
            shapes = sorted(str(tuple(t.shape)) for t in state.values())
            ref_shapes = sorted(str(tuple(t.shape)) for t in ref_state.values())
            if not missing and not unexpected:  # same names, other shapes
                for key, tensor in ref_state.items():
                    if tuple(state[key].shape) != tuple(tensor.shape):
                        return Failure(
                            f"parameter {key} has the wrong shape",
                            str(tuple(tensor.shape)),
                            str(tuple(state[key].shape)),
                            hint="check the in/out channels and kernel size of that layer",
                        )
            parts = []
            if missing:
                parts.append("missing " + ", ".join(missing[:4]) + (" …" if len(missing) > 4 else ""))
            if unexpected:
                parts.append("unexpected " + ", ".join(unexpected[:4]) + (" …" if len(unexpected) > 4 else ""))
            text = key_hint(missing, unexpected) if callable(key_hint) else key_hint
            return Failure(
                "the parameters do not match the specification's layers: " + "; ".join(parts),
                f"{len(ref_shapes)} tensors of shapes {', '.join(ref_shapes)}",
                f"{len(shapes)} tensors of shapes {', '.join(shapes)}",
                hint=text or "build exactly the layers the exercise states (count, kernel sizes, channels, bias)",
            )
        x = case.data["x"]

        def output_of(module: nn.Module, values: Mapping[str, torch.Tensor]) -> torch.Tensor:
            module.load_state_dict(values)
            module.eval()
            with torch.no_grad():
                return module(x)

        failure = None
        for values in readings:
            failure = compare(output_of(ref, values), received["out"])
            if failure is None:
                return None
        assert failure is not None  # noqa: S101 - readings is not empty
        for values in readings:
            variants = ((h, lambda v=v, values=values: output_of(v(*args), values)) for h, v in mistakes)
            if _match_mistakes(failure, received["out"], variants, compare):
                return failure
        _unknown(failure, case, hint, bool(staged))
        return failure

    return Exercise(
        name,
        points,
        target,
        BUILD_MODULE,
        visible,
        hidden,
        judge,
        error_hint=error_hint,
        hints=staged or ((hint,) if hint else ()),
        difficulty=difficulty,
    )
