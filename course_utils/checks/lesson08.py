"""Checks for exercises/08_theory_vs_stopwatch.ipynb: arithmetic intensity, the roofline, judging two designs.

Nothing here is timed: every graded answer follows from shapes and given numbers, so verdicts are deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._framework import Case, function_exercise
from ._hints import DIFFICULTY, HINTS

# ---------------------------------------------------------------------------------------------
# ex08_arithmetic_intensity(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0, groups=1,
#                           batch_size=1) -> FLOPs / bytes (float32: 4 bytes per number)
# ---------------------------------------------------------------------------------------------


def _out(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


def _ai(
    c_in: int,
    c_out: int,
    k: int,
    size: int,
    stride: int = 1,
    padding: int = 0,
    groups: int = 1,
    batch: int = 1,
    *,
    flops_per_mac: int = 2,
    bytes_per: int = 4,
    w_groups: bool = True,
    m_groups: bool = True,
    out_size: int | None = None,
    weight_copies: int = 1,
    count_in: bool = True,
    count_w: bool = True,
    count_out: bool = True,
    count_bias: bool = False,
) -> float:
    o = _out(size, k, stride, padding) if out_size is None else out_size
    depth_w = c_in // groups if w_groups else c_in
    depth_m = c_in // groups if m_groups else c_in
    macs = batch * o * o * c_out * depth_m * k * k
    elements = (
        ((batch * c_in * size * size) if count_in else 0)
        + ((c_out * depth_w * k * k * weight_copies) if count_w else 0)
        + ((batch * c_out * o * o) if count_out else 0)
        + (c_out if count_bias else 0)
    )
    return flops_per_mac * macs / (bytes_per * elements)


def _ai_ref(
    c_in: int, c_out: int, k: int, size: int, stride: int = 1, padding: int = 0, groups: int = 1, batch: int = 1
) -> float:
    return _ai(c_in, c_out, k, size, stride, padding, groups, batch)


def _ai_hidden(rng: np.random.Generator) -> list[Case]:
    c = int(rng.choice([32, 64, 96, 128]))
    cases = [
        Case("stride 2 (the output is smaller than the input)", {"args": [c, 2 * c, 3, 28, 2, 1, 1, 4]}),
        Case("a 1×1 conv", {"args": [int(rng.integers(16, 1025)), int(rng.integers(16, 1025)), 1, 14, 1, 0, 1, 8]}),
        Case("a grouped conv, groups=4", {"args": [4 * c, 4 * c, 3, 14, 1, 1, 4, 2]}),
        Case("batch of 1 (weights weigh the most)", {"args": [512, 512, 3, 7, 1, 1, 1, 1]}),
        Case("a grouped 1×1 conv, groups=8, stride 2", {"args": [8 * c, 16 * c, 1, 28, 2, 0, 8, 2]}),
        Case(
            "no padding: the output shrinks (groups=3)",
            {"args": [3 * int(rng.integers(1, 22)), 3 * int(rng.integers(1, 22)), 5, 20, 1, 0, 3, 2]},
        ),
        Case("a depthwise 5×5 conv at stride 2", {"args": [c, c, 5, 28, 2, 2, c, 8]}),
    ]
    for i in range(2):  # a grouped layer and a plain one, so that half the hidden cases have groups > 1
        k = int(rng.choice([1, 3, 5]))
        cases.append(
            Case(
                f"random layer #{i + 1}",
                {
                    "args": [
                        2 * int(rng.integers(1, 129)),
                        2 * int(rng.integers(1, 129)),
                        k,
                        int(rng.integers(k + 2, 60)),
                        int(rng.integers(1, 3)),
                        k // 2,
                        1 if i else 2,
                        int(rng.integers(1, 17)),
                    ]
                },
            )
        )
    return cases


_INTENSITY = function_exercise(
    "ex08_arithmetic_intensity",
    hints=HINTS["ex08_arithmetic_intensity"],
    difficulty=DIFFICULTY["ex08_arithmetic_intensity"],
    points=3,
    target="arithmetic_intensity",
    visible=lambda: [
        Case("the lesson's 3×3 conv 256 → 256 on 28×28, batch 8", {"args": [256, 256, 3, 28, 1, 1, 1, 8]}),
        Case(
            "the lesson's 3×3 depthwise conv, 256 channels on 28×28, batch 8", {"args": [256, 256, 3, 28, 1, 1, 256, 8]}
        ),
        Case("a 1×1 conv 64 → 32 on a 2×2 map, one image", {"args": [64, 32, 1, 2, 1, 0, 1, 1]}),
    ],
    hidden=_ai_hidden,
    reference=_ai_ref,
    mistakes=[
        ("one MAC is two FLOPs (a multiply and an add): FLOPs = 2·MACs", lambda *a: _ai(*a, flops_per_mac=1)),
        (
            "float32 takes 4 bytes per number: bytes = 4 · (numbers read + numbers written)",
            lambda *a: _ai(*a, bytes_per=1),
        ),
        (
            "groups is ignored: a grouped conv's weight is (C_out, C_in/groups, K, K) and each output needs C_in/groups·K² MACs",
            lambda *a: _ai(*a, w_groups=False, m_groups=False),
        ),
        (
            "the weight tensor of a grouped conv is (C_out, C_in/groups, K, K): count C_in/groups, not C_in, in the bytes",
            lambda *a: _ai(*a, w_groups=False),
        ),
        (
            "the output has H_out × W_out pixels: stride and padding change it",
            lambda c_in, c_out, k, size, s=1, p=0, g=1, n=1: _ai(c_in, c_out, k, size, s, p, g, n, out_size=size),
        ),
        (
            "the weights are read once per batch, not once per image",
            lambda c_in, c_out, k, size, s=1, p=0, g=1, n=1: _ai(c_in, c_out, k, size, s, p, g, n, weight_copies=n),
        ),
        ("bytes = input + weights + output: the output is written once too", lambda *a: _ai(*a, count_out=False)),
        (
            "the biases are not part of this count (the task's bytes are input + weights + output)",
            lambda *a: _ai(*a, count_bias=True),
        ),
        ("bytes = input + weights + output: the weights are read too", lambda *a: _ai(*a, count_w=False)),
        ("bytes = input + weights + output: the input is read too", lambda *a: _ai(*a, count_in=False)),
    ],
    hint="FLOPs = 2·N·H_out·W_out·C_out·(C_in/groups)·K²; bytes = 4·(N·C_in·H·W + C_out·(C_in/groups)·K² + N·C_out·H_out·W_out)",
    rtol=1e-9,  # the value is exact arithmetic on integers: a tolerance must not hide a few extra bytes
    atol=0.0,
)

# ---------------------------------------------------------------------------------------------
# ex08_roofline(intensity, peak_gflops, bandwidth_gbs) -> {"attainable": GFLOP/s, "bound": "memory" | "compute"}
# ---------------------------------------------------------------------------------------------


def _roof_ref(intensity: float, peak: float, bandwidth: float) -> dict[str, Any]:
    return {
        "attainable": float(min(peak, bandwidth * intensity)),
        "bound": "memory" if bandwidth * intensity < peak else "compute",
    }


def _roof_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case("exactly at the ridge point: compute-bound", {"args": [4.0, 100.0, 25.0]}),
        Case(
            "a depthwise conv on a laptop", {"args": [2.2, float(rng.integers(50, 200)), float(rng.integers(10, 40))]}
        ),
        Case(
            "very high intensity",
            {"args": [float(rng.integers(200, 1000)), float(rng.integers(20, 200)), float(rng.integers(5, 50))]},
        ),
        Case(
            "very low intensity",
            {"args": [float(rng.uniform(0.05, 0.5)), float(rng.integers(20, 200)), float(rng.integers(5, 50))]},
        ),
    ]
    for i in range(4):  # two on each side of the ridge point
        peak, bandwidth = float(rng.uniform(10, 500)), float(rng.uniform(5, 100))
        ridge = peak / bandwidth
        intensity = ridge * float(rng.uniform(1.2, 20)) if i % 2 else ridge * float(rng.uniform(0.05, 0.8))
        cases.append(
            Case(
                f"random machine and layer #{i + 1} ({'compute' if i % 2 else 'memory'}-bound)",
                {"args": [intensity, peak, bandwidth]},
            )
        )
    return cases


_ROOFLINE = function_exercise(
    "ex08_roofline",
    hints=HINTS["ex08_roofline"],
    difficulty=DIFFICULTY["ex08_roofline"],
    points=2,
    target="roofline",
    visible=lambda: [
        Case("memory-bound: 2 FLOP/byte, peak 100 GFLOP/s, 20 GB/s", {"args": [2.0, 100.0, 20.0]}),
        Case("compute-bound: 50 FLOP/byte, peak 100 GFLOP/s, 20 GB/s", {"args": [50.0, 100.0, 20.0]}),
    ],
    hidden=_roof_hidden,
    reference=_roof_ref,
    mistakes=[
        (
            "the roof is the LOWER of the two ceilings: attainable = min(peak, bandwidth · intensity)",
            lambda i, p, b: {"attainable": float(max(p, b * i)), "bound": _roof_ref(i, p, b)["bound"]},
        ),
        (
            "GB/s × FLOP/byte = GFLOP/s: the memory roof is bandwidth · intensity, not bandwidth / intensity",
            lambda i, p, b: {"attainable": float(min(p, b / i)), "bound": "memory" if b / i < p else "compute"},
        ),
        (
            "the labels are swapped: below the ridge point (bandwidth · intensity < peak) a layer is memory-bound",
            lambda i, p, b: {
                "attainable": _roof_ref(i, p, b)["attainable"],
                "bound": "compute" if _roof_ref(i, p, b)["bound"] == "memory" else "memory",
            },
        ),
        (
            "exactly at the ridge point both roofs meet: the rule says 'compute' when bandwidth · intensity ≥ peak",
            lambda i, p, b: {
                "attainable": _roof_ref(i, p, b)["attainable"],
                "bound": "memory" if b * i <= p else "compute",
            },
        ),
    ],
    hint="attainable = min(peak_gflops, bandwidth_gbs · intensity); bound = 'memory' if bandwidth_gbs · intensity < peak_gflops "
    "else 'compute'",
)

# ---------------------------------------------------------------------------------------------
# ex08_compare_designs(design_a, design_b, input_size) -> {"cheaper": "a" | "b" | "tie", "factor": float ≥ 1}
#   design: list of conv layers (in_channels, out_channels, kernel_size, stride, groups), padding kernel_size // 2,
#   applied in sequence to a square input_size × input_size map (one image).
# ---------------------------------------------------------------------------------------------
_Layer = tuple[int, int, int, int, int]  # (in_channels, out_channels, kernel_size, stride, groups)


def _design_macs(
    design: Sequence[_Layer], size: int, *, strides: bool = True, groups: bool = True, out_rule: str = "exact"
) -> int:
    total = 0
    for c_in, c_out, k, s, g in design:
        depth = c_in // g if groups else c_in
        if not strides:
            out = size
        elif out_rule == "floor":
            out = size // s
        else:
            out = (size + 2 * (k // 2) - k) // s + 1
        total += out * out * c_out * depth * k * k
        size = out
    return total


def _verdict(
    macs_a: int,
    macs_b: int,
    *,
    inverted: bool = False,
    tie_as_a: bool = False,
    costlier: bool = False,
    floor_division: bool = False,
) -> dict[str, Any]:
    if macs_a == macs_b and not tie_as_a:
        return {"cheaper": "tie", "factor": 1.0}
    cheaper = "a" if (macs_a <= macs_b if tie_as_a else macs_a < macs_b) else "b"
    if costlier:
        cheaper = "b" if cheaper == "a" else "a"
    factor = max(macs_a, macs_b) / min(macs_a, macs_b)
    if floor_division:
        factor = float(max(macs_a, macs_b) // min(macs_a, macs_b))
    return {"cheaper": cheaper, "factor": 1 / factor if inverted else factor}


def _cmp_ref(a: Sequence[_Layer], b: Sequence[_Layer], size: int) -> dict[str, Any]:
    return _verdict(_design_macs(a, size), _design_macs(b, size))


def _random_chain(rng: np.random.Generator, c_in: int, layers: int) -> list[tuple[int, int, int, int, int]]:
    chain = []
    for _ in range(layers):
        g = int(rng.choice([1, 1, 2, 4]))
        g = g if c_in % g == 0 else 1
        c_out = g * int(rng.integers(2, 17))
        chain.append((c_in, c_out, int(rng.choice([1, 3, 5])), int(rng.choice([1, 1, 2])), g))
        c_in = c_out
    return chain


def _cmp_hidden(rng: np.random.Generator) -> list[Case]:
    c = int(rng.choice([32, 64, 128]))
    cases = [
        Case(
            "fewer parameters but more MACs (stride matters)", {"args": [[(16, 16, 3, 1, 1)], [(16, 64, 3, 4, 1)], 32]}
        ),
        Case(
            "downsample first or last",
            {"args": [[(c, c, 3, 1, 1), (c, c, 3, 2, 1)], [(c, c, 3, 2, 1), (c, c, 3, 1, 1)], 28]},
        ),
        Case("a grouped conv against the dense one", {"args": [[(c, c, 3, 1, 1)], [(c, c, 3, 1, 8)], 14]}),
        Case(
            "the same MACs: a tie",
            {"args": [[(c, 2 * c, 1, 1, 1), (2 * c, c, 3, 1, 1)], [(c, 2 * c, 3, 1, 1), (2 * c, c, 1, 1, 1)], 14]},
        ),
        Case(
            "odd map size with stride 2",
            {"args": [[(8, 16, 3, 2, 1), (16, 16, 3, 1, 1)], [(8, 16, 3, 1, 1), (16, 16, 3, 2, 1)], 7]},
        ),
    ]
    for i in range(3):
        c_in = int(rng.integers(2, 65))
        cases.append(
            Case(
                f"random designs #{i + 1}",
                {
                    "args": [
                        _random_chain(rng, c_in, int(rng.integers(1, 4))),
                        _random_chain(rng, c_in, int(rng.integers(1, 4))),
                        int(rng.integers(5, 57)),
                    ]
                },
            )
        )
    return cases


_COMPARE = function_exercise(
    "ex08_compare_designs",
    hints=HINTS["ex08_compare_designs"],
    difficulty=DIFFICULTY["ex08_compare_designs"],
    points=3,
    target="compare_designs",
    visible=lambda: [
        Case(
            "3×3 conv 256 → 256 vs depthwise-separable, on 28×28",
            {"args": [[(256, 256, 3, 1, 1)], [(256, 256, 3, 1, 256), (256, 256, 1, 1, 1)], 28]},
        ),
        Case(
            "Inception's 5×5 192 → 32 vs a 16-channel 1×1 reduction first, on 28×28",
            {"args": [[(192, 32, 5, 1, 1)], [(192, 16, 1, 1, 1), (16, 32, 5, 1, 1)], 28]},
        ),
    ],
    hidden=_cmp_hidden,
    reference=_cmp_ref,
    mistakes=[
        # comparing parameters and ignoring the strides give the same verdict (MACs would be S²·params): one hint
        (
            "you compared parameters, or ignored the strides: MACs scale with each layer's output size H_out·W_out, "
            "and a stride-s layer shrinks the map for itself and every later layer",
            lambda a, b, s: _verdict(_design_macs(a, s, strides=False), _design_macs(b, s, strides=False)),
        ),
        (
            "with padding kernel_size // 2 the output size is (H − 1) // stride + 1 (7 → 4 at stride 2), not H // stride",
            lambda a, b, s: _verdict(_design_macs(a, s, out_rule="floor"), _design_macs(b, s, out_rule="floor")),
        ),
        (
            "groups is ignored: a grouped conv costs (C_in/groups)·K²·C_out MACs per output pixel",
            lambda a, b, s: _verdict(_design_macs(a, s, groups=False), _design_macs(b, s, groups=False)),
        ),
        (
            "factor = MACs of the costlier design ÷ MACs of the cheaper one, so it is at least 1",
            lambda a, b, s: _verdict(_design_macs(a, s), _design_macs(b, s), inverted=True),
        ),
        (
            "the factor is a true division: costlier / cheaper with /, not // (which drops the fraction)",
            lambda a, b, s: _verdict(_design_macs(a, s), _design_macs(b, s), floor_division=True),
        ),
        (
            "'cheaper' must name the design with FEWER MACs",
            lambda a, b, s: _verdict(_design_macs(a, s), _design_macs(b, s), costlier=True),
        ),
        (
            "equal MACs are a tie: answer 'tie' with factor 1.0",
            lambda a, b, s: _verdict(_design_macs(a, s), _design_macs(b, s), tie_as_a=True),
        ),
    ],
    hint="sum H_out·W_out·C_out·(C_in/groups)·K² over each design's layers, tracking the map size; compare the two sums",
    error_hint="each layer is a tuple (in_channels, out_channels, kernel_size, stride, groups); return a dict "
    "{'cheaper': 'a' | 'b' | 'tie', 'factor': float}",
)

EXERCISES = [_INTENSITY, _ROOFLINE, _COMPARE]
