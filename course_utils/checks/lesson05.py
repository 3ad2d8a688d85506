"""Checks for exercises/05_fc_as_conv.ipynb: FC weights as a conv kernel, score-map sizes, FC vs GAP heads."""

from __future__ import annotations

import math

import numpy as np
import torch

from ._framework import Case, function_exercise
from ._hints import DIFFICULTY, HINTS

# ---------------------------------------------------------------------------------------------
# ex05_fc_weight_to_conv(weight, in_channels, kernel_size): (out, C·K·K) -> (out, C, K, K)
# ---------------------------------------------------------------------------------------------


def _fc_ref(weight, c, k):
    return weight.detach().double().reshape(weight.shape[0], c, k, k)


def _fc_case(rng: np.random.Generator, out: int, c: int, k: int) -> dict:
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


def _map_ref(h, w, stride=32, window=224):
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
    for i in range(3):
        cases.append(
            Case(
                f"random image size #{i + 1}",
                {"args": [int(rng.integers(224, 1200)), int(rng.integers(224, 1200)), 32, 224]},
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
# ex05_head_params(in_channels, map_size, hidden_features, num_classes) -> (fc_head_params, gap_head_params)
# ---------------------------------------------------------------------------------------------


def _head_ref(c, s, hidden, n):
    fc = (c * s * s * hidden + hidden) + (hidden * hidden + hidden) + (hidden * n + n)
    return (fc, c * n + n)


def _head_cases() -> list[Case]:
    return [
        Case("VGG-16: 512×7×7 features, 4096 hidden, 1000 classes", {"args": [512, 7, 4096, 1000]}),
        Case("a small net: 16×3×3 features, 32 hidden, 10 classes", {"args": [16, 3, 32, 10]}),
    ]


def _head_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case(
            "a 1×1 feature map",
            {"args": [int(rng.integers(2, 300)), 1, int(rng.integers(2, 500)), int(rng.integers(2, 100))]},
        ),
        Case("hidden width ≠ number of classes ≠ channels", {"args": [64, 5, 128, 20]}),
        Case("one class", {"args": [int(rng.integers(2, 100)), int(rng.integers(2, 9)), int(rng.integers(2, 100)), 1]}),
    ]
    for i in range(3):
        cases.append(
            Case(
                f"random sizes #{i + 1}",
                {
                    "args": [
                        int(rng.integers(1, 1025)),
                        int(rng.integers(2, 15)),
                        int(rng.integers(1, 5000)),
                        int(rng.integers(2, 1001)),
                    ]
                },
            )
        )
    return cases


_HEAD = function_exercise(
    "ex05_head_params",
    hints=HINTS["ex05_head_params"],
    difficulty=DIFFICULTY["ex05_head_params"],
    points=2,
    target="head_params",
    visible=_head_cases,
    hidden=_head_hidden,
    reference=_head_ref,
    mistakes=[
        (
            "the biases are forgotten: every Linear and the 1×1 conv have one bias per output",
            lambda c, s, h, n: (c * s * s * h + h * h + h * n, c * n),
        ),
        (
            "the first Linear sees the flattened map: in_features = C·S·S, not C",
            lambda c, s, h, n: (_head_ref(c, 1, h, n)[0], c * n + n),
        ),
        (
            "a 1×1 conv shares its weights across positions: its parameters do not depend on the map size "
            "(and average pooling has none)",
            lambda c, s, h, n: (_head_ref(c, s, h, n)[0], (c * n + n) * s * s),
        ),
        (
            "the GAP head is a 1×1 conv, not an S×S conv: C·classes weights",
            lambda c, s, h, n: (_head_ref(c, s, h, n)[0], c * s * s * n + n),
        ),
        (
            "VGG's head has three Linear layers: C·S·S → hidden, hidden → hidden, hidden → classes",
            lambda c, s, h, n: ((c * s * s * h + h) + (h * n + n), c * n + n),
        ),
    ],
    hint="FC head: (C·S·S·hidden + hidden) + (hidden·hidden + hidden) + (hidden·classes + classes); GAP head: C·classes + classes",
)

EXERCISES = [_FC_TO_CONV, _SCORE_MAP, _HEAD]
