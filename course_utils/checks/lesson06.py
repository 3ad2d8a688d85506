"""Checks for exercises/06_grouped_depthwise.ipynb: grouped-conv costs, the cost ratio 1/N + 1/K², a
depthwise-separable block, channel shuffle, and a bug that circulates in teaching material (a grouped conv's
kernel depth taken as C_out/G)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from ._framework import (
    CALL_FUNCTION,
    UNKNOWN_MISTAKE,
    UNKNOWN_MISTAKE_HIDDEN,
    Case,
    Exercise,
    Failure,
    compare,
    describe,
    function_exercise,
    module_exercise,
)

# ---------------------------------------------------------------------------------------------
# ex06_grouped_conv_cost(in_channels, out_channels, kernel_size, input_size, groups, bias=True) -> (params, macs)
# ValueError when groups does not divide in_channels or out_channels.
# ---------------------------------------------------------------------------------------------

#: Adapter for a function that must raise ValueError on some inputs: the outcome comes back as
#: ``{"value": ...}`` or ``{"raised": "TypeName", "message": "..."}`` (NotImplementedError still propagates).
CALL_OR_RAISE = r"""
def adapter(obj, case):
    try:
        return {"value": obj(*case["args"])}
    except NotImplementedError:
        raise
    except Exception as err:
        message = str(err).splitlines()[0][:200] if str(err) else ""
        name = "ValueError" if isinstance(err, ValueError) else type(err).__name__  # a subclass is a ValueError
        return {"raised": name, "message": message, "type": type(err).__name__}
"""


def _grouped_ref(c_in: int, c_out: int, k: int, size: int, groups: int, bias: bool = True) -> dict[str, Any]:
    if c_in % groups:
        return {
            "raised": "ValueError",
            "why": f"groups={groups} does not divide in_channels={c_in}",
            "names": [str(groups), str(c_in)],
        }
    if c_out % groups:
        return {
            "raised": "ValueError",
            "why": f"groups={groups} divides in_channels={c_in} but not out_channels={c_out}",
            "names": [str(groups), str(c_out)],
        }
    weights = c_out * (c_in // groups) * k * k
    return {"value": (weights + (c_out if bias else 0), size * size * weights)}


def _outcome(fn: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    """A plain implementation as the adapter would report it (value, or the exception it raised)."""

    def wrapped(*args: Any) -> dict[str, Any]:
        try:
            return {"value": fn(*args)}
        except Exception as err:  # a mistake model explains values only, never a raise
            return {"raised": type(err).__name__, "message": str(err), "model_raised": True}

    return wrapped


_RAISE_HINT = "groups must divide both in_channels and out_channels: raise ValueError(...) naming the value otherwise"


def _grouped_compare(expected: dict[str, Any], received: Any) -> Failure | None:
    if not isinstance(received, dict) or not ({"value"} <= set(received) or {"raised"} <= set(received)):
        return Failure("the result could not be read", hint="return a tuple (params, macs)")
    if expected.get("model_raised"):
        return Failure("a mistake model raised")
    if "raised" in expected:
        if "raised" not in received:
            return Failure(
                "returned a value where the channels cannot be split into equal groups",
                f"ValueError ({expected.get('why', 'the channels do not split evenly')})",
                describe(received["value"]),
                _RAISE_HINT,
            )
        if received["raised"] != "ValueError":
            return Failure(
                f"raised {received['raised']} instead of ValueError",
                "ValueError",
                received["raised"],
                "raise ValueError (not assert, not another error type) when groups does not divide the channels",
            )
        message = str(received.get("message", ""))
        missing = [v for v in expected.get("names", ()) if not re.search(rf"(?<!\d){v}(?!\d)", message)]
        if missing:
            return Failure(
                "the ValueError's message does not name the values",
                f"a message naming {' and '.join(expected['names'])}, e.g. {expected['why']!r}",
                repr(message),
                "name the argument, its value and the channel count it must divide, e.g. "
                "ValueError(f'groups={groups} must divide in_channels={in_channels}')",
            )
        return None
    if "raised" in received:
        message = f": {received.get('message')}" if received.get("message") else ""
        return Failure(
            f"raised {received['raised']}{message}",
            describe(expected["value"]),
            received["raised"],
            "these channels divide evenly into the groups: compute the costs instead of raising",
        )
    return compare(expected["value"], received["value"])


def _grouped_cases() -> list[Case]:
    return [
        Case("the lesson's 12 → 24 channels, 3×3, groups=3, on 8×8", {"args": [12, 24, 3, 8, 3, True]}),
        Case("96 → 96 channels, 3×3, groups=4, on 28×28, no bias", {"args": [96, 96, 3, 28, 4, False]}),
        Case("groups=4 does not divide in_channels=30", {"args": [30, 8, 3, 7, 4, True]}),
    ]


def _grouped_hidden(rng: np.random.Generator) -> list[Case]:
    """Five value cases (bias on some, off on others), one where groups divides only out_channels, and six
    where it divides in_channels but not out_channels (the check most often left out)."""
    c = int(rng.integers(2, 65))
    g = int(rng.choice([2, 3, 4, 8]))
    cases = [
        Case("depthwise: groups = in_channels = out_channels", {"args": [c, c, 3, int(rng.integers(4, 30)), c, True]}),
        Case(
            "groups=1 is an ordinary conv, no bias",
            {"args": [int(rng.integers(1, 65)), int(rng.integers(1, 65)), 3, 14, 1, False]},
        ),
        Case(
            "a grouped 1×1 conv (ShuffleNet)",
            {"args": [g * int(rng.integers(2, 20)), g * int(rng.integers(2, 20)), 1, 28, g, False]},
        ),
        Case(
            "C_in ≠ C_out (catches a kernel depth of C_out/G)",
            {"args": [4 * g, 12 * g, 3, int(rng.integers(4, 30)), g, True]},
        ),
        Case(
            "5×5 kernel, no bias", {"args": [g * int(rng.integers(1, 9)), g * int(rng.integers(1, 9)), 5, 10, g, False]}
        ),
        Case("groups divides out_channels but not in_channels", {"args": [30, 32, 1, 7, 4, False]}),
    ]
    for i in range(6):
        groups = int(rng.choice([2, 3, 4, 8]))
        c_in = groups * int(rng.integers(1, 17))
        c_out = groups * int(rng.integers(1, 17)) + int(rng.integers(1, groups))
        cases.append(
            Case(
                f"groups divides in_channels but not out_channels #{i + 1}",
                {"args": [c_in, c_out, int(rng.choice([1, 3, 5])), int(rng.integers(1, 57)), groups, bool(i % 2)]},
            )
        )
    return cases


def _grouped_plain(
    weights_fn: Callable[[int, int, int, int], float],
    bias_fn: Callable[[int, int, bool], float] = lambda c_out, g, bias: c_out if bias else 0,
    check: bool = True,
) -> Callable[..., tuple[float, float]]:
    def f(c_in: int, c_out: int, k: int, size: int, groups: int, bias: bool = True) -> tuple[float, float]:
        if check and (c_in % groups or c_out % groups):
            raise ValueError("not divisible")
        w = weights_fn(c_in, c_out, k, groups)
        return (w + bias_fn(c_out, groups, bias), size * size * w)

    return f


_GROUPED = function_exercise(
    "ex06_grouped_conv_cost",
    points=3,
    target="grouped_conv_cost",
    visible=_grouped_cases,
    hidden=_grouped_hidden,
    reference=_grouped_ref,
    mistakes=[
        (
            "groups is ignored: each kernel sees only in_channels/groups channels, so the weights and MACs are divided by groups",
            _outcome(_grouped_plain(lambda ci, co, k, g: co * ci * k * k)),
        ),
        (
            "each kernel's depth is in_channels/groups, set by the INPUT channels, not out_channels/groups "
            "(the 'M/G' mistake of the lesson)",
            _outcome(_grouped_plain(lambda ci, co, k, g: co * (co // g) * k * k)),
        ),
        (
            "divide by groups once: there are still out_channels kernels, each of depth in_channels/groups",
            _outcome(_grouped_plain(lambda ci, co, k, g: co * ci * k * k / (g * g))),
        ),
        (
            "the biases do not shrink with groups: one per output channel",
            _outcome(_grouped_plain(lambda ci, co, k, g: co * (ci // g) * k * k, lambda co, g, b: co / g if b else 0)),
        ),
        (
            "the bias is forgotten: with bias=True there are out_channels extra parameters",
            _outcome(_grouped_plain(lambda ci, co, k, g: co * (ci // g) * k * k, lambda co, g, b: 0)),
        ),
        (
            "you reported FLOPs (2 per multiply-accumulate): a MAC is one multiply-add, so MACs are half the FLOPs",
            _outcome(
                lambda ci, co, k, size, g, bias=True: (
                    _grouped_ref(ci, co, k, size, g, bias)["value"][0],
                    2 * _grouped_ref(ci, co, k, size, g, bias)["value"][1],
                )
            ),
        ),
        (
            "bias=False means no bias parameters: count them only when bias is True",
            _outcome(_grouped_plain(lambda ci, co, k, g: co * (ci // g) * k * k, lambda co, g, b: co)),
        ),
    ],
    hint="weights = out_channels · (in_channels/groups) · K²; params = weights (+ out_channels if bias); "
    "MACs = input_size² · weights (stride 1, 'same' padding)",
    comparer=_grouped_compare,
    adapter=CALL_OR_RAISE,
)

# ---------------------------------------------------------------------------------------------
# ex06_depthwise_separable: DepthwiseSeparableConv(in_channels, out_channels, kernel_size=3) nn.Module
#   depthwise = Conv2d(C_in, C_in, K, padding=K//2, groups=C_in, bias=False); pointwise = Conv2d(C_in, C_out, 1, bias=False)
#   x: (N, C_in, H, W) -> (N, C_out, H, W)
# ---------------------------------------------------------------------------------------------


class _Separable(nn.Module):
    def __init__(
        self, c_in: int, c_out: int, k: int = 3, padding: int | None = None, order: str = "dp", relu: bool = False
    ):
        super().__init__()
        self.order, self.relu = order, relu
        pad = k // 2 if padding is None else padding
        if order == "dp":
            self.depthwise = nn.Conv2d(c_in, c_in, k, padding=pad, groups=c_in, bias=False)
            self.pointwise = nn.Conv2d(c_in, c_out, 1, bias=False)
        else:  # pointwise first (only built when c_in == c_out, so the state matches)
            self.depthwise = nn.Conv2d(c_out, c_out, k, padding=pad, groups=c_out, bias=False)
            self.pointwise = nn.Conv2d(c_in, c_out, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.order == "dp":
            y = self.depthwise(x)
            return self.pointwise(torch.relu(y) if self.relu else y)
        return self.depthwise(self.pointwise(x))


def _sep_case(rng: np.random.Generator, c_in: int, c_out: int, k: int, n: int, h: int, w: int) -> dict[str, Any]:
    return {
        "args": [c_in, c_out, k],
        "x": torch.from_numpy(rng.standard_normal((n, c_in, h, w)).astype(np.float32)),
        "seed": int(rng.integers(0, 2**31)),
    }


def _sep_cases() -> list[Case]:
    rng = np.random.default_rng(6)
    return [
        Case("4 → 8 channels, 3×3, on 6×6", _sep_case(rng, 4, 8, 3, 2, 6, 6)),
        Case("3 → 5 channels, 5×5, on 7×9", _sep_case(rng, 3, 5, 5, 1, 7, 9)),
    ]


def _sep_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case("C_in = C_out (catches the pointwise conv applied first)", _sep_case(rng, 6, 6, 3, 2, 5, 5)),
        Case("7×7 kernel (padding grows with the kernel)", _sep_case(rng, 3, 4, 7, 1, 9, 9)),
        Case("a single input channel, 5×5 kernel", _sep_case(rng, 1, 4, 5, 1, 5, 6)),
        Case("channel reduction 16 → 2 with a 1×1 depthwise kernel", _sep_case(rng, 16, 2, 1, 2, 4, 4)),
        Case("non-square input, 5×5 kernel", _sep_case(rng, 5, 7, 5, 1, 6, 11)),
        Case(
            "random sizes",
            _sep_case(
                rng,
                int(rng.integers(2, 9)),
                int(rng.integers(2, 9)),
                int(rng.choice([1, 3, 5])),
                int(rng.integers(1, 4)),
                int(rng.integers(3, 10)),
                int(rng.integers(3, 10)),
            ),
        ),
    ]


def _sep_reference(c_in: int, c_out: int, k: int = 3) -> nn.Module:
    return _Separable(c_in, c_out, k)


_SEP_MODULE = module_exercise(
    "ex06_depthwise_separable",
    points=3,
    target="DepthwiseSeparableConv",
    visible=_sep_cases,
    hidden=_sep_hidden,
    reference=_sep_reference,
    mistakes=[
        (
            "padding=kernel_size // 2 keeps H and W (here the convolution shrank the map)",
            lambda ci, co, k=3: _Separable(ci, co, k, padding=0),
        ),
        (
            "the padding must grow with the kernel: padding=kernel_size // 2 (2 for a 5×5 kernel, 3 for 7×7)",
            lambda ci, co, k=3: _Separable(ci, co, k, padding=1),
        ),
        (
            "depthwise first (filter each channel on its own), then the pointwise 1×1 conv (mix the channels)",
            lambda ci, co, k=3: _Separable(ci, co, k, order="pd"),
        ),
        (
            "this block has no activation between the two convs: return pointwise(depthwise(x))",
            lambda ci, co, k=3: _Separable(ci, co, k, relu=True),
        ),
    ],
    key_hint="build exactly two convs without bias: a depthwise K×K conv (groups=in_channels) and a pointwise 1×1 conv",
    hint="forward must return self.pointwise(self.depthwise(x))",
    error_hint="your module raised on a valid input: print the shape after each conv; the depthwise conv keeps in_channels",
)
_sep_module_judge = _SEP_MODULE.judge


def _sep_judge(case: Case, received: Any) -> Failure | None:
    """The layer-by-layer mistakes first (groups, bias, a missing conv), then the framework's module judge."""
    if isinstance(received, dict) and isinstance(received.get("state"), dict):
        state = received["state"]
        c_in, c_out, k = case.data["args"]
        if "pointwise.weight" not in state and "depthwise.weight" in state:
            return Failure(
                "there is no `pointwise` conv",
                hint="you forgot the pointwise 1×1 conv: the depthwise conv mixes no channels; "
                "self.pointwise (in_channels → out_channels) does",
            )
        biases = sorted(key for key in state if key in ("depthwise.bias", "pointwise.bias"))
        if biases:
            return Failure(f"unexpected parameters {', '.join(biases)}", hint="create both convs with bias=False")
        dw = state.get("depthwise.weight")
        if dw is not None and tuple(dw.shape) != (c_in, 1, k, k):
            expected, got = str((c_in, 1, k, k)), str(tuple(dw.shape))
            if tuple(dw.shape) == (c_in, c_in, k, k) and c_in > 1:
                hint = "groups is ignored: groups=in_channels gives every channel its own K×K filter, weight (C_in, 1, K, K)"
            elif tuple(dw.shape[2:]) == (k, k) and dw.shape[1] == 1 and dw.shape[0] == c_out:
                hint = (
                    "the depthwise conv comes first and keeps the channel count (in_channels → in_channels); "
                    "the pointwise conv after it changes the channel count"
                )
            else:
                hint = "depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, padding=kernel_size // 2, groups=in_channels)"
            return Failure("depthwise.weight has the wrong shape", expected, got, hint)
        pw = state.get("pointwise.weight")
        if pw is not None and tuple(pw.shape) != (c_out, c_in, 1, 1):
            hint = (
                "the pointwise conv is 1×1: kernel_size=1"
                if tuple(pw.shape[:2]) == (c_out, c_in)
                else "pointwise = nn.Conv2d(in_channels, out_channels, 1): it maps C_in to C_out channels"
            )
            return Failure("pointwise.weight has the wrong shape", str((c_out, c_in, 1, 1)), str(tuple(pw.shape)), hint)
    return _sep_module_judge(case, received)


_SEP = dataclasses.replace(_SEP_MODULE, judge=_sep_judge)

# ---------------------------------------------------------------------------------------------
# ex06_separable_cost_ratio(in_channels, out_channels, kernel_size, map_size) -> separable MACs / standard MACs
# ---------------------------------------------------------------------------------------------


def _ratio_ref(m: int, n: int, k: int, size: int) -> float:
    standard = size * size * m * n * k * k
    separable = size * size * m * k * k + size * size * m * n
    return separable / standard


_RATIO = function_exercise(
    "ex06_separable_cost_ratio",
    points=2,
    target="separable_cost_ratio",
    visible=lambda: [
        Case("MobileNet-like: 32 → 64 channels, 3×3, on 14×14", {"args": [32, 64, 3, 14]}),
        Case("the lesson's 256 → 256 channels, 3×3, on 28×28", {"args": [256, 256, 3, 28]}),
    ],
    hidden=lambda rng: [
        Case(
            "in_channels ≠ out_channels (which one is N?)",
            {"args": [int(rng.integers(100, 500)), int(rng.integers(2, 20)), 3, 7]},
        ),
        Case("a 1×1 kernel: separable costs MORE than the conv", {"args": [16, 32, 1, 10]}),
        Case("a 5×5 kernel", {"args": [int(rng.integers(2, 200)), int(rng.integers(2, 200)), 5, 14]}),
        Case("a 7×7 kernel and one output channel", {"args": [int(rng.integers(2, 200)), 1, 7, 9]}),
        Case(
            "random sizes #1",
            {
                "args": [
                    int(rng.integers(1, 1025)),
                    int(rng.integers(1, 1025)),
                    int(rng.choice([3, 5, 7])),
                    int(rng.integers(1, 113)),
                ]
            },
        ),
        Case(
            "random sizes #2",
            {
                "args": [
                    int(rng.integers(1, 1025)),
                    int(rng.integers(1, 1025)),
                    int(rng.choice([3, 5, 7])),
                    int(rng.integers(1, 113)),
                ]
            },
        ),
    ],
    reference=_ratio_ref,
    mistakes=[
        ("the kernel has K·K weights per channel: 1/N + 1/K², not 1/K", lambda m, n, k, s: 1 / n + 1 / k),
        (
            "that is the saving factor (standard ÷ separable); return the cost ratio separable ÷ standard (below 1 for K > 1)",
            lambda m, n, k, s: 1 / _ratio_ref(m, n, k, s),
        ),
        (
            "N is out_channels: the depthwise cost M·K² over the standard M·N·K² is 1/N",
            lambda m, n, k, s: 1 / m + 1 / (k * k),
        ),
        ("you left out the depthwise conv's own cost, the 1/N term", lambda m, n, k, s: 1 / (k * k)),
        (
            "the ratio is a true division: use /, not // (an integer division of a smaller count by a larger one is 0)",
            lambda m, n, k, s: float((s * s * m * k * k + s * s * m * n) // (s * s * m * n * k * k)),
        ),
        ("you left out the pointwise conv's cost, the 1/K² term", lambda m, n, k, s: 1 / n),
    ],
    hint="separable = S²·M·K² + S²·M·N, standard = S²·M·N·K²; their ratio is 1/N + 1/K²",
)

# ---------------------------------------------------------------------------------------------
# ex06_channel_shuffle(x, groups): (N, C, H, W) -> (N, C, H, W), output channel j·G + g = input channel g·(C/G) + j
# ---------------------------------------------------------------------------------------------


def _shuffle_ref(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.reshape(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


def _shuffle_case(rng: np.random.Generator, n: int, c: int, h: int, w: int, groups: int) -> dict[str, Any]:
    return {"args": [torch.from_numpy(rng.standard_normal((n, c, h, w)).astype(np.float32)), groups]}


def _shuffle_cases() -> list[Case]:
    rng = np.random.default_rng(16)
    return [
        Case("6 channels, groups=2: order [0 3 1 4 2 5]", {"args": [torch.arange(6.0).reshape(1, 6, 1, 1), 2]}),
        Case("12 channels, groups=3, on 3×4", _shuffle_case(rng, 2, 12, 3, 4, 3)),
    ]


def _shuffle_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case("groups ≠ C/groups (catches the inverse shuffle)", _shuffle_case(rng, 1, 8, 2, 2, 2)),
        Case("24 channels, groups=4", _shuffle_case(rng, 2, 24, 3, 3, 4)),
        Case("groups=1 changes nothing", _shuffle_case(rng, 1, 5, 2, 3, 1)),
        Case("groups = C changes nothing", _shuffle_case(rng, 1, 4, 3, 2, 4)),
        Case("non-square map, batch of 3", _shuffle_case(rng, 3, 15, 2, 5, 3)),
        Case(
            "random sizes",
            _shuffle_case(
                rng,
                int(rng.integers(1, 4)),
                6 * int(rng.integers(1, 6)),
                int(rng.integers(1, 6)),
                int(rng.integers(1, 6)),
                int(rng.choice([2, 3])),
            ),
        ),
    ]


_SHUFFLE = function_exercise(
    "ex06_channel_shuffle",
    points=2,
    target="channel_shuffle",
    visible=_shuffle_cases,
    hidden=_shuffle_hidden,
    reference=_shuffle_ref,
    mistakes=[
        (
            "the grid is the wrong way round: view the channels as (N, groups, C // groups, H, W), groups FIRST, "
            "then transpose and flatten (with C=6, groups=2: [0 3 1 4 2 5])",
            lambda x, g: x.reshape(x.shape[0], x.shape[1] // g, g, *x.shape[2:]).transpose(1, 2).reshape(x.shape),
        ),
        (
            "reshaping alone moves nothing: transpose the two channel axes (1 and 2) before flattening back",
            lambda x, g: x.clone(),
        ),
    ],
    hint="x.reshape(N, groups, C // groups, H, W).transpose(1, 2).reshape(N, C, H, W)",
    error_hint="x is (N, C, H, W) and groups divides C: print the shape after each step of your reshaping",
)


# ---------------------------------------------------------------------------------------------
# ex06_kernel_depth_bug: grouped_params_fixed(in_channels, out_channels, kernel_size, groups, bias=True)
#   -> (params, (c_in, c_out)): the true parameter count, and channel counts (same groups) that expose the bug
#   fix the bug: a circulating count takes each kernel's depth as out_channels / groups ("M/G")
# ---------------------------------------------------------------------------------------------


def _params(c_in: int, c_out: int, k: int, groups: int, bias: bool, depth_from: str = "in") -> int:
    """nn.Conv2d's parameter count (``depth_from='out'``: the buggy kernel depth C_out/G)."""
    depth = (c_in if depth_from == "in" else c_out) // groups
    return c_out * depth * k * k + (c_out if bias else 0)


def _count_mistakes(c_in: int, c_out: int, k: int, groups: int, bias: bool) -> list[tuple[str, float]]:
    """(hint, wrong count) for the known mistakes of the count; only those that differ from the right count."""
    weights = c_out * (c_in // groups) * k * k
    candidates = [
        (
            "that is the buggy count itself: each kernel reads only its group's INPUT channels, so its depth is "
            "in_channels / groups, whatever out_channels is",
            _params(c_in, c_out, k, groups, bias, depth_from="out"),
        ),
        (
            "groups is ignored: each kernel sees only in_channels / groups of the input channels",
            c_out * c_in * k * k + (c_out if bias else 0),
        ),
        (
            "divide by groups once: there are still out_channels kernels, each of depth in_channels / groups",
            c_out * c_in * k * k / (groups * groups) + (c_out if bias else 0),
        ),
        ("bias=False means no bias parameters: count them only when bias is True", weights + c_out),
        ("the bias is forgotten: with bias=True there are out_channels extra parameters", weights),
        ("the biases do not shrink with groups: one per output channel", weights + (c_out / groups if bias else 0)),
    ]
    right = _params(c_in, c_out, k, groups, bias)
    return [(hint, value) for hint, value in candidates if value != right]


def _is_count(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _test_channels_failure(value: Any, k: int, groups: int, bias: bool) -> Failure | None:
    """None when ``value`` is a pair (c_in, c_out) that nn.Conv2d accepts with ``groups`` and on which the buggy
    count is wrong; else why not."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return Failure(
            "the second item is not a pair of channel counts",
            "a pair (c_in, c_out)",
            describe(value),
            "return (params, (c_in, c_out)): the test case's channel counts as a tuple of two ints",
        )
    if not all(isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)) and c > 0 for c in value):
        return Failure(
            "the test case's channel counts are not positive ints",
            "two ints ≥ 1",
            repr(tuple(value))[:80],
            "channel counts are ints of at least 1 (// keeps an int where / gives a float)",
        )
    c_in, c_out = int(value[0]), int(value[1])
    if c_in % groups or c_out % groups:
        return Failure(
            f"nn.Conv2d rejects the test case ({c_in}, {c_out}) with groups={groups}",
            f"two channel counts divisible by groups={groups}",
            describe(tuple(value)),
            "a test must use a layer that exists: groups must divide both in_channels and out_channels "
            "(PyTorch raises ValueError otherwise)",
        )
    if _params(c_in, c_out, k, groups, bias) == _params(c_in, c_out, k, groups, bias, depth_from="out"):
        return Failure(
            "the buggy count is right on this test case, so it cannot catch the bug",
            "channel counts on which the buggy count is wrong",
            describe(tuple(value)),
            "with c_in = c_out the depth out_channels / groups equals in_channels / groups: the bug hides on equal "
            "widths (the lesson's 96 → 96 table, every depthwise conv); a test needs c_in ≠ c_out",
        )
    return None


def _depth_bug_judge(case: Case, received: Any) -> Failure | None:
    c_in, c_out, k, groups, bias = case.data["args"]
    if not isinstance(received, (tuple, list)) or len(received) != 2:
        return Failure(
            "expected a pair (params, (c_in, c_out))",
            "(int, (int, int))",
            describe(received),
            "return a tuple of two items: the parameter count, then the test case's channel counts",
        )
    params, test_channels = received
    right = _params(c_in, c_out, k, groups, bias)
    if not _is_count(params):
        return Failure(
            "the first item is not a number", str(right), describe(params), "the first item is the parameter count"
        )
    failure = compare(right, params)
    if failure is not None:
        failure.what = "wrong parameter count"
        matches = [
            hint for hint, value in _count_mistakes(c_in, c_out, k, groups, bias) if compare(value, params) is None
        ]
        failure.candidates = matches
        failure.hint = matches[0] if matches else (UNKNOWN_MISTAKE_HIDDEN if case.hidden else UNKNOWN_MISTAKE)
        return failure
    return _test_channels_failure(test_channels, k, groups, bias)


def _depth_case(c_in: int, c_out: int, k: int, groups: int, bias: bool) -> dict[str, Any]:
    return {"args": [c_in, c_out, k, groups, bias]}


def _depth_cases() -> list[Case]:
    return [
        Case("the lesson's 96 → 96, 3×3, groups=4, no bias (the bug hides here)", _depth_case(96, 96, 3, 4, False)),
        Case("AlexNet's conv2: 96 → 256, 5×5, groups=2", _depth_case(96, 256, 5, 2, True)),
        Case("AlexNet's conv5: 384 → 256, 3×3, groups=2", _depth_case(384, 256, 3, 2, True)),
    ]


def _depth_hidden(rng: np.random.Generator) -> list[Case]:
    """Ten layers: five with equal widths (where the buggy count is right), three wider and two narrower; bias on
    half of them; groups > 1 on nine, depthwise on two. Every group count asks for its own test case."""

    def g() -> int:
        return int(rng.choice([2, 3, 4, 8]))

    g1, g2, g3, g4 = g(), g(), g(), g()
    c = int(rng.integers(2, 65))
    w3, w4 = g3 * int(rng.integers(1, 17)), g4 * int(rng.integers(1, 17))
    return [
        Case("depthwise: groups = in_channels = out_channels", _depth_case(c, c, 3, c, False)),
        Case("depthwise with a multiplier: out_channels = 2 · in_channels", _depth_case(16, 32, 3, 16, True)),
        Case("in_channels > out_channels", _depth_case(64, 16, 3, 4, True)),
        Case("in_channels < out_channels, no bias", _depth_case(8, 40, 3, 2, False)),
        Case("a dense conv (groups=1), widths differ", _depth_case(12, int(rng.integers(1, 9)), 1, 1, True)),
        Case("a grouped 1×1 conv of equal widths (ShuffleNet)", _depth_case(g1 * 6, g1 * 6, 1, g1, False)),
        Case("ResNeXt's grouped 3×3: 128 → 128, groups=32", _depth_case(128, 128, 3, 32, True)),
        Case(
            "random widths, in_channels < out_channels, no bias",
            _depth_case(g2 * int(rng.integers(1, 9)), g2 * int(rng.integers(9, 17)), 5, g2, False),
        ),
        Case("random equal widths, 5×5, with bias", _depth_case(w3, w3, 5, g3, True)),
        Case("random equal widths, 7×7, no bias", _depth_case(w4, w4, 7, g4, False)),
    ]


_DEPTH_BUG = Exercise(
    "ex06_kernel_depth_bug",
    3,
    "grouped_params_fixed",
    CALL_FUNCTION,
    _depth_cases,
    _depth_hidden,
    _depth_bug_judge,
    error_hint="the arguments are a valid grouped conv (groups divides both channel counts): return the pair "
    "(params, (c_in, c_out)) instead of raising",
)

EXERCISES: list[Exercise] = [_GROUPED, _RATIO, _SEP, _SHUFFLE, _DEPTH_BUG]  # counting, implementing, a bug to fix
