"""Checks for exercises/01_pointwise_is_per_pixel_fc.ipynb: a 1×1 conv as one matmul, Linear → Conv2d, costs."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from ._framework import UNKNOWN_MISTAKE, UNKNOWN_MISTAKE_HIDDEN, Case, Exercise, Failure, compare, function_exercise

# ---------------------------------------------------------------------------------------------
# ex01_reshape_bug: fix a circulating pointwise_conv that reshapes (N, C_in, *spatial) without moving the channels
#   pointwise_conv(x, w, b): x (N, C_in, *spatial) (Conv1d, Conv2d or Conv3d input), w (C_out, C_in), b (C_out,)
#   -> (N, C_out, *spatial), NumPy, one matrix product
# ---------------------------------------------------------------------------------------------


def _pw_ref(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.einsum("oc,nc...->no...", w.astype(np.float64), x.astype(np.float64))
    return out + b.astype(np.float64).reshape(1, -1, *([1] * (x.ndim - 2)))


def _pw_case(rng: np.random.Generator, n: int, c_in: int, c_out: int, *spatial: int) -> dict[str, Any]:
    return {
        "args": [
            rng.standard_normal((n, c_in, *spatial)).astype(np.float32),
            rng.standard_normal((c_out, c_in)).astype(np.float32),
            rng.standard_normal(c_out).astype(np.float32),
        ]
    }


def _pw_cases() -> list[Case]:
    rng = np.random.default_rng(1)
    return [
        Case("Conv2d input: batch of 2, 3 → 6 channels, 4×5", _pw_case(rng, 2, 3, 6, 4, 5)),
        Case("Conv1d input: one sequence, 4 → 2 channels, length 6", _pw_case(rng, 1, 4, 2, 6)),
        Case("Conv3d input: batch of 2, 2 → 3 channels, 2×3×4 volume", _pw_case(rng, 2, 2, 3, 2, 3, 4)),
    ]


def _pw_hidden(rng: np.random.Generator) -> list[Case]:
    """Fewer than half of the cases are 2-D (an answer for 4-D input only earns at most half), fewer than half have
    a batch of one (an answer for the first image only, likewise), and one has a single pixel, where the circulating
    bug is right by accident."""

    def size() -> int:
        return int(rng.integers(2, 6))

    cases = [
        Case("2-D, C_in = C_out (catches transposed weights)", _pw_case(rng, 2, 5, 5, 3, 4)),
        Case("2-D, H ≠ W, batch of 3", _pw_case(rng, 3, 3, 4, 2, 7)),
        Case("2-D, a 1×1 map: the buggy reshape happens to be right here", _pw_case(rng, 3, 4, 2, 1, 1)),
        Case("2-D, channel reduction 16 → 2", _pw_case(rng, 2, 16, 2, 3, 3)),
        Case("1-D, C_in = C_out", _pw_case(rng, 2, 4, 4, 5)),
        Case("1-D, a single input channel, length 9", _pw_case(rng, 2, 1, 3, 9)),
        Case("3-D, non-cubic volume, batch of 2", _pw_case(rng, 2, 3, 5, 2, 3, 4)),
        Case("3-D, C_in = C_out", _pw_case(rng, 3, 4, 4, 3, 2, 2)),
    ]
    for i, dims in enumerate((1, 2, 3)):
        spatial = [size() for _ in range(dims)]
        channels = (int(rng.integers(2, 9)), int(rng.integers(2, 9)))
        cases.append(
            Case(f"{dims}-D, random sizes #{i + 1}", _pw_case(rng, int(rng.integers(2, 4)), *channels, *spatial))
        )
    return cases


# The learner's function is called as usual. When it raises on a 1-D or 3-D case, it is called once more on the same
# numbers laid out as a 2-D map (N, C_in, rest, last): that it works there tells "handles only 4-D input" apart from
# any other error. A stub (NotImplementedError) raises as always, so an unanswered exercise stays "not attempted".
_PW_ADAPTER = r"""
def adapter(obj, case):
    x, w, b = case["args"]
    try:
        return obj(x, w, b)
    except NotImplementedError:
        raise
    except Exception as err:
        if not isinstance(x, _np.ndarray) or x.ndim < 3 or x.ndim == 4:
            raise
        first = str(err).splitlines()[0][:300] if str(err) else ""
        raised = type(err).__name__ + (": " + first if first else "")
        as_map = _np.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1, x.shape[-1])
        try:
            on_map = obj(as_map, w.copy(), b.copy())
        except Exception:
            raise err from None
        return {"raised": raised, "on_a_2d_map": on_map}
"""


def _as_2d_map(x: np.ndarray) -> np.ndarray:
    """The numbers of a (N, C, *spatial) input laid out as (N, C, rest, last), as the adapter does."""
    return np.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1, x.shape[-1])


def _pw_bug(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The circulating version: reshape straight to (N·pixels, C_in), channels never moved last."""
    n, c_in = x.shape[:2]
    out = x.reshape(-1, c_in) @ w.T + b
    return out.reshape(n, w.shape[0], *x.shape[2:])


def _pw_pixels(x: np.ndarray) -> np.ndarray:
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _pw_back_without_moving(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = _pw_pixels(x) @ w.T + b
    return out.reshape(x.shape[0], w.shape[0], *x.shape[2:])


def _pw_channels_last(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = _pw_pixels(x) @ w.T + b
    return out.reshape(x.shape[0], *x.shape[2:], w.shape[0])


def _pw_spatial_reversed(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    if x.ndim < 4:
        raise ValueError("a single spatial axis cannot be reversed")  # the mistake is not visible here
    return _pw_ref(x, w, b).swapaxes(2, -1)


_PW_MISTAKES = [
    (
        "that is the circulating bug itself: x.reshape(-1, C_in) cuts x's memory into rows of C_in numbers that "
        "run along one channel's pixels, not across one pixel's channels (it happens to be right on a 1×1 map); "
        "move the channel axis last BEFORE the reshape, and back to axis 1 after it",
        _pw_bug,
    ),
    (
        "the rows are right but the way back is not: the product is (N·pixels, C_out) with the channels last, so "
        "reshape it to (N, *spatial, C_out) first, then move the channel axis to position 1",
        _pw_back_without_moving,
    ),
    (
        "the channels are left last: the output must be (N, C_out, *spatial), so move the last axis back to position 1",
        _pw_channels_last,
    ),
    ("the bias is forgotten: add b[o] to output channel o at every pixel", lambda x, w, b: _pw_ref(x, w, 0 * b)),
    (
        "the weights are transposed: w is (C_out, C_in), so a row of pixels (·, C_in) is multiplied by w.T "
        "(or w by a column of channels)",
        lambda x, w, b: _pw_ref(x, w.T, b),
    ),
    (
        "the spatial axes come back in another order: keep them as the input has them, (N, C_out, *spatial)",
        _pw_spatial_reversed,
    ),
]

_POINTWISE_BASE = function_exercise(
    "ex01_reshape_bug",
    strict_types=True,
    points=3,
    target="pointwise_conv",
    visible=_pw_cases,
    hidden=_pw_hidden,
    reference=_pw_ref,
    mistakes=_PW_MISTAKES,
    adapter=_PW_ADAPTER,
    error_hint="your code raised on a valid input: print the shape of each step; x is (N, C_in, *spatial) with "
    "1, 2 or 3 spatial axes, and a row of C_in numbers times w.T gives C_out numbers",
)


def _pw_judge(case: Case, received: Any) -> Failure | None:
    """The plain judge, except for an answer that raised on this 1-D or 3-D input and works on a 2-D map."""
    if not (isinstance(received, dict) and set(received) == {"raised", "on_a_2d_map"}):
        return _POINTWISE_BASE.judge(case, received)
    x, w, b = case.data["args"]
    dims = x.ndim - 2
    what = f"raised {received['raised']} on this input with {dims} spatial ax{'is' if dims == 1 else 'es'}"
    if compare(_pw_ref(_as_2d_map(x), w, b), received["on_a_2d_map"]) is None:
        return Failure(
            what + ", yet gives the right answer on the same numbers laid out as (N, C_in, H, W)",
            hint="your function handles only 4-D input: the task asks for (N, C_in, *spatial) with 1, 2 or 3 spatial "
            "axes (Conv1d, Conv2d and Conv3d inputs); take the shape as n, c_in, *spatial = x.shape and do not "
            "name the axes one by one",
        )
    return Failure(what, hint=_POINTWISE_BASE.error_hint)


_POINTWISE = dataclasses.replace(_POINTWISE_BASE, judge=_pw_judge)

# ---------------------------------------------------------------------------------------------
# ex01_linear_to_conv1x1(linear) -> nn.Conv2d with the same weights
# ---------------------------------------------------------------------------------------------
_LINEAR_ADAPTER = r"""
def adapter(obj, case):
    weight, bias = case["weight"], case["bias"]
    linear = _torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None)
    with _torch.no_grad():
        linear.weight.copy_(weight)
        if bias is not None:
            linear.bias.copy_(bias)
    conv = obj(linear)
    if not (same_value(linear.weight.detach(), weight) and (bias is None or same_value(linear.bias.detach(), bias))):
        note_mutation("linear (its weight or bias)")
    if not isinstance(conv, _torch.nn.Conv2d):
        raise TypeError(f"linear_to_conv1x1 must return an nn.Conv2d, got {type(conv).__name__}")
    with _torch.no_grad():
        out = conv(case["x"])
    return {"kernel_size": tuple(int(k) for k in conv.kernel_size), "has_bias": conv.bias is not None, "out": out}
"""


def _l2c_ref(case: dict[str, Any]) -> dict[str, Any]:
    weight, bias, x = case["weight"], case["bias"], case["x"]
    out = torch.einsum("oc,nchw->nohw", weight.double(), x.double())
    if bias is not None:
        out = out + bias.double()[None, :, None, None]
    return {"kernel_size": (1, 1), "has_bias": bias is not None, "out": out}


def _l2c_case(rng: np.random.Generator, c_in: int, c_out: int, bias: bool, h: int = 3, w: int = 4) -> dict[str, Any]:
    def t(*shape: int) -> torch.Tensor:
        return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))

    return {"args": [], "weight": t(c_out, c_in), "bias": t(c_out) if bias else None, "x": t(2, c_in, h, w)}


def _l2c_cases() -> list[Case]:
    rng = np.random.default_rng(2)
    return [
        Case("Linear(4, 3) with bias", _l2c_case(rng, 4, 3, True)),
        Case("Linear(2, 5) without bias", _l2c_case(rng, 2, 5, False)),
    ]


def _l2c_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case("square Linear (catches transposed weights)", _l2c_case(rng, 6, 6, True)),
        Case("no bias: the conv must have none either", _l2c_case(rng, 5, 3, False)),
        Case("many inputs, one output", _l2c_case(rng, 12, 1, True)),
        Case("one input, many outputs, no bias", _l2c_case(rng, 1, 7, False)),
        Case("H ≠ W input, no bias", _l2c_case(rng, 3, 4, False, 2, 7)),
        Case("random sizes", _l2c_case(rng, int(rng.integers(1, 10)), int(rng.integers(1, 10)), True)),
    ]


def _l2c_judge(case: Case, received: Any) -> Failure | None:
    data = case.data
    expected = _l2c_ref(data)
    if not isinstance(received, dict) or set(received) != set(expected):
        return Failure("the conversion could not be run")
    if received["kernel_size"] != (1, 1):
        return Failure(
            "the conv is not 1×1",
            "(1, 1)",
            str(received["kernel_size"]),
            "kernel_size=1: each output pixel must see only its own input pixel",
        )
    if received["has_bias"] != expected["has_bias"]:
        want = "bias=True and copy linear.bias" if expected["has_bias"] else "bias=False, as the Linear has no bias"
        return Failure(
            "the conv's bias does not match the Linear's",
            str(expected["has_bias"]),
            str(received["has_bias"]),
            f"create the conv with {want}",
        )
    failure = compare(expected["out"], received["out"])
    if failure is None:
        return None
    weight, bias, x = data["weight"], data["bias"], data["x"]
    without_bias = torch.einsum("oc,nchw->nohw", weight.double(), x.double())
    offset = received["out"].double() - without_bias if received["out"].shape == without_bias.shape else None
    per_channel_constant = offset is not None and bool(
        (offset - offset.mean(dim=(0, 2, 3), keepdim=True)).abs().max() < 1e-4
    )
    if bias is not None and per_channel_constant:
        failure.hint = "the bias is not copied: conv.bias must hold linear.bias"
    elif compare(_l2c_ref({**data, "weight": weight.T.reshape(weight.shape)})["out"], received["out"]) is None:
        failure.hint = "the weights are transposed: linear.weight is (out, in), like conv.weight[:, :, 0, 0]"
    else:
        failure.hint = UNKNOWN_MISTAKE_HIDDEN if case.hidden else UNKNOWN_MISTAKE
    return failure


_LINEAR_TO_CONV = Exercise(
    "ex01_linear_to_conv1x1",
    points=3,
    target="linear_to_conv1x1",
    adapter=_LINEAR_ADAPTER,
    visible=_l2c_cases,
    hidden=_l2c_hidden,
    judge=_l2c_judge,
    error_hint="your code raised on a valid nn.Linear: print the shapes of linear.weight (out, in) and of the conv weight you build (out, in, 1, 1)",
)

# ---------------------------------------------------------------------------------------------
# ex01_pointwise_vs_dense(in_channels, out_channels, height, width) -> (pointwise_params, dense_params, ratio)
# ---------------------------------------------------------------------------------------------


def _pvd_ref(c_in: int, c_out: int, h: int, w: int) -> tuple[int, int, float]:
    pointwise = c_in * c_out + c_out
    dense = (c_in * h * w) * (c_out * h * w) + c_out * h * w
    return (pointwise, dense, dense / pointwise)


def _pvd_cases() -> list[Case]:
    return [
        Case("64 → 32 channels on 7×7", {"args": [64, 32, 7, 7]}),
        Case("3 → 8 channels on 4×6", {"args": [3, 8, 4, 6]}),
    ]


def _pvd_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case(
            "1×1 spatial size: both layers are the same size",
            {"args": [int(rng.integers(2, 50)), int(rng.integers(2, 50)), 1, 1]},
        ),
        Case("H ≠ W", {"args": [int(rng.integers(2, 30)), int(rng.integers(2, 30)), 3, 5]}),
    ]
    for i in range(4):
        cases.append(
            Case(
                f"random sizes #{i + 1}",
                {
                    "args": [
                        int(rng.integers(1, 257)),
                        int(rng.integers(1, 257)),
                        int(rng.integers(1, 15)),
                        int(rng.integers(1, 15)),
                    ]
                },
            )
        )
    return cases


_POINTWISE_VS_DENSE = function_exercise(
    "ex01_pointwise_vs_dense",
    points=2,
    target="pointwise_vs_dense",
    visible=_pvd_cases,
    hidden=_pvd_hidden,
    reference=_pvd_ref,
    mistakes=[
        (
            "the biases are forgotten: the 1×1 conv has C_out of them, the dense layer one per output number (C_out·H·W)",
            lambda ci, co, h, w: (ci * co, ci * h * w * co * h * w, (ci * h * w * co * h * w) / (ci * co)),
        ),
        (
            "the dense layer's bias: it has one bias per OUTPUT number, C_out·H·W of them",
            lambda ci, co, h, w: (
                ci * co + co,
                ci * h * w * co * h * w + co,
                (ci * h * w * co * h * w + co) / (ci * co + co),
            ),
        ),
        (
            "the dense layer connects every input number (C_in·H·W) to every output number (C_out·H·W): (H·W)² times the 1×1 weights",
            lambda ci, co, h, w: (
                ci * co + co,
                ci * co * h * w + co * h * w,
                (ci * co * h * w + co * h * w) / (ci * co + co),
            ),
        ),
        (
            "the ratio is a true division: dense_params / pointwise_params with /, not // (which drops the fraction)",
            lambda ci, co, h, w: (
                *_pvd_ref(ci, co, h, w)[:2],
                float(_pvd_ref(ci, co, h, w)[1] // _pvd_ref(ci, co, h, w)[0]),
            ),
        ),
        (
            "the ratio is inverted: dense_params / pointwise_params",
            lambda ci, co, h, w: (*_pvd_ref(ci, co, h, w)[:2], 1 / _pvd_ref(ci, co, h, w)[2]),
        ),
    ],
    hint="pointwise: C_in*C_out + C_out; dense on the flattened map: (C_in*H*W)*(C_out*H*W) + C_out*H*W",
)

EXERCISES = [
    _POINTWISE_VS_DENSE,
    _POINTWISE,
    _LINEAR_TO_CONV,
]  # counting, then implementing (a bug fixed, then a layer built)
