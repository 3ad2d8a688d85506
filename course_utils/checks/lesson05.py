"""Checks for exercises/05_fc_as_conv.ipynb: FC weights as a conv kernel, score-map sizes, FC vs GAP heads."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ._framework import (
    CALL_FUNCTION,
    UNKNOWN_MISTAKE,
    UNKNOWN_MISTAKE_HIDDEN,
    Case,
    Exercise,
    Failure,
    compare,
    function_exercise,
)

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
# ex05_score_map_coverage(height, width, stride=32, window=224) -> ((H_out, W_out), (rows_left, cols_left))
#   the score map's shape, and how many rows at the bottom and columns at the right lie in no window
#   (windows of `window` pixels placed every `stride` pixels from the top-left corner)
# ---------------------------------------------------------------------------------------------
Coverage = tuple[tuple[Any, Any], tuple[Any, Any]]


def _side(size: int, stride: int, window: int) -> int:
    return (size - window) // stride + 1


def _left(size: int, stride: int, window: int, side: Any) -> Any:
    """Rows (or columns) after the last of ``side`` windows: it ends at stride·(side − 1) + window."""
    return size - (stride * (side - 1) + window)


def _coverage(
    h: int,
    w: int,
    stride: int,
    window: int,
    side: Any = _side,
    left: Any = None,
) -> Coverage:
    """The answer computed with a given per-axis count ``side(size, stride, window)`` and left-over rule
    ``left(size, stride, window, side)`` (by default the right ones; a mistake replaces one or both)."""
    h_out, w_out = side(h, stride, window), side(w, stride, window)
    if left is None:
        return ((h_out, w_out), (_left(h, stride, window, h_out), _left(w, stride, window, w_out)))
    return ((h_out, w_out), (left(h, stride, window, h_out), left(w, stride, window, w_out)))


def _coverage_ref(h: int, w: int, stride: int = 32, window: int = 224) -> Coverage:
    return _coverage(h, w, stride, window)


def _cov(h: int, w: int, stride: int, window: int) -> dict[str, Any]:
    return {"args": [h, w, stride, window]}


def _coverage_cases() -> list[Case]:
    return [
        Case("VGG-16 on 384×384 (the lesson's 6×6 map)", _cov(384, 384, 32, 224)),
        Case("exactly one window: 224×224", _cov(224, 224, 32, 224)),
        Case("a 375×500 photo (height 375, width 500)", _cov(375, 500, 32, 224)),
        Case("the lesson's tiny unpadded net (stride 4, 22-pixel window) on 45×47", _cov(45, 47, 4, 22)),
    ]


def _coverage_hidden(rng: np.random.Generator) -> list[Case]:
    """Every case has H ≠ W. Fewer than half use VGG's stride 32 and window 224 (an answer with them hard-coded
    earns at most half), and fewer than half have a window that is a multiple of the stride (so `size % stride`
    for the rows left over earns at most half too)."""

    def draw(stride: int, window: int, steps: int, remainder: bool) -> int:
        extra = int(rng.integers(1, stride)) if remainder and stride > 1 else 0
        return window + stride * int(rng.integers(0, steps)) + extra

    cases = [
        Case(
            "VGG-16, both sides window + k·stride: nothing left out",
            _cov(224 + 32 * int(rng.integers(1, 6)), 224 + 32 * int(rng.integers(6, 12)), 32, 224),
        ),
        Case(
            "VGG-16, sizes that are not window + k·stride (floor)",
            _cov(224 + 32 * int(rng.integers(1, 6)) + 31, 224 + 32 * int(rng.integers(6, 12)) + 1, 32, 224),
        ),
        Case("VGG-16, one pixel short of a second window", _cov(255, 300, 32, 224)),
        Case(
            "a stride-16 net with a 112-pixel window",
            _cov(draw(16, 112, 10, True), draw(16, 112, 10, False) + 16 * 10, 16, 112),
        ),
        Case(
            "a stride-16 net with a 100-pixel window (not a multiple of the stride)",
            _cov(draw(16, 100, 10, True), draw(16, 100, 10, True) + 16 * 10, 16, 100),
        ),
        Case(
            "the lesson's tiny unpadded net: stride 4, 22-pixel window",
            _cov(draw(4, 22, 20, True), draw(4, 22, 20, True) + 4 * 20, 4, 22),
        ),
        Case("height exactly the window: stride 8, 60-pixel window", _cov(60, draw(8, 60, 20, True) + 8, 8, 60)),
        Case("stride 2, 7-pixel window", _cov(draw(2, 7, 15, True), draw(2, 7, 15, False) + 2 * 15, 2, 7)),
    ]
    for i, (stride, window) in enumerate([(32, 224), (16, 120), (3, 10)]):
        h = draw(stride, window, 20, True)
        w = draw(stride, window, 20, True) + stride * 20
        cases.append(Case(f"random image size #{i + 1} (stride {stride}, window {window})", _cov(h, w, stride, window)))
    return cases


def _true_division(size: int, stride: int, window: int) -> float:
    return (size - window) / stride + 1


def _ceil(size: int, stride: int, window: int) -> int:
    return math.ceil((size - window) / stride) + 1


def _no_plus_one(size: int, stride: int, window: int) -> int:
    return (size - window) // stride


def _feature_cells(size: int, stride: int, window: int) -> int:
    return size // stride


def _whole_windows(size: int, stride: int, window: int) -> int:
    return size // window


def _right_remainder(size: int, stride: int, window: int, side: Any) -> int:
    """The right rows left over, computed on their own (whatever count ``side`` a learner found)."""
    return _left(size, stride, window, _side(size, stride, window))


def _clipped_left(size: int, stride: int, window: int, side: Any) -> Any:
    """The rows after the last of ``side`` windows, never negative."""
    return max(0, _left(size, stride, window, side))


# Left-over rules a learner may pair with a per-axis count: derived from it (the last window's end, the default),
# the right remainder computed on its own, or the derived one clipped at 0.
_REMAINDERS: tuple[Any, ...] = (None, _right_remainder, _clipped_left)


def _with_side(side: Any, extra: Sequence[Any] = ()) -> Any:
    """A mistake: the per-axis count ``side``, with any of the left-over rules a learner would pair with it."""

    def wrong(h: int, w: int, stride: int = 32, window: int = 224) -> list[Coverage]:
        return [_coverage(h, w, stride, window, side, left) for left in [*_REMAINDERS, *extra]]

    return wrong


def _with_left(left: Any) -> Any:
    def wrong(h: int, w: int, stride: int = 32, window: int = 224) -> list[Coverage]:
        return [_coverage(h, w, stride, window, _side, left)]

    return wrong


def _swapped(h: int, w: int, stride: int = 32, window: int = 224) -> list[Coverage]:
    (h_out, w_out), (rows, cols) = _coverage_ref(h, w, stride, window)
    return [((w_out, h_out), (cols, rows)), ((w_out, h_out), (rows, cols)), ((h_out, w_out), (cols, rows))]


_COVERAGE_MISTAKES: list[tuple[str, Any]] = [
    (
        "you forgot the +1: the first window sits at the top-left corner before any step is taken, so an image "
        "exactly the size of the window still gives one score vector",
        _with_side(_no_plus_one),
    ),
    (
        "round down, not up: a last window that would run past the bottom (or right) edge does not exist, each "
        "pool drops a partial step, so the rows it would have covered are left out",
        _with_side(_ceil),
    ),
    (
        "use floor division (//): a partial step of the window gives no extra score vector, and the count is an int",
        _with_side(_true_division),
    ),
    (
        "that counts cells of the feature map before fc6 (one per `stride` pixels); a score vector needs a whole "
        "window, window/stride of those cells, and the windows start `stride` pixels apart",
        _with_side(_feature_cells),
    ),
    (
        "the windows overlap: neighbouring score vectors are `stride` pixels apart, not a whole window apart",
        _with_side(_whole_windows, [lambda size, stride, window, _: size % window]),
    ),
    (
        "the rows left over count from the end of the last window, which starts at stride·(H_out − 1); "
        "size % stride is that only when the window is a multiple of the stride",
        _with_left(lambda size, stride, window, _: size % stride),
    ),
    (
        "off by one: the last window covers rows stride·(H_out − 1) up to stride·(H_out − 1) + window − 1, "
        "and every row after that is left out",
        lambda h, w, stride=32, window=224: [
            _coverage(h, w, stride, window, _side, lambda size, s, win, side, d=d: _left(size, s, win, side) + d)
            for d in (-1, 1)
        ],
    ),
    (
        "that is how many rows (and columns) the windows cover, from the top to the end of the last window; the "
        "task asks for those after it, which no window covers",
        _with_left(lambda size, stride, window, side: stride * (side - 1) + window),
    ),
    (
        "stride and window are arguments: use the values given, not VGG-16's 32 and 224 (another network has "
        "other ones)",
        lambda h, w, stride=32, window=224: [_coverage(h, w, 32, 224)],
    ),
    (
        "height and width are swapped: the first pair is (H_out, W_out) and the second (rows at the bottom, "
        "columns at the right), both in the order (height, width)",
        _swapped,
    ),
]


def _coverage_judge(case: Case, received: Any) -> Failure | None:
    """The reference (ints; a list stands for a tuple), then each known mistake in any of its forms."""
    args = case.data["args"]
    failure = compare(_coverage_ref(*args), received)
    if failure is None:
        return None
    for mistake_hint, forms in _COVERAGE_MISTAKES:
        if any(compare(form, received) is None for form in forms(*args)):
            failure.candidates.append(mistake_hint)
    if failure.candidates:
        failure.hint = failure.candidates[0]
    elif failure.what.startswith(("wrong value", "expected")):
        failure.hint = UNKNOWN_MISTAKE_HIDDEN if case.hidden else UNKNOWN_MISTAKE
    return failure


_SCORE_MAP = Exercise(
    "ex05_score_map_coverage",
    points=2,
    target="score_map_coverage",
    adapter=CALL_FUNCTION,
    visible=_coverage_cases,
    hidden=_coverage_hidden,
    judge=_coverage_judge,
    error_hint="your code raised on valid sizes (height, width ≥ window ≥ 1, stride ≥ 1): print what each step gives",
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
