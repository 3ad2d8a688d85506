"""Checks for exercises/05_fc_as_conv.ipynb: FC weights as a conv kernel, score-map sizes, FC vs GAP heads."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ._framework import Case, function_exercise
from ._hints import DIFFICULTY, HINTS

# ---------------------------------------------------------------------------------------------
# ex05_fc_weight_to_conv(weight, in_channels, kernel_size): (out, C·K·K) -> (out, C, K, K)
# ---------------------------------------------------------------------------------------------


def _fc_ref(weight: torch.Tensor, c: int, k: int) -> torch.Tensor:
    return weight.detach().double().reshape(weight.shape[0], c, k, k)


def _fc_case(rng: np.random.Generator, out: int, c: int, k: int) -> dict[str, Any]:
    weight = torch.from_numpy(rng.standard_normal((out, c * k * k)).astype(np.float32))
    return {"args": [weight, c, k]}


def _fc_cases() -> list[Case]:
    rng = np.random.default_rng(5)
    return [
        Case("4 outputs from a 3-channel 2×2 map", _fc_case(rng, 4, 3, 2)),
        Case("2 outputs from a 5-channel 3×3 map", _fc_case(rng, 2, 5, 3)),
    ]


def _fc_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case("C ≠ K (catches a channels-last reshape)", _fc_case(rng, 3, 6, 4)),
        Case("a 7×7 window, like VGG-16's fc6", _fc_case(rng, 5, 2, 7)),
        Case("a 1×1 kernel: fc7 is a 1×1 conv", _fc_case(rng, 6, 9, 1)),
        Case("a single input channel", _fc_case(rng, 4, 1, 3)),
        Case("a single output", _fc_case(rng, 1, 3, 3)),
    ]
    for i in range(3):
        cases.append(
            Case(
                f"random sizes #{i + 1}",
                _fc_case(rng, int(rng.integers(1, 9)), int(rng.integers(2, 9)), int(rng.integers(2, 6))),
            )
        )
    return cases


_FC_TO_CONV = function_exercise(
    "ex05_fc_weight_to_conv",
    hints=HINTS["ex05_fc_weight_to_conv"],
    difficulty=DIFFICULTY["ex05_fc_weight_to_conv"],
    strict_types=True,
    points=3,
    target="fc_weight_to_conv",
    visible=_fc_cases,
    hidden=_fc_hidden,
    reference=_fc_ref,
    mistakes=[
        (
            "wrong reshape order: nn.Flatten flattens (C, H, W) row-major, so entry c·K·K + h·K + w is channel c, "
            "row h, column w; reshape straight to (out, C, K, K), with no channels-last view and no permute",
            lambda w, c, k: w.double().reshape(w.shape[0], k, k, c).permute(0, 3, 1, 2),
        ),
        (
            "H and W are swapped: within one channel the flat index is h·K + w (row-major), so no transpose of the last two axes",
            lambda w, c, k: _fc_ref(w, c, k).transpose(2, 3),
        ),
        (
            "PyTorch's conv weight is (out_channels, in_channels, K, K): put the channel axis second, not last",
            lambda w, c, k: w.double().reshape(w.shape[0], k, k, c),
        ),
        (
            "weight is (out_features, in_features): each ROW is one output's kernel; reshape the rows, "
            "do not read the matrix as (in_features, out_features)",
            lambda w, c, k: w.double().reshape(c, k, k, w.shape[0]).permute(3, 0, 1, 2),
        ),
        (
            "the weight is transposed before the reshape: keep (out_features, in_features) as it is",
            lambda w, c, k: w.double().T.reshape(w.shape[0], c, k, k),
        ),
    ],
    hint="conv_weight[o, c, h, w] must equal weight[o, c·K·K + h·K + w]: that is weight.reshape(out, C, K, K)",
    error_hint="weight has shape (out, C·K·K) and the result must be (out, C, K, K): print the shapes at each step",
)

# ---------------------------------------------------------------------------------------------
# ex05_score_map_shape(height, width, stride=32, window=224) -> (H_out, W_out)
# ---------------------------------------------------------------------------------------------


def _map_ref(h: int, w: int, stride: int = 32, window: int = 224) -> tuple[int, int]:
    return ((h - window) // stride + 1, (w - window) // stride + 1)


def _map_cases() -> list[Case]:
    return [
        Case("VGG-16 on 384×384 (the lesson's 6×6 map)", {"args": [384, 384, 32, 224]}),
        Case("exactly one window: 224×224", {"args": [224, 224, 32, 224]}),
        Case("a 480×640 photo", {"args": [480, 640, 32, 224]}),
    ]


def _map_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case(
            "size not a multiple of the stride (floor)",
            {"args": [224 + 32 * int(rng.integers(1, 6)) + 31, 224 + 32 * int(rng.integers(1, 6)) + 1, 32, 224]},
        ),
        Case("H ≠ W", {"args": [256, 224 + 32 * int(rng.integers(4, 12)), 32, 224]}),
        Case("one pixel short of a second window", {"args": [255, 255, 32, 224]}),
        Case(
            "another network: stride 16, 112-pixel window",
            {
                "args": [
                    112 + 16 * int(rng.integers(1, 20)) + int(rng.integers(0, 16)),
                    112 + 16 * int(rng.integers(1, 20)),
                    16,
                    112,
                ]
            },
        ),
        Case(
            "stride 8, 64-pixel window",
            {"args": [64 + int(rng.integers(0, 200)), 64 + int(rng.integers(0, 200)), 8, 64]},
        ),
    ]
    for i, (stride, window) in enumerate([(32, 224), (16, 96), (4, 12)]):
        cases.append(
            Case(
                f"random image size #{i + 1} (stride {stride}, window {window})",
                {
                    "args": [
                        window + int(rng.integers(0, 40 * stride)),
                        window + int(rng.integers(0, 40 * stride)),
                        stride,
                        window,
                    ]
                },
            )
        )
    return cases


_SCORE_MAP = function_exercise(
    "ex05_score_map_shape",
    hints=HINTS["ex05_score_map_shape"],
    difficulty=DIFFICULTY["ex05_score_map_shape"],
    points=2,
    target="score_map_shape",
    visible=_map_cases,
    hidden=_map_hidden,
    reference=_map_ref,
    mistakes=[
        (
            "that is the size of the feature map before fc6 (H // stride); the fc6 window of window/stride cells "
            "fits (H // stride − window/stride + 1) times along H",
            lambda h, w, s=32, win=224: (h // s, w // s),
        ),
        (
            "you forgot the +1: an image exactly the size of the window still gives one score vector",
            lambda h, w, s=32, win=224: ((h - win) // s, (w - win) // s),
        ),
        (
            "the windows overlap: neighbouring score cells are `stride` pixels apart, not a whole window apart",
            lambda h, w, s=32, win=224: (h // win, w // win),
        ),
        (
            "the pools round down: use floor division (//), not ceil",
            lambda h, w, s=32, win=224: (math.ceil((h - win) / s) + 1, math.ceil((w - win) / s) + 1),
        ),
        (
            "use floor division (//): a partial step of the window gives no extra score cell",
            lambda h, w, s=32, win=224: ((h - win) / s + 1, (w - win) / s + 1),
        ),
        (
            "H and W are swapped: return (H_out, W_out) in the order (height, width)",
            lambda h, w, s=32, win=224: _map_ref(h, w, s, win)[::-1],
        ),
    ],
    hint="H_out = (height − window) // stride + 1, and the same for W",
)

# ---------------------------------------------------------------------------------------------
# ex05_receptive_field(layers) -> (field, stride, start)
#   layers: list of (kernel_size, stride, padding), applied in order; the walk of lesson 05's "What each cell sees":
#   field += (K - 1)·jump, start -= padding·jump, then jump *= stride.
# ---------------------------------------------------------------------------------------------


def _walk(
    layers: Sequence[tuple[int, int, int]],
    *,
    scale_field: bool = True,
    scale_start: bool = True,
    multiply: bool = True,
    stride_first: bool = False,
    padding: bool = True,
) -> tuple[int, int, int]:
    field, jump, start = 1, 1, 0
    for k, s, p in layers:
        if stride_first:
            jump = jump * s if multiply else jump + s - 1
        if padding:
            start -= p * (jump if scale_start else 1)
        field += (k - 1) * (jump if scale_field else 1)
        if not stride_first:
            jump = jump * s if multiply else jump + s - 1
    return (field, jump, start)


def _rf_ref(layers: Sequence[tuple[int, int, int]]) -> tuple[int, int, int]:
    return _walk(layers)


_VGG16 = [(3, 1, 1), (3, 1, 1), (2, 2, 0)] * 2 + [(3, 1, 1), (3, 1, 1), (3, 1, 1), (2, 2, 0)] * 3


def _rf_cases() -> list[Case]:
    return [
        Case("two 3×3 convs (padding 1) then a 2×2 pool", {"args": [[(3, 1, 1), (3, 1, 1), (2, 2, 0)]]}),
        Case("a 7×7 stride-2 stem, then a 3×3 stride-2 pool (padding 1)", {"args": [[(7, 2, 3), (3, 2, 1)]]}),
    ]


def _random_layer(rng: np.random.Generator, strided: bool, padded: bool) -> tuple[int, int, int]:
    k = int(rng.choice([1, 2, 3, 5, 7]))
    s = int(rng.choice([2, 3])) if strided else 1
    return (k, s, k // 2 if padded else 0)


def _rf_hidden(rng: np.random.Generator) -> list[Case]:
    """Strides before later layers and padding each on at least half of the cases (the steps most often got
    wrong: the jump that scales later kernels, and the padding that moves the start)."""
    cases = [
        Case("VGG-16's thirteen convs and five pools (the lesson's 212 px)", {"args": [list(_VGG16)]}),
        Case("one 1×1 conv sees one pixel", {"args": [[(1, 1, 0)]]}),
        Case("no padding anywhere", {"args": [[(3, 1, 0), (2, 2, 0), (3, 1, 0), (2, 2, 0), (3, 1, 0)]]}),
        Case("a stride-3 layer, then a 5×5 conv", {"args": [[(3, 3, 1), (5, 1, 2)]]}),
    ]
    for i in range(4):
        depth = int(rng.integers(3, 7))
        layers = [_random_layer(rng, strided=j % 2 == 0, padded=(i + j) % 2 == 0) for j in range(depth)]
        cases.append(Case(f"a random stack of 3 to 6 layers #{i + 1}", {"args": [layers]}))
    return cases


_RECEPTIVE_FIELD = function_exercise(
    "ex05_receptive_field",
    hints=HINTS["ex05_receptive_field"],
    difficulty=DIFFICULTY["ex05_receptive_field"],
    points=2,
    target="receptive_field",
    visible=_rf_cases,
    hidden=_rf_hidden,
    reference=_rf_ref,
    mistakes=[
        (
            "a later layer's kernel steps over the input in jumps of the current stride: "
            "field += (K − 1) × (product of the strides so far), not K − 1",
            lambda layers: _walk(layers, scale_field=False),
        ),
        (
            "a layer's own stride only affects the layers AFTER it: add its (K − 1)·jump first, then multiply the jump",
            lambda layers: _walk(layers, stride_first=True),
        ),
        (
            "strides compose by multiplication (two stride-2 layers give stride 4, three give 8), not by addition",
            lambda layers: _walk(layers, multiply=False),
        ),
        (
            "padding moves where the field starts: start −= padding × (current stride) at each layer",
            lambda layers: _walk(layers, padding=False),
        ),
        (
            "a later layer's padding counts in input pixels: start −= padding × (product of the strides so far)",
            lambda layers: _walk(layers, scale_start=False),
        ),
    ],
    strict_types=False,
)

# ---------------------------------------------------------------------------------------------
# ex05_keras_fc_to_conv(weight, in_channels, kernel_size): fix the bug of a port from a channels-last framework
#   weight: (out, K·K·C) read from a map flattened as (H, W, C): index h·K·C + w·C + c -> (out, C, K, K)
# ---------------------------------------------------------------------------------------------


def _keras_ref(weight: torch.Tensor, c: int, k: int) -> torch.Tensor:
    return weight.detach().double().reshape(weight.shape[0], k, k, c).permute(0, 3, 1, 2)


def _keras_cases() -> list[Case]:
    rng = np.random.default_rng(55)
    return [
        Case("4 outputs from a 3-channel 2×2 map", _fc_case(rng, 4, 3, 2)),
        Case("2 outputs from a 5-channel 3×3 map", _fc_case(rng, 2, 5, 3)),
    ]


def _keras_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case("C = K (the buggy reshape keeps the shape and scrambles the values)", _fc_case(rng, 3, 4, 4)),
        Case("a 7×7 window, like VGG-16's fc6", _fc_case(rng, 5, 2, 7)),
        Case("a 1×1 kernel: every order agrees", _fc_case(rng, 6, 9, 1)),
        Case("a single input channel: every order agrees", _fc_case(rng, 4, 1, 3)),
    ]
    for i in range(5):
        cases.append(
            Case(
                f"random sizes #{i + 1}",
                _fc_case(rng, int(rng.integers(1, 9)), int(rng.integers(2, 9)), int(rng.integers(2, 6))),
            )
        )
    return cases


_KERAS_FC_TO_CONV = function_exercise(
    "ex05_keras_fc_to_conv",
    hints=HINTS["ex05_keras_fc_to_conv"],
    difficulty=DIFFICULTY["ex05_keras_fc_to_conv"],
    strict_types=True,
    points=2,
    target="keras_fc_to_conv",
    visible=_keras_cases,
    hidden=_keras_hidden,
    reference=_keras_ref,
    mistakes=[
        (
            "that is the bug itself: reshape(out, C, K, K) reads the flat index as c·K·K + h·K + w (PyTorch's order), "
            "but this weight was flattened channels last, h·K·C + w·C + c",
            lambda w, c, k: _fc_ref(w, c, k),
        ),
        (
            "H and W are swapped: in the channels-last order the row h comes first, h·K·C + w·C + c, so permute "
            "(0, 3, 1, 2), not (0, 3, 2, 1)",
            lambda w, c, k: w.detach().double().reshape(w.shape[0], k, k, c).permute(0, 3, 2, 1),
        ),
    ],
)

EXERCISES = [_SCORE_MAP, _RECEPTIVE_FIELD, _FC_TO_CONV, _KERAS_FC_TO_CONV]  # counting, implementing, a bug
