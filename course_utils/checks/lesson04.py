"""Checks for exercises/04_resnet_bottleneck.ipynb: a bottleneck block's MACs, the block itself, and whether a
bottleneck or a basic block is cheaper at the same width."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..counting import conv_macs, conv_output_size
from ._framework import Case, function_exercise, module_exercise
from ._hints import DIFFICULTY, HINTS

# ---------------------------------------------------------------------------------------------
# ex04_bottleneck_macs(in_channels, mid_channels, out_channels, size, stride=1) -> int
# ---------------------------------------------------------------------------------------------


def _bottleneck_macs(
    c: int, m: int, o: int, size: int, stride: int, stride_on: str = "1x1", shortcut: bool = True
) -> int:
    s1, s2 = (stride, 1) if stride_on == "1x1" else (1, stride)
    h1 = conv_output_size(size, 1, s1)
    macs = conv_macs(c, m, 1, size, stride=s1) + conv_macs(m, m, 3, h1, stride=s2, padding=1)
    h_out = conv_output_size(h1, 3, s2, 1)
    macs += conv_macs(m, o, 1, h_out)
    if shortcut and (stride != 1 or c != o):
        macs += conv_macs(c, o, 1, size, stride=stride)
    return macs


def _macs_cases() -> list[Case]:
    return [
        Case("ResNet-50 conv2_x block 256→64→256 on 56×56", {"args": [256, 64, 256, 56, 1]}),
        Case("first conv3_x block 256→128→512, stride 2", {"args": [256, 128, 512, 56, 2]}),
        Case("first conv2_x block 64→64→256 (projection, stride 1)", {"args": [64, 64, 256, 56, 1]}),
    ]


def _macs_hidden(rng: np.random.Generator) -> list[Case]:
    """Four identity blocks and four stride-2 blocks (two keeping the width): an answer that always, or never,
    counts the projection, or ignores the stride, fails at least half of them."""
    cases = [
        Case("identity shortcut (in = out, stride 1)", {"args": [128, 32, 128, 14, 1]}),
        Case("stride 2 on an odd size", {"args": [64, 16, 128, 15, 2]}),
        Case("ResNet-50 conv5_x first block", {"args": [1024, 512, 2048, 14, 2]}),
        Case("stride 2 keeping the width", {"args": [64, 16, 64, 9, 2]}),
    ]
    for i in range(3):
        m = int(rng.integers(1, 65))
        width = 4 * m if i % 2 else int(rng.integers(1, 257))
        cases.append(Case(f"identity block #{i + 1}", {"args": [width, m, width, int(rng.integers(2, 30)), 1]}))
    m = int(rng.integers(1, 65))
    width = int(rng.integers(1, 257))
    cases.append(Case("stride 2, random width kept", {"args": [width, m, width, int(rng.integers(2, 30)), 2]}))
    return cases


_BOTTLENECK_MACS = function_exercise(
    "ex04_bottleneck_macs",
    hints=HINTS["ex04_bottleneck_macs"],
    difficulty=DIFFICULTY["ex04_bottleneck_macs"],
    points=2,
    target="bottleneck_macs",
    visible=_macs_cases,
    hidden=_macs_hidden,
    reference=lambda c, m, o, size, stride=1: _bottleneck_macs(c, m, o, size, stride),
    mistakes=[
        (
            "the projection shortcut is forgotten: when stride ≠ 1 or in_channels ≠ out_channels it is a 1×1 conv (with the stride)",
            lambda c, m, o, size, stride=1: _bottleneck_macs(c, m, o, size, stride, shortcut=False),
        ),
        (
            "the stride is on the 3×3 conv (torchvision's 'ResNet v1.5'); this exercise follows the paper: stride on the first 1×1",
            lambda c, m, o, size, stride=1: _bottleneck_macs(c, m, o, size, stride, stride_on="3x3"),
        ),
        (
            "the stride is ignored: it shrinks every later layer's output (and the shortcut's)",
            lambda c, m, o, size, stride=1: _bottleneck_macs(c, m, o, size, 1),
        ),
        (
            "you reported FLOPs (2 per multiply-accumulate): a MAC is one multiply-add, so MACs are half the FLOPs",
            lambda c, m, o, size, stride=1: 2 * _bottleneck_macs(c, m, o, size, stride),
        ),
        (
            "the shortcut is counted at the input resolution: its 1×1 conv has the block's stride",
            lambda c, m, o, size, stride=1: (
                _bottleneck_macs(c, m, o, size, stride, shortcut=False)
                + (conv_macs(c, o, 1, size) if (stride != 1 or c != o) else 0)
            ),
        ),
    ],
    hint="1×1 (in→mid, stride) + 3×3 (mid→mid, padding 1) + 1×1 (mid→out) [+ 1×1 shortcut in→out with the stride]",
)

# ---------------------------------------------------------------------------------------------
# ex04_bottleneck_block: class Bottleneck(in_channels, mid_channels, out_channels, stride=1)
# ---------------------------------------------------------------------------------------------


class _Bottleneck(nn.Module):
    def __init__(
        self,
        c: int,
        m: int,
        o: int,
        stride: int = 1,
        *,
        stride_on: str = "1x1",
        final_relu: bool = True,
        relu_before_add: bool = False,
    ) -> None:
        super().__init__()
        s1, s2 = (stride, 1) if stride_on == "1x1" else (1, stride)
        self.conv1 = nn.Conv2d(c, m, 1, stride=s1, bias=False)
        self.bn1 = nn.BatchNorm2d(m)
        self.conv2 = nn.Conv2d(m, m, 3, stride=s2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(m)
        self.conv3 = nn.Conv2d(m, o, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(o)
        if stride != 1 or c != o:
            self.shortcut: nn.Module = nn.Sequential(nn.Conv2d(c, o, 1, stride=stride, bias=False), nn.BatchNorm2d(o))
        else:
            self.shortcut = nn.Identity()
        self.final_relu, self.relu_before_add = final_relu, relu_before_add

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        if self.relu_before_add:
            y = torch.relu(y)
        y = y + self.shortcut(x)
        return torch.relu(y) if self.final_relu else y


def _block_case(
    rng: np.random.Generator, c: int, m: int, o: int, stride: int, n: int, h: int, w: int
) -> dict[str, Any]:
    x = torch.from_numpy(rng.standard_normal((n, c, h, w)).astype(np.float32))
    return {"args": [c, m, o, stride], "x": x, "seed": int(rng.integers(2**31))}


def _block_cases() -> list[Case]:
    rng = np.random.default_rng(6)
    return [
        Case("identity shortcut: 16→4→16, stride 1", _block_case(rng, 16, 4, 16, 1, 2, 5, 5)),
        Case("projection shortcut: 8→4→16, stride 2", _block_case(rng, 8, 4, 16, 2, 1, 6, 6)),
    ]


def _block_hidden(rng: np.random.Generator) -> list[Case]:
    """Half the cases need a projection at stride 1 (the widths differ): the branch most often got wrong."""
    return [
        Case("channels change at stride 1 (projection needed)", _block_case(rng, 4, 2, 8, 1, 2, 4, 4)),
        Case("channels shrink at stride 1 (projection needed)", _block_case(rng, 12, 3, 6, 1, 1, 5, 3)),
        Case("wide middle, widths differ, stride 1", _block_case(rng, 4, 8, 6, 1, 1, 3, 3)),
        Case(
            "random widths that differ, stride 1",
            _block_case(rng, int(rng.integers(1, 5)), int(rng.integers(1, 9)), int(rng.integers(5, 13)), 1, 2, 4, 5),
        ),
        Case("stride 2 keeping the width (projection needed)", _block_case(rng, 8, 2, 8, 2, 1, 6, 6)),
        Case("stride 2 on an odd, non-square input", _block_case(rng, 6, 3, 12, 2, 1, 7, 5)),
        Case("1×1 spatial size, identity", _block_case(rng, 8, 2, 8, 1, 2, 1, 1)),
        Case("identity shortcut on a non-square map", _block_case(rng, 6, 2, 6, 1, 1, 3, 5)),
    ]


def _block_key_hint(missing: list[str], unexpected: list[str]) -> str:
    if any(k.startswith("conv") and k.endswith(".bias") for k in unexpected):
        return "convolutions followed by BatchNorm take bias=False (BatchNorm's shift makes the bias redundant)"
    if any(k.startswith("shortcut") for k in missing):
        return (
            "when stride ≠ 1 or in_channels ≠ out_channels the shortcut is nn.Sequential(1×1 conv with the stride and "
            "bias=False, BatchNorm2d(out_channels))"
        )
    if any(k.startswith("shortcut") for k in unexpected):
        return (
            "when stride = 1 and in_channels = out_channels the shortcut is the identity (nn.Identity(), no parameters)"
        )
    return (
        "build the layers the exercise lists: three bias-free convs, each with its BatchNorm, and a shortcut "
        "conv with its BatchNorm only when stride ≠ 1 or the widths differ"
    )


_BOTTLENECK_BLOCK = module_exercise(
    "ex04_bottleneck_block",
    hints=HINTS["ex04_bottleneck_block"],
    difficulty=DIFFICULTY["ex04_bottleneck_block"],
    points=4,
    target="Bottleneck",
    visible=_block_cases,
    hidden=_block_hidden,
    reference=_Bottleneck,
    mistakes=[
        (
            "the final ReLU is missing: out = relu(bn3(conv3(...)) + shortcut(x))",
            lambda *a: _Bottleneck(*a, final_relu=False),
        ),
        (
            "the ReLU comes too early: add the shortcut to bn3's output first, then apply the ReLU",
            lambda *a: _Bottleneck(*a, relu_before_add=True),
        ),
        (
            "the ReLU comes too early: add the shortcut to bn3's output first, then apply the ReLU",
            lambda *a: _Bottleneck(*a, relu_before_add=True, final_relu=False),
        ),
        (
            "the stride is on the 3×3 conv (torchvision's 'ResNet v1.5'); this exercise follows the paper: stride on conv1",
            lambda *a: _Bottleneck(*a, stride_on="3x3"),
        ),
    ],
    key_hint=_block_key_hint,
    hint="relu(bn1(conv1(x))) → relu(bn2(conv2(·))) → bn3(conv3(·)), add shortcut(x), then relu",
    error_hint="the main path and the shortcut must have the same shape to be added: print both shapes (a 1×1 conv takes padding=0, the 3×3 padding=1, and both paths must apply the block's stride)",
)

# ---------------------------------------------------------------------------------------------
# ex04_cheaper_block(width, mid_channels, size) -> ("basic" | "bottleneck", ratio)
# ---------------------------------------------------------------------------------------------


def _basic(width: int, mid: int, size: int) -> int:
    return 2 * conv_macs(width, width, 3, size, padding=1)


def _bottle(width: int, mid: int, size: int) -> int:
    return conv_macs(width, mid, 1, size) + conv_macs(mid, mid, 3, size, padding=1) + conv_macs(mid, width, 1, size)


def _cheaper_ref(width: int, mid: int, size: int) -> tuple[str, float]:
    basic, bottle = _basic(width, mid, size), _bottle(width, mid, size)
    return ("bottleneck", basic / bottle) if bottle < basic else ("basic", bottle / basic)


def _cheaper_cases() -> list[Case]:
    return [
        Case("256 wide, 64 in the middle, 56×56 (ResNet-50 conv2_x)", {"args": [256, 64, 56]}),
        Case("a middle wider than the block", {"args": [16, 64, 8]}),
    ]


def _cheaper_hidden(rng: np.random.Generator) -> list[Case]:
    """Half the cases favour each block, so always naming one of them earns at most half the points."""
    cases = [
        Case("mid = width / 4 (the paper's ratio)", {"args": [512, 128, 28]}),
        Case("mid = width", {"args": [32, 32, 10]}),
        Case("1×1 spatial size", {"args": [64, 16, 1]}),
        Case("mid = 2 × width", {"args": [16, 32, 7]}),
    ]
    while len(cases) < 6:  # narrow middles: the bottleneck wins
        width, size = int(rng.integers(8, 513)), int(rng.integers(1, 57))
        mid = int(rng.integers(1, max(2, width // 2)))
        if _bottle(width, mid, size) < _basic(width, mid, size):
            cases.append(Case(f"a narrow middle #{len(cases) - 3}", {"args": [width, mid, size]}))
    while len(cases) < 10:  # wide middles: the basic block wins
        width, size = int(rng.integers(1, 257)), int(rng.integers(1, 57))
        mid = int(rng.integers(2 * width, 4 * width + 1))
        if _basic(width, mid, size) < _bottle(width, mid, size):
            cases.append(Case(f"a wide middle #{len(cases) - 5}", {"args": [width, mid, size]}))
    return cases


_CHEAPER_BLOCK = function_exercise(
    "ex04_cheaper_block",
    hints=HINTS["ex04_cheaper_block"],
    difficulty=DIFFICULTY["ex04_cheaper_block"],
    points=2,
    target="cheaper_block",
    visible=_cheaper_cases,
    hidden=_cheaper_hidden,
    reference=_cheaper_ref,
    mistakes=[
        (
            "the basic block has TWO 3×3 convolutions (width → width each)",
            lambda w, m, s: (lambda b, n: ("bottleneck", b / n) if n < b else ("basic", n / b))(
                _basic(w, m, s) / 2, _bottle(w, m, s)
            ),
        ),
        (
            "the bottleneck has two 1×1 convolutions (width → mid and mid → width) around its 3×3",
            lambda w, m, s: (lambda b, n: ("bottleneck", b / n) if n < b else ("basic", n / b))(
                _basic(w, m, s), _bottle(w, m, s) - conv_macs(m, w, 1, s)
            ),
        ),
        (
            "the ratio is inverted: divide the costlier block's MACs by the cheaper one's (ratio ≥ 1)",
            lambda w, m, s: (_cheaper_ref(w, m, s)[0], 1 / _cheaper_ref(w, m, s)[1]),
        ),
        (
            "the ratio is a true division: costlier / cheaper with /, not // (which drops the fraction)",
            lambda w, m, s: (
                _cheaper_ref(w, m, s)[0],
                float(max(_basic(w, m, s), _bottle(w, m, s)) // min(_basic(w, m, s), _bottle(w, m, s))),
            ),
        ),
        (
            "you named the costlier block: return the CHEAPER one",
            lambda w, m, s: (
                "basic" if _cheaper_ref(w, m, s)[0] == "bottleneck" else "bottleneck",
                _cheaper_ref(w, m, s)[1],
            ),
        ),
    ],
    hint="basic: two 3×3 convs width→width; bottleneck: 1×1 width→mid, 3×3 mid→mid, 1×1 mid→width; all at size×size",
)

EXERCISES = [_BOTTLENECK_MACS, _BOTTLENECK_BLOCK, _CHEAPER_BLOCK]
