"""One check cell serves learners and nbgrader: it prints its verdict, and under nbgrader a failure raises.

nbgrader sets ``NBGRADER_EXECUTION`` while it executes a notebook (``autograde`` in
``nbgrader/converters/autograde.py``, ``validate`` in ``nbgrader/validator.py``, 0.9.6) and scores an
"autograded tests" cell zero when it raises. tests/test_nbgrader.py runs the real nbgrader on the notebooks.
"""

from __future__ import annotations

import pytest

from course_utils import checks
from course_utils.checks import _framework, testing

NAME = "ex00_conv_cost"


@pytest.fixture(scope="module")
def conv_cost(solution_notebooks):
    """(the solution's conv_cost, the generated stub's conv_cost, a wrong one that forgets the bias)."""
    right = testing.solution_namespace(solution_notebooks["00"])["conv_cost"]
    stub = testing.stub_namespace(solution_notebooks["00"])["conv_cost"]

    def no_bias(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0, bias=True):
        return right(in_channels, out_channels, kernel_size, input_size, stride, padding, bias=False)

    return right, stub, no_bias


@pytest.mark.parametrize("value", [None, ""])
def test_for_learners_every_verdict_is_printed_and_nothing_raises(monkeypatch, capsys, conv_cost, value):
    if value is None:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    else:
        monkeypatch.setenv("NBGRADER_EXECUTION", value)  # set but empty is not nbgrader
    right, stub, wrong = conv_cost
    for obj in (right, stub, wrong):
        assert getattr(checks, NAME)(obj) is None
    printed = capsys.readouterr().out
    assert f"✅ {NAME}" in printed and f"⏳ {NAME}: not attempted" in printed and f"❌ {NAME}" in printed


@pytest.mark.parametrize("value", ["autograde", "validate"])
def test_under_nbgrader_a_failure_raises_with_the_verdict_and_a_pass_prints(monkeypatch, capsys, conv_cost, value):
    monkeypatch.setenv("NBGRADER_EXECUTION", value)
    right, stub, wrong = conv_cost
    checker = getattr(checks, NAME)
    checker(right)
    assert capsys.readouterr().out.startswith(f"✅ {NAME}")
    with pytest.raises(AssertionError, match=f"⏳ {NAME}: not attempted"):
        checker(stub)
    with pytest.raises(AssertionError, match=f"❌ {NAME}") as info:
        checker(wrong)
    assert "hint:" in str(info.value)  # the whole verdict, with its hint, is nbgrader's feedback
    assert capsys.readouterr().out == ""  # the verdict is in the traceback, not printed twice


def test_a_check_that_breaks_raises_under_nbgrader_and_only_prints_otherwise(monkeypatch, capsys, conv_cost):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(_framework, "evaluate", broken)
    checker = _framework.make_checker(checks.get(NAME))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    checker(conv_cost[0])
    assert "the check itself failed (RuntimeError: boom)" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match="the check itself failed"):  # never full marks for a broken check
        checker(conv_cost[0])
