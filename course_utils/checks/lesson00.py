"""Checks for exercises/00_multichannel_conv.ipynb: output shapes, parameter and MAC counts, a NumPy conv."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..counting import conv_macs, conv_params
from ._framework import Case, function_exercise

_Shape = tuple[int, int, int, int]  # (N, C, H, W)

# ---------------------------------------------------------------------------------------------
# ex00_conv_output_shape(input_shape, out_channels, kernel_size, stride, padding) -> (N, C_out, H_out, W_out)
# ---------------------------------------------------------------------------------------------


def _out(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


def _shape_ref(shape: _Shape, c_out: int, k: int, s: int, p: int) -> _Shape:
    n, _, h, w = shape
    return (n, c_out, _out(h, k, s, p), _out(w, k, s, p))


def _shape_cases() -> list[Case]:
    return [
        Case("3×3 conv, padding 1 keeps 32×32", {"args": [(1, 3, 32, 32), 16, 3, 1, 1]}),
        Case("7×7 stride-2 stem on 224×224", {"args": [(2, 3, 224, 224), 64, 7, 2, 3]}),
        Case("stride 2 on an odd, non-square input", {"args": [(1, 8, 11, 7), 4, 3, 2, 0]}),
    ]


def _shape_hidden(rng: np.random.Generator) -> list[Case]:
    cases = []
    for label, k, s, p in [
        ("1×1 kernel keeps H and W", 1, 1, 0),
        ("stride 2, odd size, padding 1", 3, 2, 1),
        ("stride 3 (floor division matters)", 3, 3, 0),
        ("5×5 kernel, no padding", 5, 1, 0),
        ("large padding", 3, 1, 3),
        ("stride 2, no padding", 2, 2, 0),
    ]:
        h, w = int(rng.integers(k + 2, 40)), int(rng.integers(k + 2, 40))
        if label.startswith("stride 2, odd") and h % 2 == 0:
            h += 1
        shape = (int(rng.integers(1, 5)), int(rng.integers(1, 65)), h, w)
        cases.append(Case(label, {"args": [shape, int(rng.integers(1, 129)), k, s, p]}))
    cases.append(Case("H ≠ W with stride", {"args": [(1, 3, 9, 20), 8, 3, 2, 1]}))
    cases.append(Case("kernel as large as the padded input (1×1 output)", {"args": [(1, 3, 5, 5), 2, 7, 1, 1]}))
    return cases


def _shape_no_plus_one(shape: _Shape, c_out: int, k: int, s: int, p: int) -> _Shape:
    n, _, h, w = shape
    return (n, c_out, (h + 2 * p - k) // s, (w + 2 * p - k) // s)


def _shape_pad_once(shape: _Shape, c_out: int, k: int, s: int, p: int) -> _Shape:
    n, _, h, w = shape
    return (n, c_out, (h + p - k) // s + 1, (w + p - k) // s + 1)


def _shape_ceil(shape: _Shape, c_out: int, k: int, s: int, p: int) -> _Shape:
    n, _, h, w = shape
    return (n, c_out, math.ceil((h + 2 * p - k) / s) + 1, math.ceil((w + 2 * p - k) / s) + 1)


def _shape_no_stride(shape: _Shape, c_out: int, k: int, s: int, p: int) -> _Shape:
    return _shape_ref(shape, c_out, k, 1, p)


def _shape_in_channels(shape: _Shape, c_out: int, k: int, s: int, p: int) -> _Shape:
    return _shape_ref(shape, shape[1], k, s, p)


def _shape_hw_swapped(shape: _Shape, c_out: int, k: int, s: int, p: int) -> _Shape:
    n, c, h, w = shape
    out = _shape_ref(shape, c_out, k, s, p)
    return (out[0], out[1], out[3], out[2])


_SHAPE = function_exercise(
    "ex00_conv_output_shape",
    strict_types=True,
    points=2,
    target="conv_output_shape",
    visible=_shape_cases,
    hidden=_shape_hidden,
    reference=_shape_ref,
    mistakes=[
        ("you forgot the +1: a kernel that fits exactly once still gives one output position", _shape_no_plus_one),
        ("padding adds `padding` zeros on EACH side: use H + 2*padding", _shape_pad_once),
        ("PyTorch rounds down: use floor division (//), not ceil", _shape_ceil),
        ("the stride is ignored: divide the number of valid positions by the stride", _shape_no_stride),
        ("the channel axis of the output is out_channels, not in_channels", _shape_in_channels),
        ("H and W are swapped: input_shape is (N, C, H, W)", _shape_hw_swapped),
    ],
    hint="use H_out = (H + 2*padding - kernel_size) // stride + 1 on H and on W separately",
)

# ---------------------------------------------------------------------------------------------
# ex00_conv_cost(in_channels, out_channels, kernel_size, input_size, stride, padding, bias) -> (params, macs)
# ---------------------------------------------------------------------------------------------


def _cost_ref(c_in: int, c_out: int, k: int, size: int, s: int, p: int, bias: bool) -> tuple[int, int]:
    return (conv_params(c_in, c_out, k, bias=bias), conv_macs(c_in, c_out, k, size, stride=s, padding=p))


def _cost_cases() -> list[Case]:
    return [
        Case("3×3 conv 64→128 on 56×56, padding 1", {"args": [64, 128, 3, 56, 1, 1, True]}),
        Case("1×1 conv 256→64 on 14×14, no bias", {"args": [256, 64, 1, 14, 1, 0, False]}),
        Case("7×7 stride-2 stem on 224×224", {"args": [3, 64, 7, 224, 2, 3, True]}),
    ]


def _cost_hidden(rng: np.random.Generator) -> list[Case]:
    """Every branch (bias or not, stride 1 or 2, padded or not) on half of the cases, so that an answer wrong on
    one branch fails at least half of them."""
    cases = []
    for bias in (True, False):
        for stride in (1, 2):
            for padded in (False, True):
                k = int(rng.choice([3, 5, 7]))
                label = (
                    f"K×K conv (K = 3, 5 or 7), stride {stride}, {'padding K // 2' if padded else 'no padding'}, "
                    f"{'with' if bias else 'without'} bias"
                )
                c_in, c_out = int(rng.integers(1, 129)), int(rng.integers(1, 129))
                size = int(rng.integers(k + 3, 60))
                cases.append(Case(label, {"args": [c_in, c_out, k, size, stride, k // 2 if padded else 0, bias]}))
    for bias, stride, padding in ((True, 1, 0), (False, 2, 0), (True, 2, 1), (False, 1, 1)):
        label = f"1×1 conv, stride {stride}, padding {padding}, {'with' if bias else 'without'} bias"
        c_in, c_out = int(rng.integers(8, 513)), int(rng.integers(8, 513))
        cases.append(Case(label, {"args": [c_in, c_out, 1, int(rng.integers(4, 60)), stride, padding, bias]}))
    return cases


def _cost_no_bias(c_in: int, c_out: int, k: int, size: int, s: int, p: int, bias: bool) -> tuple[int, int]:
    return (conv_params(c_in, c_out, k, bias=False), _cost_ref(c_in, c_out, k, size, s, p, bias)[1])


def _cost_bias_always(c_in: int, c_out: int, k: int, size: int, s: int, p: int, bias: bool) -> tuple[int, int]:
    return (conv_params(c_in, c_out, k, bias=True), _cost_ref(c_in, c_out, k, size, s, p, bias)[1])


def _cost_input_size(c_in: int, c_out: int, k: int, size: int, s: int, p: int, bias: bool) -> tuple[int, int]:
    return (_cost_ref(c_in, c_out, k, size, s, p, bias)[0], size * size * c_in * c_out * k * k)


def _cost_k_not_squared(c_in: int, c_out: int, k: int, size: int, s: int, p: int, bias: bool) -> tuple[int, int]:
    h = _out(size, k, s, p)
    return (c_in * c_out * k + (c_out if bias else 0), h * h * c_in * c_out * k)


def _cost_macs_bias(c_in: int, c_out: int, k: int, size: int, s: int, p: int, bias: bool) -> tuple[int, int]:
    params, macs = _cost_ref(c_in, c_out, k, size, s, p, bias)
    h = _out(size, k, s, p)
    return (params, macs + (h * h * c_out if bias else 0))


def _cost_macs_per_param(c_in: int, c_out: int, k: int, size: int, s: int, p: int, bias: bool) -> tuple[int, int]:
    params, _ = _cost_ref(c_in, c_out, k, size, s, p, bias)
    h = _out(size, k, s, p)
    return (params, h * h * params)


_COST = function_exercise(
    "ex00_conv_cost",
    points=3,
    target="conv_cost",
    visible=_cost_cases,
    hidden=_cost_hidden,
    reference=_cost_ref,
    mistakes=[
        ("the bias is forgotten: a conv with bias=True has out_channels extra parameters", _cost_no_bias),
        ("bias=False means no bias parameters: count them only when bias is True", _cost_bias_always),
        ("MACs are counted on the input size: use the OUTPUT size (stride and padding change it)", _cost_input_size),
        ("the kernel has kernel_size × kernel_size weights per channel pair: square it", _cost_k_not_squared),
        ("by the course's convention bias additions are not MACs: count only the multiplies", _cost_macs_bias),
        (
            "you reported FLOPs (2 per multiply-accumulate): a MAC is one multiply-add, so MACs are half the FLOPs",
            lambda *a: (_cost_ref(*a)[0], 2 * _cost_ref(*a)[1]),
        ),
        (
            "by the course's convention bias additions are not MACs: use the weights, not the parameters, per position",
            _cost_macs_per_param,
        ),
    ],
    hint="params = C_in*K*K*C_out (+ C_out if bias); MACs = H_out*W_out*C_in*K*K*C_out",
)

# ---------------------------------------------------------------------------------------------
# ex00_conv2d(x, w, b) NumPy: x (C_in, H, W), w (C_out, C_in, K, K), b (C_out,) -> (C_out, H-K+1, W-K+1)
# ---------------------------------------------------------------------------------------------


def _torch_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    out = F.conv2d(
        torch.from_numpy(x)[None].double(),
        torch.from_numpy(w).double(),
        None if b is None else torch.from_numpy(b).double(),
    )
    return out[0].numpy()


def _conv_case(rng: np.random.Generator, c_in: int, c_out: int, k: int, h: int, w: int) -> dict[str, Any]:
    return {
        "args": [
            rng.standard_normal((c_in, h, w)).astype(np.float32),
            rng.standard_normal((c_out, c_in, k, k)).astype(np.float32),
            rng.standard_normal(c_out).astype(np.float32),
        ]
    }


def _conv_cases() -> list[Case]:
    rng = np.random.default_rng(0)
    return [
        Case("3 → 2 channels, 3×3 kernel on 5×5", _conv_case(rng, 3, 2, 3, 5, 5)),
        Case("1 → 1 channel, 2×2 kernel on 4×6", _conv_case(rng, 1, 1, 2, 4, 6)),
    ]


def _conv_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case("C_in = C_out (catches transposed weights)", _conv_case(rng, 4, 4, 3, 7, 7)),
        Case("1×1 kernel", _conv_case(rng, 5, 3, 1, 4, 4)),
        Case("non-square input", _conv_case(rng, 2, 3, 3, 6, 9)),
        Case("kernel as large as the input (1×1 output)", _conv_case(rng, 3, 2, 4, 4, 4)),
        Case("asymmetric kernel values (catches a flipped kernel)", _conv_case(rng, 2, 2, 3, 5, 5)),
        Case("a wide input", _conv_case(rng, 3, 2, 2, 4, 9)),
    ]
    for i in range(3):  # non-square, so that half the hidden cases have H ≠ W
        c_in, c_out, k = int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 4))
        h = int(rng.integers(k, 9))
        cases.append(
            Case(
                f"random non-square sizes #{i + 1}",
                _conv_case(rng, c_in, c_out, k, h, h + int(rng.integers(1, 5))),
            )
        )
    return cases


_CONV2D = function_exercise(
    "ex00_conv2d",
    strict_types=True,
    points=4,
    target="conv2d",
    visible=_conv_cases,
    hidden=_conv_hidden,
    reference=_torch_conv,
    mistakes=[
        (
            "the bias is forgotten: add b[o] to every position of output channel o",
            lambda x, w, b: _torch_conv(x, w, None),
        ),
        (
            "the kernel is flipped: deep-learning 'convolution' is cross-correlation (no flip)",
            lambda x, w, b: _torch_conv(x, np.ascontiguousarray(w[:, :, ::-1, ::-1]), b),
        ),
        (
            "the weights are transposed: w[o, c] connects input channel c to output channel o",
            lambda x, w, b: _torch_conv(x, np.ascontiguousarray(w.transpose(1, 0, 2, 3)), b),
        ),
        (
            "you averaged over the window: a convolution SUMS the products",
            lambda x, w, b: _torch_conv(x, w, None) / (w.shape[1] * w.shape[2] * w.shape[3]) + b[:, None, None],
        ),
    ],
    hint="out[o, i, j] = b[o] + sum over c, u, v of w[o, c, u, v] * x[c, i+u, j+v]",
    error_hint="check the shapes: x is (C_in, H, W), w is (C_out, C_in, K, K), the output is (C_out, H-K+1, W-K+1)",
)

EXERCISES = [_SHAPE, _COST, _CONV2D]
