"""Checks for exercises/09_cost_vs_accuracy.ipynb: a design at a MAC budget, the Pareto front, predict-then-check.

Exercise 1 is judged with ``counting.profile`` on the skeleton of :mod:`course_utils.families`; exercise 2 on
hidden results tables with ties and dominated points; exercise 3 against the lesson's own digits measurement
(``families.digits_runs``: seeded, one thread, so the same on every run of this machine).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .. import families
from ..counting import profile
from ._framework import Case, Failure, function_exercise

# ---------------------------------------------------------------------------------------------
# ex09_build_at_budget(family, mac_budget, in_channels, image_size, stem_stride, stem_pool)
#   -> the widest families.build(...) member (width a multiple of 4, at least 8) within mac_budget, or None
# ---------------------------------------------------------------------------------------------
MIN_WIDTH, WIDTH_STEP, MAX_WIDTH = 8, 4, 256

#: Runs in the learner's kernel (standard library, numpy and torch only): build, run on a batch of 2, describe.
_DESCRIBE_MODEL = r"""
def adapter(obj, case):
    family, budget, in_channels, image_size, stem_stride, stem_pool = case["args"]
    model = obj(*case["args"])
    if model is None:
        return None
    if not isinstance(model, _torch.nn.Module):
        raise TypeError(f"build_at_budget returned a {type(model).__name__}, not an nn.Module (or None)")
    model.eval()
    with _torch.no_grad():
        out = model(_torch.zeros(2, in_channels, image_size, image_size))
    return {"out_shape": list(out.shape), "state": {k: list(v.shape) for k, v in model.state_dict().items()}}
"""


def _member(family: str, width: int, in_channels: int, stem_stride: int, stem_pool: bool) -> Any:
    return families.build(family, width, in_channels, 10, stem_stride, stem_pool)


@functools.lru_cache(maxsize=4096)
def _counts(
    family: str, width: int, in_channels: int, image_size: int, stem_stride: int, stem_pool: bool, batch: int = 1
) -> tuple[int, int]:
    """(params, MACs) of a member from ``counting.profile`` on a ``(batch, C, H, W)`` input (cached)."""
    report = profile(
        _member(family, width, in_channels, stem_stride, stem_pool), (batch, in_channels, image_size, image_size)
    )
    return report.total_params, report.total_macs


@functools.lru_cache(maxsize=4096)
def _state_shapes(family: str, width: int, in_channels: int, stem_stride: int, stem_pool: bool) -> dict[str, list[int]]:
    """Parameter and buffer shapes of a member, by name (cached; what the adapter reports for the learner's model)."""
    return {
        k: list(v.shape) for k, v in _member(family, width, in_channels, stem_stride, stem_pool).state_dict().items()
    }


def _macs(family: str, width: int, in_channels: int, image_size: int, stem_stride: int, stem_pool: bool) -> int:
    return _counts(family, width, in_channels, image_size, stem_stride, stem_pool)[1]


def _widest(args: list[Any], cost: Any = None, fits: Any = None) -> int | None:
    """The widest width (multiple of WIDTH_STEP, >= MIN_WIDTH) whose ``cost`` fits ``budget``; None if none does."""
    family, budget, in_channels, image_size, stem_stride, stem_pool = args
    cost = cost or (lambda w: _macs(family, w, in_channels, image_size, stem_stride, stem_pool))
    fits = fits or (lambda c: c <= budget)
    best = None
    for width in range(MIN_WIDTH, MAX_WIDTH + 1, WIDTH_STEP):
        if not fits(cost(width)):
            break
        best = width
    return best


def _budget_answer(args: list[Any], width: int | None) -> dict[str, Any]:
    return {"width": width, "args": list(args)}


def _budget_ref(*args: Any) -> dict[str, Any]:
    return _budget_answer(list(args), _widest(list(args)))


def _budget_compare(expected: dict[str, Any], received: Any) -> Failure | None:
    """Verify the learner's model: shape contract, that it is the skeleton at some width, its MACs, its width."""
    family, budget, in_channels, image_size, stem_stride, stem_pool = expected["args"]
    want = expected["width"]
    if received is None:
        if want is None:
            return None
        return Failure(
            "returned None, but a member fits the budget",
            hint=f"width {MIN_WIDTH} (the narrowest) already fits: start there and widen in steps of {WIDTH_STEP}",
        )
    if not isinstance(received, dict) or "state" not in received:
        return Failure("the model could not be described", hint="return the nn.Module that families.build gives")
    if received["out_shape"] != [2, 10]:
        return Failure(
            "the model breaks the shape contract (N, C, H, W) -> (N, 10)",
            "[2, 10]",
            str(received["out_shape"]),
            hint="build it with families.build(family, width, in_channels, 10, stem_stride, stem_pool)",
        )
    stem = received["state"].get("stem.0.weight")
    width = stem[0] if stem else None
    if not isinstance(width, int) or width < 1:
        return Failure("the model has no stem.0.weight", hint="build it with families.build(...)")
    try:
        shapes = _state_shapes(family, width, in_channels, stem_stride, stem_pool)
    except ValueError as err:
        return Failure(
            f"width {width} is not a valid member: {err}", hint=f"use widths that are multiples of {WIDTH_STEP}"
        )
    if shapes != received["state"]:
        return Failure(
            f"the model is not families.build({family!r}, width={width}, ...) with the case's stem settings",
            hint="pass family, in_channels, num_classes=10, stem_stride and stem_pool through to families.build",
        )
    if width == want:
        return None
    macs = _macs(family, width, in_channels, image_size, stem_stride, stem_pool)
    if macs > budget:
        return Failure(
            f"width {width} costs {macs:,} MACs per image, over the budget of {budget:,}",
            f"<= {budget:,} MACs",
            f"{macs:,} MACs",
            hint="count with counting.profile(model, (1, C, H, W)).total_macs and keep the widths that are <= the budget",
        )
    if want is None:
        return Failure(
            f"no member fits, but width {width} was returned", hint="return None when width 8 is over the budget"
        )
    return Failure(
        f"width {width} fits ({macs:,} MACs) but is not the widest that does",
        str(want),
        str(width),
        hint=f"try every width {MIN_WIDTH}, {MIN_WIDTH + WIDTH_STEP}, … and keep the last one within the budget",
    )


def _budget_mistake(cost_kind: str) -> Any:
    def wrong(family: str, budget: int, in_channels: int, image_size: int, stem_stride: int, stem_pool: bool) -> Any:
        args = [family, budget, in_channels, image_size, stem_stride, stem_pool]

        config = (in_channels, image_size, stem_stride, stem_pool)
        costs = {
            "flops": lambda w: 2 * _counts(family, w, *config)[1],
            "params": lambda w: _counts(family, w, *config)[0],
        }
        if cost_kind == "over":  # the first width over the budget instead of the last one under it
            last = _widest(args)
            width = MIN_WIDTH if last is None else last + WIDTH_STEP
            return _budget_answer(args, width)
        if cost_kind == "strict":
            return _budget_answer(args, _widest(args, fits=lambda c: c < budget))
        return _budget_answer(args, _widest(args, cost=costs[cost_kind]))

    return wrong


def _budget_hidden(rng: np.random.Generator) -> list[Case]:
    """Four of the seven cases on digits (in_channels 1, 8×8, no stem stride or pool), three on the images."""

    def case(label: str, family: str, width: int, slack: float, synthetic: bool = True) -> Case:
        config = (4, 32, 2, True) if synthetic else (1, 8, 1, False)
        budget = int(_macs(family, width, config[0], config[1], config[2], config[3]) * slack)
        return Case(label, {"args": [family, budget, *config]})

    names = list(families.FAMILIES)
    wide = int(rng.choice([12, 16, 20]))
    return [
        case("the budget is exactly one member's cost (<= counts)", str(rng.choice(names)), wide, 1.0),
        case("the separable family on the synthetic images", "separable", wide, float(rng.uniform(1.01, 1.2))),
        case("the bottleneck family on digits", "bottleneck", int(rng.choice([8, 12, 16])), 1.1, synthetic=False),
        case("the shuffle family (widths in multiples of 4)", "shuffle", wide, float(rng.uniform(1.01, 1.2))),
        case("the inception family on digits, a generous budget", "inception", int(rng.choice([20, 24])), 1.05, False),
        case("a budget below the narrowest member on digits: None", str(rng.choice(names)), MIN_WIDTH, 0.9, False),
        case("a random family on digits", str(rng.choice(names)), wide, float(rng.uniform(1.0, 1.3)), synthetic=False),
    ]


def _budget_visible() -> list[Case]:
    plain16 = _macs("plain", 16, 4, 32, 2, True)
    return [
        Case(
            "the plain family, budget = plain at width 16 (lesson 09's images)",
            {"args": ["plain", plain16, 4, 32, 2, True]},
        ),
        Case("the separable family at the same budget", {"args": ["separable", plain16, 4, 32, 2, True]}),
    ]


_BUDGET = function_exercise(
    "ex09_build_at_budget",
    points=3,
    target="build_at_budget",
    visible=_budget_visible,
    hidden=_budget_hidden,
    reference=_budget_ref,
    comparer=_budget_compare,
    adapter=_DESCRIBE_MODEL,
    mistakes=[
        (
            "the budget is MACs for ONE image: counting FLOPs (2 × MACs) or profiling a batch of 2 doubles the count "
            "and halves what fits; profile (1, C, H, W) and use total_macs",
            _budget_mistake("flops"),
        ),
        ("the budget is in MACs (profile(...).total_macs), not in parameters", _budget_mistake("params")),
        ("that is the first width OVER the budget: keep the last width within it", _budget_mistake("over")),
        ("a member whose MACs equal the budget is within it: compare with <=, not <", _budget_mistake("strict")),
    ],
    error_hint="build_at_budget(family, mac_budget, in_channels, image_size, stem_stride, stem_pool) returns "
    "families.build(family, width, in_channels, 10, stem_stride, stem_pool) or None",
)

# ---------------------------------------------------------------------------------------------
# ex09_pareto_front(rows) -> names of the rows no other row dominates, in the order of the table
#   rows: list of dicts {"name": str, "macs": int, "accuracy": float}
# ---------------------------------------------------------------------------------------------


def _dominates(a: dict[str, Any], b: dict[str, Any], *, weak: bool = False) -> bool:
    no_worse = a["macs"] <= b["macs"] and a["accuracy"] >= b["accuracy"]
    better = a["macs"] < b["macs"] or a["accuracy"] > b["accuracy"]
    return no_worse and (weak or better)


def _front(rows: list[dict[str, Any]], **kwargs: Any) -> list[str]:
    return [r["name"] for r in rows if not any(o is not r and _dominates(o, r, **kwargs) for o in rows)]


def _pareto_ref(rows: list[dict[str, Any]]) -> list[str]:
    return _front(rows)


def _front_macs_only(rows: list[dict[str, Any]]) -> list[str]:
    """Keeps a row when it is more accurate than every cheaper row (ignores equal-cost rows)."""
    return [r["name"] for r in rows if all(r["accuracy"] > o["accuracy"] for o in rows if o["macs"] < r["macs"])]


def _front_max_acc(rows: list[dict[str, Any]]) -> list[str]:
    best = max(r["accuracy"] for r in rows)
    return [r["name"] for r in rows if r["accuracy"] == best]


def _front_min_is_better(rows: list[dict[str, Any]]) -> list[str]:
    """Treats accuracy like a cost (lower is better)."""
    flipped = [{**r, "accuracy": -r["accuracy"]} for r in rows]
    return _front(flipped)


def _table(rng: np.random.Generator, n: int) -> list[dict[str, Any]]:
    macs = rng.choice(np.arange(20, 400, 10), size=n, replace=False) * 1000
    accuracy = np.round(0.4 + 0.5 * (macs / macs.max()) ** 0.5 + rng.normal(0, 0.06, n), 3)
    names = [f"{f}-{i}" for i, f in enumerate(rng.choice(list(families.FAMILIES), n))]
    return [{"name": nm, "macs": int(m), "accuracy": float(a)} for nm, m, a in zip(names, macs, accuracy, strict=True)]


def _pareto_hidden(rng: np.random.Generator) -> list[Case]:
    """Four of the eight cases hold two identical points (which do not dominate each other)."""
    base = _table(rng, 8)
    tie_cost = [*base, {**base[0], "name": "same-cost-worse", "accuracy": base[0]["accuracy"] - 0.01}]
    duplicate = [*base, {**base[0], "name": "exact-duplicate"}]
    same_acc = [*base, {**base[0], "name": "same-accuracy-dearer", "macs": base[0]["macs"] + 5000}]
    rising = [{"name": f"w{i}", "macs": 1000 * (i + 1), "accuracy": 0.5 + 0.05 * i} for i in range(6)]
    cases = [
        Case("a dominated point at the same cost", {"args": [tie_cost]}),
        Case("two identical points: both stay on the front", {"args": [duplicate]}),
        Case("same accuracy, dearer: dominated", {"args": [same_acc]}),
        Case("one row", {"args": [base[:1]]}),
        Case(
            "every row on the front (cost and accuracy rise together), one of them twice",
            {"args": [[*rising, {**rising[2], "name": "w2-again"}]]},
        ),
        Case("one row dominates all others", {"args": [[*base, {"name": "best", "macs": 1, "accuracy": 1.0}]]}),
    ]
    for i in range(2):
        table = _table(rng, int(rng.integers(5, 15)))
        cheapest = min(table, key=lambda row: row["macs"])  # always on the front: its twin must stay with it
        table.insert(int(rng.integers(0, len(table) + 1)), {**cheapest, "name": cheapest["name"] + "-twin"})
        cases.append(Case(f"random results table #{i + 1}, its cheapest row listed twice", {"args": [table]}))
    return cases


def _pareto_visible() -> list[Case]:
    rows = [
        {"name": "plain-16", "macs": 369_000, "accuracy": 0.57},
        {"name": "separable-16", "macs": 184_000, "accuracy": 0.35},
        {"name": "shuffle-16", "macs": 211_000, "accuracy": 0.52},
        {"name": "nin-16", "macs": 434_000, "accuracy": 0.55},
    ]
    return [
        Case("four designs, one dominated (nin-16 costs more than plain-16 and is less accurate)", {"args": [rows]})
    ]


_PARETO = function_exercise(
    "ex09_pareto_front",
    points=2,
    target="pareto_front",
    visible=_pareto_visible,
    hidden=_pareto_hidden,
    reference=_pareto_ref,
    mistakes=[
        (
            "a row is dominated only when another is no dearer, no less accurate AND strictly better in one: "
            "identical rows do not dominate each other",
            lambda rows: _front(rows, weak=True),
        ),
        (
            "compare with rows of equal cost too: a row is dominated by one at the same MACs with higher accuracy",
            _front_macs_only,
        ),
        ("the front is every row that no other beats on both axes, not only the most accurate one", _front_max_acc),
        ("higher accuracy is better, lower MACs is better: you treated accuracy as a cost", _front_min_is_better),
        (
            "return the names in the order the rows appear in the table, not sorted",
            lambda rows: sorted(_front(rows)),
        ),
        (
            "return the names in the order the rows appear in the table, not sorted by MACs",
            lambda rows: [r["name"] for r in sorted(rows, key=lambda r: r["macs"]) if r["name"] in _front(rows)],
        ),
    ],
    error_hint="rows is a list of dicts {'name', 'macs', 'accuracy'}; return a list of names",
)

# ---------------------------------------------------------------------------------------------
# ex09_predict_accuracy_per_mac(design_a, design_b) -> {"winner": "a" | "b", "ratio": float >= 1}
#   design: {"family": str, "width": int, "macs": int, "params": int} of the lesson's digits skeleton.
#   Judged against families.digits_runs (mean test accuracy over seeds 0, 1, 2) / MACs.
# ---------------------------------------------------------------------------------------------
RATIO_TOLERANCE = 1.25  #: "roughly": the predicted ratio must be within ×/÷ 1.25 of the measured one


def _design(family: str, width: int) -> dict[str, Any]:
    """The case's description of a digits design: counted, not trained (training happens when judging)."""
    report = profile(families.build(family, width, 1, 10, 1, False), (1, 1, 8, 8))
    return {"family": family, "width": width, "macs": report.total_macs, "params": report.total_params}


def _measured(design: dict[str, Any]) -> tuple[float, float]:
    """(mean test accuracy on digits, accuracy per million MACs) as the lesson measures it."""
    runs = families.digits_runs(design["family"], design["width"])
    accuracy = float(np.mean([r.accuracy for r in runs]))
    return accuracy, accuracy / (runs[0].macs / 1e6)


def _predict_ref(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    (acc_a, per_a), (acc_b, per_b) = _measured(a), _measured(b)
    winner = "a" if per_a >= per_b else "b"
    return {
        "winner": winner,
        "ratio": max(per_a, per_b) / min(per_a, per_b),
        "explain": (
            f"measured on digits (3 seeds): a = {a['family']}-{a['width']} {acc_a:.1%} at {a['macs']:,} MACs "
            f"({per_a:.2f} per M MACs), b = {b['family']}-{b['width']} {acc_b:.1%} at {b['macs']:,} MACs "
            f"({per_b:.2f}); the MACs differ {max(a['macs'], b['macs']) / min(a['macs'], b['macs']):.2f}×, "
            f"the accuracies only {max(acc_a, acc_b) / min(acc_a, acc_b):.2f}×"
        ),
    }


def _predict_compare(expected: dict[str, Any], received: Any) -> Failure | None:
    if not isinstance(received, dict) or not {"winner", "ratio"} <= set(received):
        return Failure("expected a dict {'winner': 'a' or 'b', 'ratio': float}", received=repr(received)[:80])
    ratio = received["ratio"]
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not ratio > 0:
        return Failure("'ratio' must be a positive number", received=repr(ratio)[:80])
    measured = f"winner {expected['winner']!r}, ratio {expected['ratio']:.2f} ({expected['explain']})"
    answer = f"winner {received['winner']!r}, ratio {ratio:.2f}"
    if received["winner"] != expected["winner"]:
        return Failure(
            f"predicted winner {received['winner']!r}, but the measurement says {expected['winner']!r}",
            measured,
            answer,
        )
    if not 1 / RATIO_TOLERANCE <= ratio / expected["ratio"] <= RATIO_TOLERANCE:
        return Failure(
            f"the right winner, but the ratio {ratio:.2f} is not within ×/÷ {RATIO_TOLERANCE} of the measured "
            f"{expected['ratio']:.2f}",
            measured,
            answer,
        )
    return None


def _predict_mistake(kind: str) -> Any:
    def wrong(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        ref = _predict_ref(a, b)
        (acc_a, _), (acc_b, _) = _measured(a), _measured(b)
        if kind == "accuracy":  # the more accurate design, by its accuracy ratio
            return {**ref, "winner": "a" if acc_a >= acc_b else "b", "ratio": max(acc_a, acc_b) / min(acc_a, acc_b)}
        if kind == "inverse":
            return {**ref, "ratio": 1 / ref["ratio"]}
        return {**ref, "winner": "b" if ref["winner"] == "a" else "a"}

    return wrong


_PAIRS = [
    ("plain", "separable"),
    ("plain", "bottleneck"),
    ("nin", "shuffle"),
    ("plain", "inception"),
    ("nin", "separable"),
    ("plain", "shuffle"),
    ("nin", "bottleneck"),
]
PREDICT_WIDTH = 16  #: the width of the lesson's digits comparison


def _predict_hidden(rng: np.random.Generator) -> list[Case]:
    """Four pairs: the cheaper design first in two of them and second in the other two."""
    order = rng.permutation(len(_PAIRS))[:4]
    cases = []
    for position, i in enumerate(order):
        first, second = _PAIRS[int(i)]
        cheaper_first = _design(first, PREDICT_WIDTH)["macs"] <= _design(second, PREDICT_WIDTH)["macs"]
        if cheaper_first != (position % 2 == 0):
            first, second = second, first
        cases.append(
            Case(
                "two other families of the lesson's digits table",
                {"args": [_design(first, PREDICT_WIDTH), _design(second, PREDICT_WIDTH)]},
            )
        )
    return cases


_PREDICT = function_exercise(
    "ex09_predict_accuracy_per_mac",
    points=3,
    target="predict_accuracy_per_mac",
    visible=lambda: [
        Case(
            "the lesson's pair: plain against separable at width 16 on digits",
            {"args": [_design("plain", PREDICT_WIDTH), _design("separable", PREDICT_WIDTH)]},
        )
    ],
    hidden=_predict_hidden,
    reference=_predict_ref,
    comparer=_predict_compare,
    mistakes=[
        (
            "that is the more ACCURATE design; per MAC means accuracy ÷ MACs, and the MACs differ far more than the "
            "accuracies",
            _predict_mistake("accuracy"),
        ),
        ("'ratio' is the winner's accuracy per MAC ÷ the loser's, so it is at least 1", _predict_mistake("inverse")),
        (
            "per MAC, the cheaper design wins whenever the accuracies are close: accuracy ÷ MACs is dominated by MACs",
            _predict_mistake("swapped"),
        ),
    ],
    error_hint="return {'winner': 'a' or 'b', 'ratio': float >= 1} computed from the two designs' dicts",
)

EXERCISES = [_BUDGET, _PARETO, _PREDICT]
