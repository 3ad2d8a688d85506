"""Checks for exercises/03_inception.ipynb: an Inception module's parameters, the module itself, and when a
1×1 reduction in front of a 5×5 conv pays off."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..counting import conv_macs, conv_params
from ._framework import Case, function_exercise, module_exercise

# The GoogLeNet paper's Table 1 rows (Szegedy et al. 2015, "Going deeper with convolutions"):
# (in_channels, #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj)
_INCEPTION_3A = (192, 64, 96, 128, 16, 32, 32)
_INCEPTION_4E = (528, 256, 160, 320, 32, 128, 128)

# ---------------------------------------------------------------------------------------------
# ex03_inception_params(in_channels, ch1x1, ch3x3_reduce, ch3x3, ch5x5_reduce, ch5x5, pool_proj) -> int
# ---------------------------------------------------------------------------------------------


def _params_ref(c: int, c1: int, r3: int, c3: int, r5: int, c5: int, pp: int, bias: bool = True) -> int:
    return (
        conv_params(c, c1, 1, bias=bias)
        + conv_params(c, r3, 1, bias=bias)
        + conv_params(r3, c3, 3, bias=bias)
        + conv_params(c, r5, 1, bias=bias)
        + conv_params(r5, c5, 5, bias=bias)
        + conv_params(c, pp, 1, bias=bias)
    )


def _params_no_bias(c: int, c1: int, r3: int, c3: int, r5: int, c5: int, pp: int) -> int:
    return _params_ref(c, c1, r3, c3, r5, c5, pp, bias=False)


def _params_cases() -> list[Case]:
    return [
        Case("GoogLeNet inception (3a)", {"args": list(_INCEPTION_3A)}),
        Case("a small module", {"args": [8, 2, 3, 4, 1, 2, 2]}),
    ]


def _params_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case("GoogLeNet inception (4e)", {"args": list(_INCEPTION_4E)}),
        Case("reductions wider than the input", {"args": [16, 8, 32, 16, 24, 8, 4]}),
    ]
    for i in range(5):
        cases.append(Case(f"random widths #{i + 1}", {"args": [int(v) for v in rng.integers(1, 257, size=7)]}))
    return cases


_INCEPTION_PARAMS = function_exercise(
    "ex03_inception_params",
    points=2,
    target="inception_params",
    visible=_params_cases,
    hidden=_params_hidden,
    reference=_params_ref,
    mistakes=[
        (
            "the biases are forgotten: each of the six convolutions has one bias per output channel",
            _params_no_bias,
        ),
        (
            "the 1×1 reductions are missing: the 3×3 and 5×5 convs read the reduced maps, and the reduce convs have weights too",
            lambda c, c1, r3, c3, r5, c5, pp: (
                conv_params(c, c1, 1) + conv_params(c, c3, 3) + conv_params(c, c5, 5) + conv_params(c, pp, 1)
            ),
        ),
        (
            "the pool projection (a 1×1 conv after the max pool) is missing",
            lambda *a: _params_ref(*a) - conv_params(a[0], a[6], 1),
        ),
        (
            "the 5×5 conv has 25 weights per channel pair, not 9",
            lambda c, c1, r3, c3, r5, c5, pp: (
                _params_ref(c, c1, r3, c3, r5, c5, pp) - conv_params(r5, c5, 5) + conv_params(r5, c5, 3)
            ),
        ),
        (
            "the 3×3 and 5×5 convs read the REDUCED maps (ch3x3_reduce, ch5x5_reduce channels), not in_channels",
            lambda c, c1, r3, c3, r5, c5, pp: (
                conv_params(c, c1, 1)
                + conv_params(c, r3, 1)
                + conv_params(c, c3, 3)
                + conv_params(c, r5, 1)
                + conv_params(c, c5, 5)
                + conv_params(c, pp, 1)
            ),
        ),
    ],
    hint="six convolutions: 1×1 (in→ch1x1), 1×1 (in→reduce3), 3×3 (reduce3→ch3x3), 1×1 (in→reduce5), 5×5 (reduce5→ch5x5), "
    "1×1 after the pool (in→pool_proj), each C_in*K*K*C_out + C_out",
)

# ---------------------------------------------------------------------------------------------
# ex03_inception_module: class InceptionModule(in_channels, ch1x1, ch3x3_reduce, ch3x3, ch5x5_reduce, ch5x5, pool_proj)
# ---------------------------------------------------------------------------------------------


class _Inception(nn.Module):
    """Reference: four branches, every conv followed by ReLU, concatenated as (1×1, 3×3, 5×5, pool)."""

    def __init__(
        self,
        c: int,
        c1: int,
        r3: int,
        c3: int,
        r5: int,
        c5: int,
        pp: int,
        *,
        final_relu: bool = True,
        pool: str = "max",
        order: tuple[int, ...] = (0, 1, 2, 3),
    ) -> None:
        super().__init__()
        relu = [nn.ReLU()] if final_relu else []
        self.branch1x1 = nn.Sequential(nn.Conv2d(c, c1, 1), *relu)
        self.branch3x3 = nn.Sequential(nn.Conv2d(c, r3, 1), nn.ReLU(), nn.Conv2d(r3, c3, 3, padding=1), *relu)
        self.branch5x5 = nn.Sequential(nn.Conv2d(c, r5, 1), nn.ReLU(), nn.Conv2d(r5, c5, 5, padding=2), *relu)
        pooling = nn.MaxPool2d(3, stride=1, padding=1) if pool == "max" else nn.AvgPool2d(3, stride=1, padding=1)
        self.branch_pool = nn.Sequential(pooling, nn.Conv2d(c, pp, 1), *relu)
        self.order = order

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [self.branch1x1(x), self.branch3x3(x), self.branch5x5(x), self.branch_pool(x)]
        return torch.cat([outs[i] for i in self.order], dim=1)


def _module_case(rng: np.random.Generator, widths: Sequence[int], n: int, h: int, w: int) -> dict[str, Any]:
    x = torch.from_numpy(rng.standard_normal((n, widths[0], h, w)).astype(np.float32))
    return {"args": [int(v) for v in widths], "x": x, "seed": int(rng.integers(2**31)), "attrs": ["out_channels"]}


def _module_cases() -> list[Case]:
    rng = np.random.default_rng(5)
    return [
        Case("small module on 6×6", _module_case(rng, (8, 4, 3, 5, 2, 3, 2), 2, 6, 6)),
        Case("non-square 5×9 input", _module_case(rng, (6, 2, 4, 4, 2, 2, 3), 1, 5, 9)),
    ]


def _module_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case("1×1 spatial size", _module_case(rng, (4, 2, 2, 3, 1, 2, 1), 2, 1, 1)),
        Case("odd sizes (padding must keep H and W)", _module_case(rng, (5, 3, 2, 4, 2, 3, 2), 1, 7, 3)),
        Case("pool_proj wider than the rest, non-square", _module_case(rng, (4, 1, 1, 1, 1, 1, 9), 1, 4, 6)),
        Case(
            "GoogLeNet (3a) widths, scaled down by 8",
            _module_case(rng, tuple(max(1, v // 8) for v in _INCEPTION_3A), 1, 5, 7),
        ),
    ]
    for i in range(3):
        widths = (int(rng.integers(1, 9)), *[int(v) for v in rng.integers(1, 7, size=6)])
        cases.append(
            Case(
                f"random widths #{i + 1}",
                _module_case(rng, widths, int(rng.integers(1, 3)), int(rng.integers(2, 8)), int(rng.integers(2, 8))),
            )
        )
    return cases


def _inception_key_hint(missing: list[str], unexpected: list[str]) -> str:
    if any(k.startswith("branch_pool") for k in missing):
        return "the pool branch needs its own 1×1 projection conv (in_channels → pool_proj) after the max pool"
    return "build the six convs the exercise lists (1 + 2 + 2 + 1 across the four branches), each with a bias"


_INCEPTION_MODULE = module_exercise(
    "ex03_inception_module",
    points=4,
    target="InceptionModule",
    visible=_module_cases,
    hidden=_module_hidden,
    reference=_Inception,
    attrs={
        "out_channels": (
            lambda c, c1, r3, c3, r5, c5, pp: c1 + c3 + c5 + pp,
            "self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj: the reductions never reach the output",
        )
    },
    mistakes=[
        (
            "a ReLU is missing: every convolution, including the last one of each branch, is followed by a ReLU",
            lambda *a: _Inception(*a, final_relu=False),
        ),
        (
            "the pool branch uses max pooling (3×3, stride 1, padding 1), not average pooling",
            lambda *a: _Inception(*a, pool="avg"),
        ),
        (
            "wrong concatenation order: torch.cat([1×1, 3×3, 5×5, pool], dim=1)",
            lambda *a: _Inception(*a, order=(3, 0, 1, 2)),
        ),
        (
            "wrong concatenation order: torch.cat([1×1, 3×3, 5×5, pool], dim=1)",
            lambda *a: _Inception(*a, order=(3, 2, 1, 0)),
        ),
        (
            "wrong concatenation order: torch.cat([1×1, 3×3, 5×5, pool], dim=1)",
            lambda *a: _Inception(*a, order=(0, 2, 1, 3)),
        ),
    ],
    key_hint=_inception_key_hint,
    hint="each branch: conv → ReLU (→ conv → ReLU); pool branch: MaxPool2d(3, stride=1, padding=1) → 1×1 conv → ReLU",
    error_hint="the four branch outputs must have the same H and W to be concatenated: print each branch's output shape",
)

# ---------------------------------------------------------------------------------------------
# ex03_inception_macs(in_channels, ch1x1, ch3x3_reduce, ch3x3, ch5x5_reduce, ch5x5, pool_proj, size) -> int
#   fix the bug: a circulating cost count uses the wrong kernel for the 5×5 branch and skips the reductions
# ---------------------------------------------------------------------------------------------


def _macs_ref(
    c: int,
    c1: int,
    r3: int,
    c3: int,
    r5: int,
    c5: int,
    pp: int,
    size: int,
    *,
    k5: int = 5,
    reduce: bool = True,
    pool: bool = True,
) -> int:
    s = size
    macs = conv_macs(c, c1, 1, s)
    if reduce:
        macs += conv_macs(c, r3, 1, s) + conv_macs(r3, c3, 3, s, padding=1)
        macs += conv_macs(c, r5, 1, s) + conv_macs(r5, c5, k5, s, padding=k5 // 2)
    else:
        macs += conv_macs(c, c3, 3, s, padding=1) + conv_macs(c, c5, k5, s, padding=k5 // 2)
    if pool:
        macs += conv_macs(c, pp, 1, s)
    return macs


def _buggy_macs(c: int, c1: int, r3: int, c3: int, r5: int, c5: int, pp: int, size: int) -> int:
    """The circulating count the exercise asks to fix: 3×3 weights for the 5×5 branch, reductions skipped."""
    return _macs_ref(c, c1, r3, c3, r5, c5, pp, size, k5=3, reduce=False)


def _inception_macs_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case("GoogLeNet inception (4e) on 14×14", {"args": [*_INCEPTION_4E, 14]}),
        Case("reductions wider than the input, on 7×7", {"args": [16, 8, 32, 16, 24, 8, 4, 7]}),
        Case("a 1×1 map", {"args": [64, 16, 8, 16, 4, 8, 8, 1]}),
    ]
    for i in range(5):
        widths = [int(v) for v in rng.integers(1, 257, size=7)]
        cases.append(Case(f"random widths and map size #{i + 1}", {"args": [*widths, int(rng.integers(2, 57))]}))
    return cases


_INCEPTION_MACS = function_exercise(
    "ex03_inception_macs",
    points=2,
    target="inception_macs",
    visible=lambda: [
        Case("GoogLeNet inception (3a) on 28×28", {"args": [*_INCEPTION_3A, 28]}),
        Case("a small module on 5×5", {"args": [8, 2, 3, 4, 1, 2, 2, 5]}),
    ],
    hidden=_inception_macs_hidden,
    reference=_macs_ref,
    mistakes=[
        ("that is the buggy count itself: find its two mistakes (read the list of branches again)", _buggy_macs),
        (
            "half fixed: the 5×5 conv has 25 weights per channel pair; the reductions are still missing",
            lambda *a: _macs_ref(*a, reduce=False),
        ),
        (
            "half fixed: the reductions are in, but the 5×5 conv is still counted with a 3×3 kernel",
            lambda *a: _macs_ref(*a, k5=3),
        ),
        (
            "the pool branch's 1×1 projection (in_channels → pool_proj) costs MACs too",
            lambda *a: _macs_ref(*a, pool=False),
        ),
        (
            "you reported FLOPs (2 per multiply-accumulate): a MAC is one multiply-add, so MACs are half the FLOPs",
            lambda *a: 2 * _macs_ref(*a),
        ),
    ],
)

# ---------------------------------------------------------------------------------------------
# ex03_break_even_reduce(in_channels, ch5x5, size) -> int
#   the largest ch5x5_reduce r for which 1×1 (in→r) then 5×5 (r→ch5x5) costs FEWER MACs than the direct 5×5
#   (in→ch5x5), both on size × size with the size kept; 0 when not even r = 1 pays off
# ---------------------------------------------------------------------------------------------


def _reduced_macs(c: int, r: int, c5: int, size: int) -> int:
    return conv_macs(c, r, 1, size) + conv_macs(r, c5, 5, size, padding=2)


def _direct_macs(c: int, c5: int, size: int) -> int:
    return conv_macs(c, c5, 5, size, padding=2)


def _break_even_ref(c: int, c5: int, size: int) -> int:
    """S²·r·(C_in + 25·C5) < S²·25·C_in·C5  ⇔  r < 25·C_in·C5 / (C_in + 25·C5): the size cancels."""
    return (25 * c * c5 - 1) // (c + 25 * c5)


def _break_even(c: int, c5: int, size: int, *, k2: int = 25, pay_1x1: bool = True, strict: bool = True) -> int:
    """The break-even rule with one of the known mistakes switched in (k2 = 9: a 3×3 kernel; no 1×1 cost; <=)."""
    numerator, denominator = k2 * c * c5, (c if pay_1x1 else 0) + k2 * c5
    return (numerator - 1) // denominator if strict else numerator // denominator


def _break_even_unpadded(c: int, c5: int, size: int) -> int:
    """The 5×5 conv counted without padding ((S − 4)² pixels) while the 1×1 keeps S²: the size no longer cancels."""
    out = max(size - 4, 0)
    best = 0
    while c * (best + 1) * size**2 + (best + 1) * c5 * 25 * out**2 < c * c5 * 25 * out**2:
        best += 1
    return best


def _break_even_hidden(rng: np.random.Generator) -> list[Case]:
    """Half the cases break even at a whole number of channels (where < and <= differ); two pay off never."""
    cases = [
        Case("GoogLeNet inception (4e): 528 → 128 on 14×14", {"args": [528, 128, 14]}),
        Case("one input channel: no reduction pays off", {"args": [1, int(rng.integers(1, 257)), 7]}),
        Case("the size cancels: a 1×1 map", {"args": [int(rng.integers(16, 513)), int(rng.integers(8, 129)), 1]}),
    ]
    for i in range(4):  # C_in = 25·C5·t with (t + 1) dividing C5: the break-even 25·C5·t / (t + 1) is a whole number
        t = int(rng.integers(1, 5))
        c5 = (t + 1) * int(rng.integers(1, 5))
        cases.append(
            Case(
                f"break-even at a whole number of channels #{i + 1}",
                {"args": [25 * c5 * t, c5, int(rng.integers(10, 57))]},
            )
        )
    cases.append(
        Case(
            "random module",
            {"args": [int(rng.integers(2, 1025)), int(rng.integers(1, 257)), int(rng.integers(5, 57))]},
        )
    )
    return cases


_BREAK_EVEN = function_exercise(
    "ex03_break_even_reduce",
    points=2,
    target="break_even_reduce",
    visible=lambda: [
        Case("GoogLeNet inception (3a): 192 → 32 on 28×28", {"args": [192, 32, 28]}),
        Case("a break-even at exactly 25 channels: 50 → 2 on 9×9", {"args": [50, 2, 9]}),
        Case("one input channel: no reduction pays off (return 0)", {"args": [1, 16, 5]}),
    ],
    hidden=_break_even_hidden,
    reference=_break_even_ref,
    mistakes=[
        (
            "at the break-even both designs cost the same MACs, which is not FEWER: the inequality is strict (<)",
            lambda c, c5, s: _break_even(c, c5, s, strict=False),
        ),
        (
            "the 1×1 reduction costs MACs too: reduced = S²·C_in·r + S²·r·25·C5",
            lambda c, c5, s: _break_even(c, c5, s, pay_1x1=False),
        ),
        ("the 5×5 conv has 25 weights per channel pair, not 9", lambda c, c5, s: _break_even(c, c5, s, k2=9)),
        (
            "both convs keep the size × size map (the 5×5 has padding 2), so S² multiplies both sides and cancels",
            _break_even_unpadded,
        ),
        (
            "when not even r = 1 costs fewer MACs than the direct conv, the task asks for 0",
            lambda c, c5, s: max(1, _break_even_ref(c, c5, s)),
        ),
        (
            "the largest whole r BELOW the break-even: round down, never to the nearest",
            lambda c, c5, s: round(25 * c * c5 / (c + 25 * c5)),
        ),
    ],
    strict_types=False,
    error_hint="break_even_reduce(in_channels, ch5x5, size) returns an int (0 when no reduction pays off)",
)

EXERCISES = [_INCEPTION_PARAMS, _INCEPTION_MACS, _INCEPTION_MODULE, _BREAK_EVEN]
