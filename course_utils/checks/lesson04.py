"""Checks for exercises/04_resnet_bottleneck.ipynb: a bottleneck block's MACs, the block itself, and a bug that
circulates in teaching code (a shortcut that adds the identity when the widths differ)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..counting import conv_macs, conv_output_size
from ._framework import (
    UNKNOWN_MISTAKE,
    UNKNOWN_MISTAKE_HIDDEN,
    Case,
    Exercise,
    Failure,
    compare,
    function_exercise,
    module_exercise,
    shape_hint,
)

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
# ex04_shortcut_bug: make_shortcut(in_channels, out_channels, stride) -> nn.Module
#   fix the bug: a circulating bottleneck keeps the identity shortcut whenever the block is not strided, so it
#   adds x (in_channels wide) to a main path out_channels wide. x: (N, C_in, H, W) -> (N, C_out, H_out, W_out)
# ---------------------------------------------------------------------------------------------

#: Build the learner's shortcut, fill its floating-point state with seeded values (so BatchNorm's statistics and
#: scale matter), run it in eval mode on x, and return what it computed with its state and parameter count. A case
#: holds one block (``args``, ``x``, ``seed``) or a sequence of them (``blocks``, like a network's stages).
SHORTCUT_ADAPTER = r"""
def _shortcut_block(obj, block):
    module, out, state = build_seeded(obj, block["args"], block["x"], block["seed"])
    return {"out": out, "state": state, "n_params": int(sum(p.numel() for p in module.parameters()))}


def adapter(obj, case):
    if "blocks" in case:
        return [_shortcut_block(obj, block) for block in case["blocks"]]
    return _shortcut_block(obj, case)
"""

SHORTCUT_BUG_HINT = (
    "that is the bug itself: at stride 1 with in_channels ≠ out_channels your shortcut is the identity, so it "
    "returns x with in_channels channels while the main path has out_channels; the shortcut must project "
    "whenever the shapes differ, not only when the block is strided"
)
SHORTCUT_STRIDE_HINT = (
    "a strided block halves H and W on the main path even when the widths match: the identity keeps them, so "
    "project whenever stride ≠ 1 OR the widths differ"
)
SHORTCUT_NO_STRIDE_HINT = (
    "the projection ignores the stride: its 1×1 conv must carry the block's stride (stride=stride) so that x "
    "shrinks to the main path's H_out × W_out"
)
SHORTCUT_ALWAYS_HINT = (
    "the shapes already match here (in_channels = out_channels, stride 1), yet your shortcut has parameters: a "
    "projection there is wasteful (in·out + 2·out parameters and in·out MACs per pixel for nothing) and the block "
    "loses its clean identity path; return nn.Identity()"
)
SHORTCUT_3X3_HINT = (
    "the projection is a 1×1 conv: a 3×3 kernel costs 9× the weights and MACs, and mixes neighbouring pixels "
    "into what should only change the channel count (and the sampling grid)"
)
SHORTCUT_BIAS_HINT = (
    "the projection's conv has a bias although BatchNorm follows: BatchNorm subtracts the channel mean, so the "
    "bias cancels out (out_channels wasted parameters); create the conv with bias=False"
)
SHORTCUT_NO_BN_HINT = (
    "the projection's BatchNorm is missing: follow the 1×1 conv with nn.BatchNorm2d(out_channels), as on the main "
    "path, so the two summands are normalised alike"
)
SHORTCUT_RELU_HINT = "the shortcut has no ReLU: the block's ReLU comes after the addition"
SHORTCUT_OPTION_A_HINT = (
    "your shortcut reaches the right shape without parameters (option A of the paper: subsample, zero-pad the "
    "channels); this exercise asks for option B, a learned 1×1 conv with the stride, then BatchNorm"
)


def _shortcut_block(
    rng: np.random.Generator, c_in: int, c_out: int, stride: int, n: int, h: int, w: int
) -> dict[str, Any]:
    x = torch.from_numpy(rng.standard_normal((n, c_in, h, w)).astype(np.float32))
    return {"args": [c_in, c_out, stride], "x": x, "seed": int(rng.integers(2**31))}


def _shortcut_cases() -> list[Case]:
    """The buggy code runs on the first and third case and fails on the second (a stage's first block)."""
    rng = np.random.default_rng(4)
    return [
        Case("a stage's later block: 256 → 256, stride 1", _shortcut_block(rng, 256, 256, 1, 1, 4, 4)),
        Case("conv2_x's first block: 64 → 256, stride 1", _shortcut_block(rng, 64, 256, 1, 2, 5, 5)),
        Case("conv3_x's first block: 256 → 512, stride 2", _shortcut_block(rng, 256, 512, 2, 1, 6, 6)),
    ]


def _shortcut_hidden(rng: np.random.Generator) -> list[Case]:
    """Ten short networks of three blocks, as in ResNet's stages: a first block that changes the width at stride 1
    (five cases) or keeps it at stride 2 (five), then a wider or narrower block at stride 2, then a block that keeps
    its shape. Every case needs both an identity and a projection, so a shortcut wrong on any one of the four
    branches fails at least half the cases."""

    def width() -> int:
        return int(rng.integers(1, 33))

    def size() -> int:
        return int(rng.integers(1, 10))

    def network(first: tuple[int, int, int, int, int, int]) -> dict[str, Any]:
        c_in, c_out, stride, n, h, w = first
        c_next = c_out * 2 if int(rng.integers(2)) else max(1, c_out // 2)
        if c_next == c_out:
            c_next = c_out + 1
        h2, w2 = (h - 1) // stride + 1, (w - 1) // stride + 1
        h3, w3 = (h2 - 1) // 2 + 1, (w2 - 1) // 2 + 1
        blocks = [
            _shortcut_block(rng, c_in, c_out, stride, n, h, w),
            _shortcut_block(rng, c_out, c_next, 2, n, h2, w2),
            _shortcut_block(rng, c_next, c_next, 1, n, h3, w3),
        ]
        return {"blocks": blocks}

    def other_width(c: int) -> int:
        c_out = width()
        return c_out if c_out != c else c + 1

    then = ", then a stride-2 block and an identity"
    c1, c2 = width(), width()
    return [
        Case("widths differ at stride 1: 4× wider" + then, network((8, 32, 1, 2, 5, 3))),
        Case("widths differ at stride 1: narrower" + then, network((24, 6, 1, 1, 4, 4))),
        Case("widths differ at stride 1: one input channel" + then, network((1, 4, 1, 3, 3, 5))),
        Case("widths differ at stride 1: a 1×1 map" + then, network((6, 12, 1, 2, 1, 1))),
        Case("widths differ at stride 1, random sizes" + then, network((c1, other_width(c1), 1, 2, size(), size()))),
        Case("same width at stride 2, odd sizes" + then, network((8, 8, 2, 2, 7, 5))),
        Case("same width at stride 2, non-square" + then, network((12, 12, 2, 1, 4, 9))),
        Case("same width at stride 2, a 2×2 map" + then, network((5, 5, 2, 3, 2, 2))),
        Case("same width at stride 2, random sizes #1" + then, network((c2, c2, 2, 1, size() + 1, size() + 1))),
        Case("same width at stride 2, random sizes #2" + then, network((c1, c1, 2, 2, size() + 1, size()))),
    ]


def _branch(c_in: int, c_out: int, stride: int) -> str:
    """What a block's shortcut must do, in words (a hidden case's feedback names this, never its data)."""
    if stride == 1:
        return "same width, stride 1: the identity" if c_in == c_out else "widths differ at stride 1"
    return "same width, stride 2" if c_in == c_out else "widths differ, stride 2"


def _needs_projection(c_in: int, c_out: int, stride: int) -> bool:
    return stride != 1 or c_in != c_out


def _projection_parts(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor] | None:
    """The conv weight and BatchNorm entries of a 1×1 conv + BN projection, read by kind and rank (any layout)."""
    parts: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        kind = key.rsplit(".", 1)[-1]
        role = {
            ("weight", 4): "conv",
            ("weight", 1): "gamma",
            ("bias", 1): "beta",
            ("running_mean", 1): "mean",
            ("running_var", 1): "var",
        }.get((kind, tensor.dim()))
        if role is None:
            continue
        if role in parts:
            return None
        parts[role] = tensor
    return parts if set(parts) == {"conv", "gamma", "beta", "mean", "var"} else None


def _project(x: torch.Tensor, parts: dict[str, torch.Tensor], stride: int, order: str = "conv-bn") -> torch.Tensor:
    """What a 1×1 conv (with the stride) then BatchNorm in eval mode computes with the learner's tensors."""

    def conv(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, parts["conv"], stride=stride)

    def bn(t: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(t, parts["mean"], parts["var"], parts["gamma"], parts["beta"], training=False)

    return conv(bn(x)) if order == "bn-conv" else bn(conv(x))


def _shortcut_shape_failure(
    x: torch.Tensor, out: torch.Tensor, expected: tuple[int, ...], n_params: int, stride: int
) -> Failure:
    """A wrong output shape of a shortcut that should project: which of the known mistakes it shows."""
    received = tuple(out.shape)
    failure = Failure("wrong output shape", str(expected), str(received))
    kept_x = received == tuple(x.shape) and n_params == 0
    if kept_x and stride == 1:
        failure.hint = SHORTCUT_BUG_HINT
    elif kept_x and received[1] == expected[1]:
        failure.hint = SHORTCUT_STRIDE_HINT
    elif kept_x:
        failure.hint = "the shortcut returns x as it is, but both the width and the stride change here: project"
    elif received[:2] == expected[:2] and received[2:] == tuple(x.shape[2:]):
        failure.hint = SHORTCUT_NO_STRIDE_HINT
    else:
        failure.hint = shape_hint(expected, received)
    return failure


def _shortcut_judge(case: Case, received: Any) -> Failure | None:
    """One block, or each block of a short network in turn (the first failing block is reported by its branch)."""
    if "blocks" not in case.data:
        return _judge_block(case.data, received, case.hidden)
    blocks = case.data["blocks"]
    if not isinstance(received, list) or len(received) != len(blocks):
        return Failure("the shortcuts could not be run", hint="make_shortcut must return an nn.Module")
    for i, (block, result) in enumerate(zip(blocks, received, strict=True)):
        failure = _judge_block(block, result, case.hidden)
        if failure is not None:
            failure.what = f"block {i + 1} of {len(blocks)} ({_branch(*block['args'])}): {failure.what}"
            return failure
    return None


def _judge_block(block: dict[str, Any], received: Any, hidden: bool) -> Failure | None:
    if not isinstance(received, dict) or not isinstance(received.get("out"), torch.Tensor):
        return Failure(
            "the shortcut could not be run",
            hint="make_shortcut must return an nn.Module whose forward returns a tensor",
        )
    c_in, c_out, stride = block["args"]
    x, out, state = block["x"], received["out"], received.get("state", {})
    n_params = int(received.get("n_params", 0))
    n, _, h, w = x.shape
    expected = (n, c_out, (h - 1) // stride + 1, (w - 1) // stride + 1)
    if not _needs_projection(c_in, c_out, stride):
        if n_params:
            return Failure(
                f"the shortcut has {n_params:,} parameters where the shapes already match",
                "0",
                str(n_params),
                SHORTCUT_ALWAYS_HINT,
            )
        if tuple(out.shape) != expected:
            return Failure(
                "wrong output shape", str(expected), str(tuple(out.shape)), shape_hint(expected, tuple(out.shape))
            )
        failure = compare(x, out, rtol=0, atol=0)
        if failure is not None:
            failure.what = "the identity must return x's values unchanged: " + failure.what
            failure.hint = (
                SHORTCUT_RELU_HINT
                if compare(torch.relu(x), out) is None
                else "where the shapes match, the shortcut is nn.Identity(): no parameters, no buffers, x as it is"
            )
        return failure
    if tuple(out.shape) != expected:
        return _shortcut_shape_failure(x, out, expected, n_params, stride)
    expected_params = c_in * c_out + 2 * c_out
    convs = [t for key, t in state.items() if key.endswith("weight") and t.dim() == 4]
    if not convs:
        return Failure(
            "the shortcut has no convolution",
            f"{expected_params:,} parameters",
            f"{n_params:,}",
            SHORTCUT_OPTION_A_HINT,
        )
    if any(tuple(t.shape[2:]) != (1, 1) for t in convs):
        wide = next(t for t in convs if tuple(t.shape[2:]) != (1, 1))
        return Failure(
            "the projection's kernel is not 1×1",
            f"weight {(c_out, c_in, 1, 1)}",
            f"weight {tuple(wide.shape)}",
            SHORTCUT_3X3_HINT,
        )
    if not any(key.endswith("running_mean") for key in state):
        return Failure(
            "the projection has no BatchNorm", f"{expected_params:,} parameters", f"{n_params:,}", SHORTCUT_NO_BN_HINT
        )
    if n_params == expected_params + c_out:
        return Failure(f"{c_out} parameters too many", f"{expected_params:,}", f"{n_params:,}", SHORTCUT_BIAS_HINT)
    if n_params != expected_params:
        return Failure(
            "wrong parameter count",
            f"{expected_params:,} (1×1 conv: in·out = {c_in * c_out:,}, BatchNorm: 2·out = {2 * c_out})",
            f"{n_params:,}",
            "the projection is exactly nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False) then "
            "nn.BatchNorm2d(out_channels)",
        )
    parts = _projection_parts(state)
    if parts is None or tuple(parts["conv"].shape) != (c_out, c_in, 1, 1):
        return Failure(
            "the shortcut's layers are not one 1×1 conv and one BatchNorm",
            hint="the projection is nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, "
            "bias=False), nn.BatchNorm2d(out_channels))",
        )
    failure = compare(_project(x, parts, stride), out)
    if failure is None:
        return None
    variants: list[tuple[str, Callable[[], torch.Tensor]]] = [
        (SHORTCUT_RELU_HINT, lambda: torch.relu(_project(x, parts, stride))),
        (
            "the BatchNorm comes after the conv, as on the main path (conv, then BatchNorm)",
            lambda: _project(x, parts, stride, order="bn-conv"),
        ),
    ]
    for variant_hint, variant in variants:
        try:
            value = variant()
        except RuntimeError:
            continue
        if compare(value, out) is None:
            failure.hint = variant_hint
            return failure
    failure.hint = UNKNOWN_MISTAKE_HIDDEN if hidden else UNKNOWN_MISTAKE
    return failure


_SHORTCUT_BUG = Exercise(
    "ex04_shortcut_bug",
    2,
    "make_shortcut",
    SHORTCUT_ADAPTER,
    _shortcut_cases,
    _shortcut_hidden,
    _shortcut_judge,
    error_hint="the shortcut raised on a valid input: it takes x of shape (N, in_channels, H, W); print the shape "
    "after each of its layers",
)

EXERCISES = [_BOTTLENECK_MACS, _BOTTLENECK_BLOCK, _SHORTCUT_BUG]  # counting, implementing, a bug to fix
