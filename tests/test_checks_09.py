"""Checkers of lesson 09: the solution passes on several hidden draws, stubs are 'not attempted', plausible wrong
answers fail with their specific hint, and valid alternative solutions pass."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from course_utils import families
from course_utils.checks import testing
from course_utils.counting import profile

pytestmark = pytest.mark.slow  # profiles and builds many networks per case: `make check` leaves it to `make test`

NOTEBOOK = Path(__file__).resolve().parents[1] / "solutions" / "09_cost_vs_accuracy.ipynb"
TARGETS = {
    "ex09_build_at_budget": "build_at_budget",
    "ex09_pareto_front": "pareto_front",
    "ex09_predict_accuracy_per_mac": "predict_accuracy_per_mac",
}


@pytest.fixture(scope="module")
def solution():
    return testing.solution_namespace(NOTEBOOK)


@pytest.mark.parametrize("name", list(TARGETS))
def test_solution_passes_on_several_draws_and_stub_is_not_attempted(name, solution):
    for seed in (None, 7, 99):
        testing.assert_passes(name, solution[TARGETS[name]], seed=seed)
    testing.assert_not_attempted(name, testing.stub_namespace(NOTEBOOK)[TARGETS[name]])


# -- ex09_build_at_budget -------------------------------------------------------------------------------------------
@functools.cache
def _counts(family, width, in_channels, image_size, stem_stride, stem_pool, batch=1):
    """(params, MACs) of a member (cached: the wrong implementations below re-count the same members often)."""
    model = families.build(family, width, in_channels, 10, stem_stride, stem_pool)
    report = profile(model, (batch, in_channels, image_size, image_size))
    return report.total_params, report.total_macs


def _widest(cost, fits):
    """A learner's loop that widens from 8 in steps of 4 while ``fits(cost(counts), mac_budget)``."""

    def build_at_budget(family, mac_budget, in_channels, image_size, stem_stride, stem_pool):
        config = (in_channels, image_size, stem_stride, stem_pool)
        best, width = None, 8
        while width <= 256 and fits(cost(lambda batch=1, w=width: _counts(family, w, *config, batch)), mac_budget):
            best, width = width, width + 4
        return None if best is None else families.build(family, best, in_channels, 10, stem_stride, stem_pool)

    return build_at_budget


def _macs(model, c, size, batch=1):
    return profile(model, (batch, c, size, size)).total_macs


def _first_over(family, mac_budget, in_channels, image_size, stem_stride, stem_pool):
    width = 8
    while (
        _macs(families.build(family, width, in_channels, 10, stem_stride, stem_pool), in_channels, image_size)
        <= mac_budget
    ):
        width += 4
    return families.build(family, width, in_channels, 10, stem_stride, stem_pool)


def _binary_search(family, mac_budget, in_channels, image_size, stem_stride, stem_pool):
    """A valid alternative: bisect over the widths 8, 12, ..., 256 (MACs grow with width)."""

    def cost(width):
        return _macs(families.build(family, width, in_channels, 10, stem_stride, stem_pool), in_channels, image_size)

    low, high = 0, (256 - 8) // 4  # indices of widths
    if cost(8) > mac_budget:
        return None
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if cost(8 + 4 * mid) <= mac_budget else (low, mid - 1)
    return families.build(family, 8 + 4 * low, in_channels, 10, stem_stride, stem_pool)


BUDGET_MISTAKES = [
    (_widest(lambda counts: 2 * counts()[1], lambda cost, budget: cost <= budget), "FLOPs (2 × MACs)"),
    (_widest(lambda counts: counts()[0], lambda cost, budget: cost <= budget), "not in parameters"),
    (_widest(lambda counts: counts(batch=2)[1], lambda cost, budget: cost <= budget), "a batch of 2"),
    (_widest(lambda counts: counts()[1], lambda cost, budget: cost < budget), "compare with <="),
    (_first_over, "first width OVER the budget"),
    (lambda f, b, c, s, st, sp: families.build(f, 8, c, 7, st, sp), "shape contract"),
]


@pytest.mark.parametrize(("wrong", "fragment"), BUDGET_MISTAKES, ids=lambda v: getattr(v, "__name__", str(v))[:30])
def test_build_at_budget_mistakes_get_their_hint(wrong, fragment):
    verdict = testing.check("ex09_build_at_budget", wrong)
    assert verdict.status == "fail", verdict.text
    assert fragment.lower() in verdict.text.lower(), verdict.text


def test_build_at_budget_accepts_a_binary_search():
    testing.assert_passes("ex09_build_at_budget", _binary_search)


# -- ex09_pareto_front ----------------------------------------------------------------------------------------------
def _weak_dominance(rows):
    return [
        r["name"]
        for r in rows
        if not any(o is not r and o["macs"] <= r["macs"] and o["accuracy"] >= r["accuracy"] for o in rows)
    ]


def _most_accurate(rows):
    best = max(r["accuracy"] for r in rows)
    return [r["name"] for r in rows if r["accuracy"] == best]


def _accuracy_as_cost(rows):
    return [
        r["name"]
        for r in rows
        if not any(
            o["macs"] <= r["macs"]
            and o["accuracy"] <= r["accuracy"]
            and (o["macs"], o["accuracy"]) != (r["macs"], r["accuracy"])
            for o in rows
        )
    ]


def _sweep(rows):
    """A valid alternative: sort by (MACs, -accuracy), keep rows that raise the best accuracy so far (ties kept)."""
    keep, best, last = set(), float("-inf"), None
    for i, r in sorted(enumerate(rows), key=lambda ir: (ir[1]["macs"], -ir[1]["accuracy"])):
        if r["accuracy"] > best or (last is not None and (r["macs"], r["accuracy"]) == last):
            keep.add(i)
            best, last = max(best, r["accuracy"]), (r["macs"], r["accuracy"])
    return [r["name"] for i, r in enumerate(rows) if i in keep]


@pytest.mark.parametrize(
    ("wrong", "fragment"),
    [
        (_weak_dominance, "identical rows do not dominate"),
        (_most_accurate, "not only the most accurate"),
        (_accuracy_as_cost, "treated accuracy as a cost"),
        (lambda rows: sorted(r["name"] for r in rows if r["name"] in _sweep(rows)), "not sorted"),
    ],
    ids=["weak dominance", "most accurate only", "accuracy as a cost", "sorted names"],
)
def test_pareto_front_mistakes_get_their_hint(wrong, fragment):
    testing.assert_fails_with("ex09_pareto_front", wrong, fragment)


def test_pareto_front_accepts_a_sort_and_sweep():
    testing.assert_passes("ex09_pareto_front", _sweep)


# -- ex09_predict_accuracy_per_mac ------------------------------------------------------------------------------------
def _measured_accuracy(design):
    runs = families.digits_runs(design["family"], design["width"])
    return sum(r.accuracy for r in runs) / len(runs)


def _more_accurate(a, b):
    acc_a, acc_b = _measured_accuracy(a), _measured_accuracy(b)
    return {"winner": "a" if acc_a >= acc_b else "b", "ratio": max(acc_a, acc_b) / min(acc_a, acc_b)}


def _mac_ratio(a, b):
    return max(a["macs"], b["macs"]) / min(a["macs"], b["macs"])


@pytest.mark.parametrize(
    ("wrong", "fragment"),
    [
        (_more_accurate, "more ACCURATE design"),
        (lambda a, b: {"winner": "a" if a["macs"] <= b["macs"] else "b", "ratio": 1 / _mac_ratio(a, b)}, "at least 1"),
        (
            lambda a, b: {"winner": "b" if a["macs"] <= b["macs"] else "a", "ratio": _mac_ratio(a, b)},
            "cheaper design wins",
        ),
    ],
    ids=["more accurate", "inverted ratio", "costlier wins"],
)
def test_predict_mistakes_get_their_hint(wrong, fragment):
    verdict = testing.assert_fails_with("ex09_predict_accuracy_per_mac", wrong, fragment)
    assert "measured on digits" in verdict.text  # the visible case's verdict shows the measurement it used


def test_predict_accepts_a_rule_that_guesses_the_accuracies_too():
    def with_accuracy_guess(a, b):
        guess = {"plain": 0.98, "shuffle": 0.97}  # families the learner expects to be a little more accurate
        per = [guess.get(d["family"], 0.95) / d["macs"] for d in (a, b)]
        return {"winner": "a" if per[0] >= per[1] else "b", "ratio": max(per) / min(per)}

    testing.assert_passes("ex09_predict_accuracy_per_mac", with_accuracy_guess)
