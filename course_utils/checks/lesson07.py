"""Checks for exercises/07_fpn_laterals.ipynb: one FPN lateral merge, the whole top-down pass, lateral costs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ._framework import Case, function_exercise
from ._hints import DIFFICULTY, HINTS

# ---------------------------------------------------------------------------------------------
# ex07_lateral_merge(coarse, fine, lateral_conv) -> lateral_conv(fine) + nearest-upsample(coarse to fine's H, W)
#   coarse: (N, D, h, w), fine: (N, C, H, W), lateral_conv: nn.Conv2d(C, D, 1) -> (N, D, H, W)
# ---------------------------------------------------------------------------------------------
_MERGE_ADAPTER = r"""
def adapter(obj, case):
    coarse, fine, weight, bias = case["args"]
    conv = _torch.nn.Conv2d(weight.shape[1], weight.shape[0], 1)
    with _torch.no_grad():
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
    out = obj(coarse, fine, conv)
    if not (same_value(conv.weight.detach(), weight) and same_value(conv.bias.detach(), bias)):
        note_mutation("lateral_conv (its weight or bias)")
    return out
"""


def _lateral(fine: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return F.conv2d(fine.double(), weight.double(), bias.double())


def _up(x: torch.Tensor, size: Sequence[int], mode: str = "nearest") -> torch.Tensor:
    if mode in ("nearest", "nearest-exact"):
        return F.interpolate(x.double(), size=tuple(size), mode=mode)
    return F.interpolate(x.double(), size=tuple(size), mode=mode, align_corners=False)


def _merge_ref(
    coarse: torch.Tensor, fine: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, mode: str = "nearest"
) -> torch.Tensor:
    return _lateral(fine, weight, bias) + _up(coarse, fine.shape[-2:], mode)


def _merge_case(
    rng: np.random.Generator, n: int, d: int, c: int, h: int, w: int, hc: int | None = None, wc: int | None = None
) -> dict[str, Any]:
    def t(*shape: int) -> torch.Tensor:
        return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))

    hc = (h + 1) // 2 if hc is None else hc
    wc = (w + 1) // 2 if wc is None else wc
    return {"args": [t(n, d, hc, wc), t(n, c, h, w), t(d, c, 1, 1), t(d)]}


def _merge_cases() -> list[Case]:
    rng = np.random.default_rng(7)
    return [
        Case("coarse 4×2×2, fine 3×4×4 (lateral 3 → 4 channels)", _merge_case(rng, 1, 4, 3, 4, 4)),
        Case("batch of 2, coarse 8×3×5, fine 6×6×10", _merge_case(rng, 2, 8, 6, 6, 10)),
    ]


def _merge_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case("fine channels = pyramid channels (catches a forgotten lateral)", _merge_case(rng, 1, 5, 5, 6, 6)),
        Case("fine map of odd size: upsample to its size, not by 2", _merge_case(rng, 1, 4, 2, 7, 7)),
        Case("more backbone channels than pyramid channels, odd height", _merge_case(rng, 2, 3, 16, 5, 8)),
        Case("non-square maps, odd width", _merge_case(rng, 1, 4, 3, 4, 9)),
        Case("a 1×1 coarse map", _merge_case(rng, 2, 3, 2, 2, 2)),
    ]
    for i in range(2):  # odd sizes, where an upsampling by 2 overshoots
        h, w = 2 * int(rng.integers(1, 6)) + 1, int(rng.integers(2, 12))
        cases.append(
            Case(
                f"random sizes #{i + 1}",
                _merge_case(rng, int(rng.integers(1, 4)), int(rng.integers(1, 9)), int(rng.integers(1, 9)), h, w),
            )
        )
    return cases


_MERGE = function_exercise(
    "ex07_lateral_merge",
    hints=HINTS["ex07_lateral_merge"],
    difficulty=DIFFICULTY["ex07_lateral_merge"],
    points=3,
    target="lateral_merge",
    visible=_merge_cases,
    hidden=_merge_hidden,
    reference=_merge_ref,
    mistakes=[
        (
            "FPN upsamples with nearest neighbour: mode='nearest' (F.interpolate's default), not bilinear",
            lambda coarse, fine, wt, b: _lateral(fine, wt, b) + _up(coarse, fine.shape[-2:], "bilinear"),
        ),
        (
            "the result has the FINE map's size: upsample the coarse map to the fine map's (H, W), do not shrink the fine one",
            lambda coarse, fine, wt, b: _up(_lateral(fine, wt, b), coarse.shape[-2:]) + coarse.double(),
        ),
        (
            "apply lateral_conv to the fine map before adding: it brings the backbone's channels to the pyramid's",
            lambda coarse, fine, wt, b: fine.double() + _up(coarse, fine.shape[-2:]),
        ),
        (
            "the lateral conv belongs to the fine (backbone) map; the coarse map already has the pyramid's channels",
            lambda coarse, fine, wt, b: _lateral(_up(coarse, fine.shape[-2:]), wt, b) + fine.double(),
        ),
        (
            "the lateral conv's bias is missing: call lateral_conv(fine) itself",
            lambda coarse, fine, wt, b: _lateral(fine, wt, 0 * b) + _up(coarse, fine.shape[-2:]),
        ),
    ],
    hint="return lateral_conv(fine) + F.interpolate(coarse, size=fine.shape[-2:], mode='nearest')",
    error_hint="lateral_conv(fine) is (N, D, H, W): the upsampled coarse map must have exactly that H and W "
    "(a scale factor of 2 fails on odd sizes), and the lateral conv reads the fine map",
    adapter=_MERGE_ADAPTER,
    accept=[lambda coarse, fine, wt, b: _merge_ref(coarse, fine, wt, b, "nearest-exact")],
)

# ---------------------------------------------------------------------------------------------
# ex07_top_down(features, laterals) -> merged maps, fine -> coarse
#   features[i]: (N, C_i, H_i, W_i) fine -> coarse; laterals[i]: nn.Conv2d(C_i, D, 1)
#   M_last = laterals[-1](features[-1]); M_i = laterals[i](features[i]) + nearest-upsample(M_{i+1} to H_i, W_i)
# ---------------------------------------------------------------------------------------------
_TOP_DOWN_ADAPTER = r"""
def adapter(obj, case):
    features, params = case["args"]
    laterals = []
    for weight, bias in params:
        conv = _torch.nn.Conv2d(weight.shape[1], weight.shape[0], 1)
        with _torch.no_grad():
            conv.weight.copy_(weight)
            conv.bias.copy_(bias)
        laterals.append(conv)
    out = obj(features, laterals)
    for conv, (weight, bias) in zip(laterals, params):
        if not (same_value(conv.weight.detach(), weight) and same_value(conv.bias.detach(), bias)):
            note_mutation("laterals (a conv's weight or bias)")
            break
    return out
"""


def _td(
    features: Sequence[torch.Tensor],
    params: Sequence[tuple[torch.Tensor, torch.Tensor]],
    accumulate: bool = True,
    mode: str = "nearest",
) -> list[torch.Tensor]:
    lat = [_lateral(f, w, b) for f, (w, b) in zip(features, params, strict=False)]
    merged = list(lat)  # merged[-1] is lat[-1]; every other entry is replaced below, coarse to fine
    for i in range(len(lat) - 2, -1, -1):
        above = merged[i + 1] if accumulate else lat[i + 1]
        merged[i] = lat[i] + _up(above, lat[i].shape[-2:], mode)
    return merged


def _td_case(rng: np.random.Generator, n: int, channels: list[int], d: int, h: int, w: int) -> dict[str, Any]:
    def t(*shape: int) -> torch.Tensor:
        return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))

    features: list[torch.Tensor] = []
    params: list[tuple[torch.Tensor, torch.Tensor]] = []
    for c in channels:
        features.append(t(n, c, h, w))
        params.append((t(d, c, 1, 1), t(d)))
        h, w = (h + 1) // 2, (w + 1) // 2
    return {"args": [features, params]}


def _td_cases() -> list[Case]:
    rng = np.random.default_rng(17)
    return [
        Case("3 levels: 2, 4, 8 channels on 8×8, 4×4, 2×2 → 4 channels", _td_case(rng, 1, [2, 4, 8], 4, 8, 8)),
        Case(
            "4 levels (a tiny ResNet): 4, 8, 16, 32 channels from 16×16 → 6 channels",
            _td_case(rng, 2, [4, 8, 16, 32], 6, 16, 16),
        ),
    ]


def _td_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case("odd sizes 13, 7, 4 (upsample to each level's size)", _td_case(rng, 1, [3, 5, 7], 4, 13, 13)),
        Case("two levels", _td_case(rng, 2, [3, 6], 5, 6, 4)),
        Case("one level: just its lateral", _td_case(rng, 1, [4], 3, 5, 5)),
        Case("five levels, non-square", _td_case(rng, 1, [2, 3, 4, 5, 6], 3, 32, 20)),
        Case(
            "random sizes",
            _td_case(
                rng,
                int(rng.integers(1, 3)),
                [int(c) for c in rng.integers(1, 9, size=int(rng.integers(3, 5)))],
                int(rng.integers(1, 9)),
                int(rng.integers(8, 20)),
                int(rng.integers(8, 20)),
            ),
        ),
    ]


_TOP_DOWN = function_exercise(
    "ex07_top_down",
    hints=HINTS["ex07_top_down"],
    difficulty=DIFFICULTY["ex07_top_down"],
    points=3,
    target="top_down",
    visible=_td_cases,
    hidden=_td_hidden,
    reference=lambda features, params: _td(features, params),
    mistakes=[
        (
            "each level adds the upsampled MERGED map of the level above, not just that level's lateral: "
            "the coarse information must flow all the way down",
            lambda features, params: _td(features, params, accumulate=False),
        ),
        (
            "return the merged maps in the order of `features`: fine → coarse",
            lambda features, params: _td(features, params)[::-1],
        ),
        (
            "FPN upsamples with nearest neighbour: mode='nearest', not bilinear",
            lambda features, params: _td(features, params, mode="bilinear"),
        ),
    ],
    hint="start from laterals[-1](features[-1]) and walk to the finer levels: "
    "merged[i] = laterals[i](features[i]) + F.interpolate(merged[i + 1], size=features[i].shape[-2:], mode='nearest')",
    error_hint="features and laterals are lists of the same length, fine → coarse; each upsampled map must have "
    "exactly the size of the level it is added to (odd sizes too); return a list of tensors",
    adapter=_TOP_DOWN_ADAPTER,
    accept=[lambda features, params: _td(features, params, mode="nearest-exact")],
)

# ---------------------------------------------------------------------------------------------
# ex07_lateral_costs(in_channels_list, map_sizes, out_channels=256) -> [(params, macs) per level]
# ---------------------------------------------------------------------------------------------


def _costs_ref(channels: Sequence[int], sizes: Sequence[int], d: int = 256) -> list[tuple[int, int]]:
    return [(c * d + d, s * s * c * d) for c, s in zip(channels, sizes, strict=False)]


def _costs_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case("ResNet-50 at 224×224, 128 pyramid channels", {"args": [[256, 512, 1024, 2048], [56, 28, 14, 7], 128]}),
        Case(
            "one level",
            {"args": [[int(rng.integers(1, 2049))], [int(rng.integers(1, 200))], int(rng.integers(1, 512))]},
        ),
        Case("five levels, equal channels", {"args": [[64] * 5, [64, 32, 16, 8, 4], 64]}),
    ]
    for i in range(3):
        levels = int(rng.integers(2, 6))
        channels = [int(c) for c in rng.integers(1, 2049, size=levels)]
        sizes = sorted((int(s) for s in rng.integers(1, 257, size=levels)), reverse=True)
        cases.append(Case(f"random pyramid #{i + 1}", {"args": [channels, sizes, int(rng.integers(1, 513))]}))
    return cases


_COSTS = function_exercise(
    "ex07_lateral_costs",
    hints=HINTS["ex07_lateral_costs"],
    difficulty=DIFFICULTY["ex07_lateral_costs"],
    points=2,
    target="lateral_costs",
    visible=lambda: [
        Case(
            "ResNet-50's C2–C5 at 800×800, 256 pyramid channels",
            {"args": [[256, 512, 1024, 2048], [200, 100, 50, 25], 256]},
        ),
        Case("three small levels", {"args": [[8, 16, 32], [16, 8, 4], 4]}),
    ],
    hidden=_costs_hidden,
    reference=_costs_ref,
    mistakes=[
        (
            "the biases are forgotten: each lateral conv has out_channels of them",
            lambda ch, sz, d=256: [(c * d, s * s * c * d) for c, s in zip(ch, sz, strict=False)],
        ),
        (
            "you reported FLOPs (2 per multiply-accumulate): a MAC is one multiply-add, so MACs are half the FLOPs",
            lambda ch, sz, d=256: [(c * d + d, 2 * s * s * c * d) for c, s in zip(ch, sz, strict=False)],
        ),
        (
            "a lateral is a 1×1 conv: C_i·D weights, not 9× that",
            lambda ch, sz, d=256: [(9 * c * d + d, 9 * s * s * c * d) for c, s in zip(ch, sz, strict=False)],
        ),
        (
            "map_sizes[i] belongs to level i: pair each level's channels with its own map size",
            lambda ch, sz, d=256: _costs_ref(ch, sz[::-1], d),
        ),
        (
            "by the course's convention bias additions are not MACs: MACs = S_i²·C_i·D",
            lambda ch, sz, d=256: [(c * d + d, s * s * (c * d + d)) for c, s in zip(ch, sz, strict=False)],
        ),
        (
            "the MACs are per output pixel of a square S_i × S_i map: multiply by S_i², not S_i",
            lambda ch, sz, d=256: [(c * d + d, s * c * d) for c, s in zip(ch, sz, strict=False)],
        ),
    ],
    hint="level i: params = C_i·D + D, MACs = S_i·S_i·C_i·D",
)

EXERCISES = [_COSTS, _MERGE, _TOP_DOWN]  # counting, then implementing
