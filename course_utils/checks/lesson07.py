"""Checks for exercises/07_fpn_laterals.ipynb: which lateral costs the most, one FPN lateral merge, the top-down pass."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ._framework import Case, Failure, compare, describe, function_exercise

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
# ex07_heaviest_lateral(in_channels_list, strides, image_size, out_channels=256)
#   -> {"level": i, "macs": int, "share": float}: the lateral 1×1 conv that costs the most MACs on an H × W image
#   level i's map: ceil(H / strides[i]) × ceil(W / strides[i]); MACs = its pixels · C_i · D (bias adds are not MACs);
#   a tie goes to the finer level (the lower index); share = its MACs ÷ all laterals' MACs
# ---------------------------------------------------------------------------------------------
def _map_side(size: int, stride: int, rounding: str = "ceil") -> int:
    """One side of a stride-``stride`` backbone map of a ``size``-pixel image: the task's ceil (or a mistake's floor)."""
    return -(-size // stride) if rounding == "ceil" else size // stride


def _level_macs(
    channels: Sequence[int],
    strides: Sequence[int],
    image: Sequence[int],
    d: int = 256,
    *,
    rounding: str = "ceil",
    bias: bool = False,
    kernel: int = 1,
    square: bool = False,
    on_image: bool = False,
) -> list[int]:
    """The MACs of each level's lateral (the keywords model known mistakes)."""
    height, width = int(image[0]), int(image[0] if square else image[1])

    def side(size: int, stride: int) -> int:
        return size if on_image else _map_side(size, stride, rounding)

    return [
        side(height, s) * side(width, s) * (c + bias) * d * kernel * kernel
        for c, s in zip(channels, strides, strict=False)
    ]


def _heaviest(costs: Sequence[int], *, last_of_ties: bool = False, percent: bool = False) -> dict[str, Any]:
    best = max(costs)
    level = len(costs) - 1 - list(costs)[::-1].index(best) if last_of_ties else list(costs).index(best)
    share = costs[level] / sum(costs)
    return {"level": level, "macs": costs[level], "share": 100 * share if percent else share}


def _heaviest_ref(
    channels: Sequence[int], strides: Sequence[int], image: Sequence[int], d: int = 256
) -> dict[str, Any]:
    costs = _level_macs(channels, strides, image, d)
    maps = [f"{_map_side(int(image[0]), s)}×{_map_side(int(image[1]), s)}" for s in strides]
    return {**_heaviest(costs), "costs": costs, "maps": maps}  # costs and maps only explain a failure


def _finest_level(
    channels: Sequence[int], strides: Sequence[int], image: Sequence[int], d: int = 256
) -> dict[str, Any]:
    """The halving pattern assumed: the finest level is taken as the heaviest, whatever the widths."""
    costs = _level_macs(channels, strides, image, d)
    return {"level": 0, "macs": costs[0], "share": costs[0] / sum(costs)}


def _by_params(channels: Sequence[int], strides: Sequence[int], image: Sequence[int], d: int = 256) -> dict[str, Any]:
    return _heaviest([c * d + d for c in channels])


def _lateral_case(channels: Sequence[int], strides: Sequence[int], image: Sequence[int], d: int) -> dict[str, Any]:
    return {"args": [[int(c) for c in channels], [int(s) for s in strides], (int(image[0]), int(image[1])), int(d)]}


def _heaviest_visible() -> list[Case]:
    return [
        Case(
            "MobileNet-v2's C3, C4 and its 1280-channel last map at strides 8, 16, 32, on 320×320",
            _lateral_case([32, 96, 1280], [8, 16, 32], (320, 320), 256),
        ),
        Case(
            "ResNet-50's C2–C5 on an 800×1333 detection image (1333 is not a multiple of the strides)",
            _lateral_case([256, 512, 1024, 2048], [4, 8, 16, 32], (800, 1333), 256),
        ),
        Case(
            "widths ×4 per level on 64×96, 32 pyramid channels: every lateral costs the same",
            _lateral_case([16, 64, 256], [4, 8, 16], (64, 96), 32),
        ),
    ]


def _doubling(first: int, levels: int) -> list[int]:
    return [first * 2**i for i in range(levels)]


def _heaviest_hidden(rng: np.random.Generator) -> list[Case]:
    d = int(rng.choice([64, 96, 128, 192]))
    base = int(rng.choice([8, 16, 24]))
    tie_size = 32 * int(rng.integers(1, 5))  # a multiple of every stride: the ties are exact
    cases = [
        Case(
            "ResNet-like widths on a non-square image, sides not multiples of the strides, 128 pyramid channels",
            _lateral_case([256, 512, 1024, 2048], [4, 8, 16, 32], (600, 1000), 128),
        ),
        Case(
            "MobileNet-v2-like widths 24, 32, 96, 320 on 300×300 (SSD's size: not a multiple of 8)",
            _lateral_case([24, 32, 96, 320], [4, 8, 16, 32], (300, 300), d),
        ),
        Case(
            "a 1280-channel coarsest map on 513×513 (DeepLab's size): a coarse level costs the most",
            _lateral_case([32, 96, 1280], [8, 16, 32], (513, 513), d),
        ),
        Case(
            "EfficientNet-like C3–C5 (40, 112 and its 1280-channel last map) on 380×380: odd feature maps",
            _lateral_case([40, 112, 1280], [8, 16, 32], (380, 380), 256),
        ),
        Case(
            "widths ×4 per level: all laterals tie (the finer level wins)",
            _lateral_case([base, 4 * base, 16 * base, 64 * base], [4, 8, 16, 32], (tie_size, 2 * tie_size), d),
        ),
        Case(
            "the two coarsest levels tie, above the finest (the finer of the two wins)",
            _lateral_case([base, 8 * base, 32 * base], [4, 8, 16], (tie_size, tie_size + 16), d),
        ),
        Case(
            "the two finest levels tie, above the coarsest (the finer of the two wins)",
            _lateral_case([base, 4 * base, 4 * base], [4, 8, 16], (tie_size + 32, tie_size), d),
        ),
        Case(
            "widths ×6 per level on 480×640: the coarsest lateral costs the most",
            _lateral_case([base, 6 * base, 36 * base, 216 * base], [4, 8, 16, 32], (480, 640), d),
        ),
        Case("one level: its share is 1", _lateral_case([int(rng.integers(8, 513))], [8], (97, 61), d)),
    ]
    for i in range(4):  # odd, non-square images; widths growing ×1–×3 per level (the finest level tends to win)
        # or ×4–×8 (a coarse one does): assuming "the finest level costs most" fails on over half the hidden cases
        levels = int(rng.integers(3, 6))
        low, high = (1, 4) if i == 0 else (4, 9)
        widths = [int(rng.integers(8, 65))]
        for _ in range(levels - 1):
            widths.append(min(widths[-1] * int(rng.integers(low, high)), 4096))
        first = int(rng.choice([2, 4, 8]))
        image = (2 * int(rng.integers(40, 400)) + 1, 2 * int(rng.integers(40, 400)) + 1)
        cases.append(
            Case(
                f"random pyramid on an odd H ≠ W image #{i + 1}",
                _lateral_case(widths, _doubling(first, levels), image, int(rng.integers(16, 513))),
            )
        )
    return cases


def _heaviest_compare(expected: Any, received: Any) -> Failure | None:
    """The level exactly, the MACs exactly, the share to float precision; numbers of any numeric type."""
    shape = "{'level': int, 'macs': int, 'share': float}"
    if not isinstance(received, dict) or not {"level", "macs", "share"} <= set(received):
        return Failure(
            f"expected a dict {shape}", describe(expected), describe(received), hint=f"return a dict {shape}"
        )
    asked = {key: expected[key] for key in ("level", "macs", "share")}
    failure = compare(asked, received, rtol=1e-9, atol=0.0)
    if failure is not None and "costs" in expected:  # the reference's answer: show how it was reached
        failure.expected = f"{describe(asked)}; the laterals' MACs, level by level: " + ", ".join(
            f"{m:,} on {size}" for m, size in zip(expected["costs"], expected["maps"], strict=True)
        )
        failure.received = describe({key: received[key] for key in ("level", "macs", "share")})
    return failure


_HEAVIEST_MISTAKES = [
    (
        "you took the finest level, as for ResNet-50, where each lateral costs half the one below it: that holds "
        "only when the widths double per level; here they do not, so compare the levels' MACs",
        _finest_level,
    ),
    (
        "a backbone map of stride s on an H × W image is ceil(H / s) × ceil(W / s) (the task's rule): rounding down "
        "drops the last, partial row and column",
        lambda ch, st, im, d=256: _heaviest(_level_macs(ch, st, im, d, rounding="floor")),
    ),
    (
        "by the course's convention bias additions are not MACs: a lateral's MACs count its weights' "
        "multiply-adds only",
        lambda ch, st, im, d=256: _heaviest(_level_macs(ch, st, im, d, bias=True)),
    ),
    (
        "each lateral runs on its level's feature map, not on the whole image: the map of stride s has "
        "ceil(H / s) × ceil(W / s) pixels",
        lambda ch, st, im, d=256: _heaviest(_level_macs(ch, st, im, d, on_image=True)),
    ),
    (
        "you compared parameters: the widest level holds the most weights, but a lateral's MACs also grow with "
        "its map's area, which shrinks 4× per level",
        _by_params,
    ),
    (
        "a lateral is a 1×1 conv: 9× fewer MACs than a 3×3 conv on the same map",
        lambda ch, st, im, d=256: _heaviest(_level_macs(ch, st, im, d, kernel=3)),
    ),
    (
        "you reported FLOPs (2 per multiply-add): a MAC is one multiply-add, so MACs are half the FLOPs",
        lambda ch, st, im, d=256: {**_heaviest_ref(ch, st, im, d), "macs": 2 * _heaviest_ref(ch, st, im, d)["macs"]},
    ),
    (
        "two levels tie here: the task gives a tie to the finer level (the lower index)",
        lambda ch, st, im, d=256: _heaviest(_level_macs(ch, st, im, d), last_of_ties=True),
    ),
    (
        "the image is H × W, not square: image_size is (height, width), and each map is ceil(H / s) × ceil(W / s)",
        lambda ch, st, im, d=256: _heaviest(_level_macs(ch, st, im, d, square=True)),
    ),
    (
        "share is a fraction between 0 and 1, not a percentage",
        lambda ch, st, im, d=256: _heaviest(_level_macs(ch, st, im, d), percent=True),
    ),
    (
        "out_channels is an argument: each lateral maps C_i to out_channels, not always to 256",
        lambda ch, st, im, d=256: _heaviest(_level_macs(ch, st, im, 256)),
    ),
]

_HEAVIEST = function_exercise(
    "ex07_heaviest_lateral",
    points=2,
    target="heaviest_lateral",
    visible=_heaviest_visible,
    hidden=_heaviest_hidden,
    reference=_heaviest_ref,
    comparer=_heaviest_compare,
    mistakes=_HEAVIEST_MISTAKES,
    error_hint="heaviest_lateral(in_channels_list, strides, image_size, out_channels=256): two lists of the same "
    "length, image_size a (height, width) pair; return {'level': int, 'macs': int, 'share': float}",
)


EXERCISES = [_HEAVIEST, _MERGE, _TOP_DOWN]  # counting (and judging which level costs most), then implementing
