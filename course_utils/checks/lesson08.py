"""Checks for exercises/08_theory_vs_stopwatch.ipynb: the batch that reaches the ridge, the roofline, predict-then-time.

Exercises 1 and 2 follow from shapes and given numbers, so their verdicts are deterministic. Exercise 3 is judged
against a measurement made where the check runs (the learner's kernel at home, the grader's process when grading):
the MAC ratio exactly, the predicted words within bands wide enough for any ordinary CPU (see ``FASTER_BAND``).
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import bench
from ._framework import Case, Failure, describe, function_exercise


# ---------------------------------------------------------------------------------------------
# ex08_batch_to_be_compute_bound(in_channels, out_channels, height, width, peak_gflops, bandwidth_gbs)
#   -> the smallest batch N ≥ 1 at which a 1×1 conv C_in → C_out (no bias, float32) on (N, C_in, H, W) reaches the
#   ridge point peak_gflops / bandwidth_gbs FLOPs per byte (exactly at the ridge counts), or None if no N does.
#   intensity(N) = 2·N·H·W·C_in·C_out / (4·(N·H·W·(C_in + C_out) + C_in·C_out)): the weights are read once per batch,
#   so it rises with N, towards C_in·C_out / (2·(C_in + C_out)), each pixel's work over its own reads and writes.
#   The arguments are all numbers: nothing can be changed in place (the mutation test skips this exercise).
# ---------------------------------------------------------------------------------------------
def _ridge(peak_gflops: float, bandwidth_gbs: float) -> Fraction:
    """peak ÷ bandwidth, exactly (GFLOP/s ÷ GB/s = FLOPs per byte)."""
    return Fraction(peak_gflops) / Fraction(bandwidth_gbs)


def _ceiling(c_in: int, c_out: int) -> float:
    """The intensity as the batch grows without bound: each pixel's FLOPs over its own input and output bytes."""
    return c_in * c_out / (2 * (c_in + c_out))


def _smallest_batch(
    c_in: int,
    c_out: int,
    height: int,
    width: int,
    peak: float,
    bandwidth: float,
    *,
    flops_per_mac: int = 2,
    bytes_per: int = 4,
    weights_per_image: bool = False,
    bias_bytes: bool = False,
    ridge_inverted: bool = False,
) -> int | None:
    """The first N with intensity(N) ≥ ridge, solved exactly in rationals (the keywords model known mistakes).

    intensity(N) ≥ R  ⇔  N · (f·P·C_in·C_out − R·b·(P·(C_in + C_out) + [C_in·C_out per image]))
                          ≥ R·b·([C_in·C_out once per batch] + [C_out biases])
    """
    ridge = _ridge(bandwidth, peak) if ridge_inverted else _ridge(peak, bandwidth)
    pixels, weights = height * width, c_in * c_out
    gain = flops_per_mac * pixels * weights - ridge * bytes_per * (
        pixels * (c_in + c_out) + weights * weights_per_image
    )
    need = ridge * bytes_per * (weights * (not weights_per_image) + c_out * bias_bytes)
    if gain <= 0:
        return 1 if gain == 0 and need <= 0 else None
    return max(1, math.ceil(need / gain))


def _batch_answer(batch: int | None, args: Sequence[Any]) -> dict[str, Any]:
    return {"batch": batch, "args": list(args)}


def _batch_ref(*args: Any) -> dict[str, Any]:
    return _batch_answer(_smallest_batch(*args), args)


def _batch_expected_text(expected: dict[str, Any]) -> str:
    """What was expected, and why: the intensities either side of the answer, or the ceiling below the ridge."""
    c_in, c_out, height, width, peak, bandwidth = expected["args"]
    ridge, batch = float(_ridge(peak, bandwidth)), expected["batch"]
    if batch is None:
        return (
            f"None: the ridge is {ridge:.4g} FLOPs per byte, but however large the batch, the intensity stays below "
            f"{_ceiling(c_in, c_out):.4g}: a bigger batch shares the weights' bytes among more images, yet every "
            f"pixel still reads its {c_in} input numbers and writes its {c_out} outputs for only "
            f"{2 * c_in * c_out:,} FLOPs"
        )
    if batch < 1:  # a known mistake's answer (one below batch 1): nothing to explain
        return str(batch)
    at = bench.conv_arithmetic_intensity(c_in, c_out, 1, (height, width), batch_size=batch)
    text = f"{batch}: at batch {batch} the intensity is {at:.4g} FLOPs per byte ≥ the ridge {ridge:.4g}"
    if batch == 1:
        return text + " (already at one image)"
    before = bench.conv_arithmetic_intensity(c_in, c_out, 1, (height, width), batch_size=batch - 1)
    return text + f"; at batch {batch - 1} it is {before:.4g}, below"


def _whole_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and float(value).is_integer()
    )


def _batch_compare(expected: dict[str, Any], received: Any) -> Failure | None:
    """The batch size exactly (an int, or a whole-number float), or None exactly when no batch reaches the ridge."""
    batch = expected["batch"]
    if received is None:
        if batch is None:
            return None
        return Failure("wrong value: some batch size does reach the ridge", _batch_expected_text(expected), "None")
    if batch is not None and _whole_number(received) and int(received) == batch:
        return None  # (the first test, so that a known mistake's batch 0 matches a learner's 0)
    if not _whole_number(received) or received < 1:
        return Failure(
            f"expected a batch size (a whole number ≥ 1) or None, got {describe(received)}",
            _batch_expected_text(expected),
            describe(received),
            hint="when no batch size reaches the ridge, return None (not inf, 0 or -1); otherwise an int ≥ 1",
        )
    return Failure("wrong value", _batch_expected_text(expected), describe(received))


def _clear(args: Sequence[Any]) -> bool:
    """No tie within float precision: the ceiling is not at the ridge and the exact threshold is not a whole number
    (a learner's float arithmetic must give the same answer as the exact one)."""
    c_in, c_out, height, width, peak, bandwidth = args
    ridge, pixels = _ridge(peak, bandwidth), height * width
    gain = pixels * (c_in * c_out - 2 * ridge * (c_in + c_out))
    if abs(gain) <= Fraction(1, 10**6) * pixels * c_in * c_out:
        return False
    if gain < 0:
        return True
    threshold = 2 * ridge * c_in * c_out / gain
    return threshold < 1 - Fraction(1, 10**6) or abs(threshold - round(threshold)) > Fraction(1, 10**6) * threshold


def _batch_draw(rng: np.random.Generator, regime: str) -> list[Any]:
    """A layer and a machine whose answer is in ``regime``: 'one' (batch 1), 'more' (2 to 400) or 'never'."""
    for _ in range(10_000):
        if regime == "never":
            c_in, c_out = int(rng.integers(4, 97)), int(rng.integers(4, 97))
        else:
            c_in, c_out = int(rng.choice([64, 128, 256, 384, 512, 768, 1024])), int(rng.integers(64, 2049))
        height, width = (
            (1, int(rng.integers(1, 5))) if regime == "more" else (int(rng.integers(3, 30)), int(rng.integers(3, 30)))
        )
        peak, bandwidth = float(rng.integers(50, 2001)), float(rng.integers(10, 201))
        args: list[Any] = [c_in, c_out, height, width, peak, bandwidth]
        batch = _smallest_batch(c_in, c_out, height, width, peak, bandwidth)
        in_regime = {"one": batch == 1, "more": batch is not None and 2 <= batch <= 400, "never": batch is None}
        if in_regime[regime] and _clear(args):
            return args
    raise RuntimeError(f"no {regime!r} case drawn")  # pragma: no cover - the ranges above always have them


def _batch_visible() -> list[Case]:
    return [
        Case(
            "ResNet-50's 1×1 conv 1024 → 256 on a 14×14 map, a laptop: 200 GFLOP/s, 20 GB/s",
            {"args": [1024, 256, 14, 14, 200.0, 20.0]},
        ),
        Case(
            "a Transformer MLP's first Linear 768 → 3072 (a 1×1 conv) on one token per sequence, as when generating "
            "text: 600 GFLOP/s, 50 GB/s",
            {"args": [768, 3072, 1, 1, 600.0, 50.0]},
        ),
        Case(
            "a thin 1×1 conv 24 → 32 on a 56×56 map, 400 GFLOP/s, 25 GB/s",
            {"args": [24, 32, 56, 56, 400.0, 25.0]},
        ),
    ]


def _batch_hidden(rng: np.random.Generator) -> list[Case]:
    """Two cases at batch 1, five at a larger batch, three never (so an answer that only looks at one image, as
    ex08_roofline does, earns at most half the points); most maps are not square."""
    return [
        Case(
            "a wide 1×1 conv on a non-square 7×10 map: compute-bound at batch 1",
            {"args": [2048, 512, 7, 10, 150.0, 15.0]},
        ),
        Case("a random wide layer on a random map, compute-bound at batch 1", {"args": _batch_draw(rng, "one")}),
        Case(
            "a Transformer MLP's second Linear 3072 → 768 on one token per sequence",
            {"args": [3072, 768, 1, 1, 1000.0, 25.0]},
        ),
        Case(
            "a Linear 512 → 1000 after global pooling (a 1×1 map): a GPU-like ridge",
            {"args": [512, 1000, 1, 1, 19500.0, 1555.0]},
        ),
        Case("a 1×1 conv 256 → 64 on a 1×3 map", {"args": [256, 64, 1, 3, 300.0, 12.0]}),
        *(
            Case(
                f"a random layer on a tiny map, compute-bound only at a larger batch #{i + 1}",
                {"args": _batch_draw(rng, "more")},
            )
            for i in range(2)
        ),
        Case(
            "a thin 1×1 conv 16 → 16 on 112×112: never compute-bound",
            {"args": [16, 16, 112, 112, float(rng.integers(200, 1001)), 20.0]},
        ),
        *(
            Case(f"a random thin layer: never compute-bound #{i + 1}", {"args": _batch_draw(rng, "never")})
            for i in range(2)
        ),
    ]


_BATCH_MISTAKES: list[tuple[str, Callable[..., Any]]] = [
    (
        "the weights are read once per batch, shared by all its images: counted once per image, they keep the "
        "intensity from growing with the batch (an answer that looks only at batch 1 does the same)",
        lambda *a: _batch_answer(_smallest_batch(*a, weights_per_image=True), a),
    ),
    (
        "your intensity is half the right one: either MACs where FLOPs are asked (a MAC is a multiply and an add, "
        "2 FLOPs) or 8 bytes per number (float64) where the task says float32 (4 bytes)",
        lambda *a: _batch_answer(_smallest_batch(*a, flops_per_mac=1), a),
    ),
    (
        "this 1×1 conv has no bias: its bytes are the input, the weights and the output, nothing else",
        lambda *a: _batch_answer(_smallest_batch(*a, bias_bytes=True), a),
    ),
    (
        "you returned the largest batch that is still memory-bound: the task asks for the smallest batch that "
        "reaches the ridge, one more",
        lambda *a: _batch_answer(None if (n := _smallest_batch(*a)) is None else n - 1, a),
    ),
    (
        "the ridge point is peak ÷ bandwidth (GFLOP/s ÷ GB/s = FLOPs per byte), not bandwidth ÷ peak",
        lambda *a: _batch_answer(_smallest_batch(*a, ridge_inverted=True), a),
    ),
]

_BATCH = function_exercise(
    "ex08_batch_to_be_compute_bound",
    points=3,
    target="batch_to_be_compute_bound",
    visible=_batch_visible,
    hidden=_batch_hidden,
    reference=_batch_ref,
    comparer=_batch_compare,
    mistakes=_BATCH_MISTAKES,
    error_hint="batch_to_be_compute_bound(in_channels, out_channels, height, width, peak_gflops, bandwidth_gbs) "
    "takes numbers and returns an int ≥ 1, or None",
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
# ex08_predict_speedup(in_channels, out_channels, size, batch_size)
#   -> {"mac_ratio": float, "faster": "standard" | "separable", "speedup": "well below" | "close" | "above"}
#   standard: a 3×3 conv C_in → C_out (padding 1, no bias); separable: a 3×3 depthwise conv (groups = C_in) then a
#   1×1 conv C_in → C_out (no biases), on a (batch_size, C_in, size, size) float32 input.
#   Judged against THIS machine's stopwatch (bench.time_callable, one thread, the best block of each timing, the
#   median of interleaved rounds).
# ---------------------------------------------------------------------------------------------
THREADS = 1  #: as lesson 08: one thread, so that other processes disturb the timing less
ROUNDS = 3  #: interleaved (standard, separable) rounds; the speed-up is the median of the rounds' ratios
STATISTIC: bench.Statistic = "min"  #: as lesson 08 on a shared machine: the best block is the least disturbed
MIN_RUN_TIME = 0.005  #: seconds per timing: the whole check (9 cases) takes about 2 s
SPEEDUP_WORDS = ("well below", "close", "above")
CLOSE_FROM, ABOVE_FROM = 0.6, 1.5  #: share of the MAC ratio the clock keeps: < 0.6 well below, > 1.5 above
#: Where a measurement is this near a boundary, both neighbouring answers pass (machines and runs differ). The
#: faster-band is wide because a loaded machine slows the memory-bound depthwise conv most: with 7 processes on 2
#: cores a thin pair that usually measures 1.5-3x was seen at 0.71x.
FASTER_BAND = (0.5, 2.0)  # measured speed-up: either design may be named faster
CLOSE_BAND = (0.4, 0.8)  # share of the MAC ratio: "well below" or "close"
ABOVE_BAND = (1.25, 1.8)  # share of the MAC ratio: "close" or "above"


@dataclass(frozen=True)
class Timing:
    """One pair measured on this machine: seconds per call (median over the rounds of each round's best block), and
    the median of the rounds' speed-ups."""

    standard_s: float
    separable_s: float
    speedup: float  # time(standard) / time(separable)


def _separable(x: torch.Tensor, depthwise: torch.Tensor, pointwise: torch.Tensor) -> torch.Tensor:
    return F.conv2d(F.conv2d(x, depthwise, padding=1, groups=depthwise.shape[0]), pointwise)


@functools.lru_cache(maxsize=256)
def _time_pair(in_channels: int, out_channels: int, size: int, batch_size: int) -> Timing:
    """Time both designs on this machine (cached: every judge of one process sees the same measurement)."""
    generator = torch.Generator().manual_seed(0)  # never the learner's global torch RNG
    x = torch.randn(batch_size, in_channels, size, size, generator=generator)
    standard = torch.randn(out_channels, in_channels, 3, 3, generator=generator)
    depthwise = torch.randn(in_channels, 1, 3, 3, generator=generator)
    pointwise = torch.randn(out_channels, in_channels, 1, 1, generator=generator)
    standard_s, separable_s = [], []
    for _ in range(ROUNDS):  # interleaved, so that a busy moment hits both designs alike
        standard_s.append(
            bench.time_callable(
                F.conv2d, x, standard, None, 1, 1, num_threads=THREADS, min_run_time=MIN_RUN_TIME, statistic=STATISTIC
            )
        )
        separable_s.append(
            bench.time_callable(
                _separable, x, depthwise, pointwise, num_threads=THREADS, min_run_time=MIN_RUN_TIME, statistic=STATISTIC
            )
        )
    ratios = [s / p for s, p in zip(standard_s, separable_s, strict=True)]
    return Timing(statistics.median(standard_s), statistics.median(separable_s), statistics.median(ratios))


def stopwatch(in_channels: int, out_channels: int, size: int, batch_size: int) -> Timing:
    """The measurement the verdicts use (tests replace this function with a deterministic fake machine)."""
    return _time_pair(in_channels, out_channels, size, batch_size)


def _pair_macs(c_in: int, c_out: int, size: int, batch: int) -> tuple[int, int, int]:
    """(standard, depthwise, pointwise) MACs, 'same' padding, stride 1."""
    pixels = batch * size * size
    return pixels * c_in * c_out * 9, pixels * c_in * 9, pixels * c_in * c_out


def _mac_ratio(c_in: int, c_out: int, size: int, batch: int) -> float:
    standard, dw, pw = _pair_macs(c_in, c_out, size, batch)
    return standard / (dw + pw)


def _word(share: float) -> str:
    return "well below" if share < CLOSE_FROM else ("close" if share <= ABOVE_FROM else "above")


def _acceptable_words(share: float) -> set[str]:
    words = {_word(share)}
    if CLOSE_BAND[0] <= share <= CLOSE_BAND[1]:
        words |= {"well below", "close"}
    if ABOVE_BAND[0] <= share <= ABOVE_BAND[1]:
        words |= {"close", "above"}
    return words


def _acceptable_faster(speedup: float) -> set[str]:
    if FASTER_BAND[0] <= speedup <= FASTER_BAND[1]:
        return {"standard", "separable"}
    return {"separable"} if speedup > 1 else {"standard"}


def _predict_ref(c_in: int, c_out: int, size: int, batch: int) -> dict[str, Any]:
    timing = stopwatch(c_in, c_out, size, batch)
    ratio = _mac_ratio(c_in, c_out, size, batch)
    return {
        "mac_ratio": ratio,
        "faster": "separable" if timing.speedup > 1 else "standard",
        "speedup": _word(timing.speedup / ratio),
        "args": [c_in, c_out, size, batch],
        "timing": timing,
    }


def _pair_args(expected: dict[str, Any]) -> tuple[int, int, int, int]:
    c_in, c_out, size, batch = expected["args"]
    return c_in, c_out, size, batch


def _measured_text(expected: dict[str, Any]) -> str:
    t: Timing = expected["timing"]
    return (
        f"MAC ratio {expected['mac_ratio']:.2f}×; measured: standard {t.standard_s * 1e3:.3f} ms, separable "
        f"{t.separable_s * 1e3:.3f} ms → speed-up {t.speedup:.2f}× ({t.speedup / expected['mac_ratio']:.2f} of the "
        f"MAC ratio): {expected['faster']} faster, {expected['speedup']!r}"
    )


def _answer_text(received: dict[str, Any]) -> str:
    return f"MAC ratio {received['mac_ratio']:.2f}×, {received['faster']} faster, {received['speedup']!r}"


def _ratio_mistake(c_in: int, c_out: int, size: int, batch: int, value: float) -> str:
    """The hint of a known wrong MAC ratio ('' when the value is not one of them)."""
    standard, dw, pw = _pair_macs(c_in, c_out, size, batch)
    dense_3x3 = batch * size * size * c_in * c_in * 9  # the depthwise conv counted as a dense 3×3 C_in → C_in
    known = [
        (standard / pw, "the separable design is two convs: its 3×3 depthwise part costs MACs too (C_in·9 per pixel)"),
        (
            (dw + pw) / standard,
            "the ratio is inverted: standard MACs ÷ separable MACs (the separable design is cheaper)",
        ),
        (
            standard / (dense_3x3 + pw),
            "groups is ignored: the depthwise conv (groups = C_in) costs C_in·9 MACs per pixel, not C_in²·9",
        ),
        (
            _mac_ratio(c_in, c_in, size, batch),
            "the 1×1 conv maps C_in → C_out: use out_channels for its outputs (and for the 3×3 conv's)",
        ),
    ]
    for wrong, text in known:
        if math.isclose(value, wrong, rel_tol=1e-6):
            return text
    return ""


_WHY_OVERHEAD = (
    "on layers this small the time is set by the fixed cost of each call (dispatch, choosing and preparing a kernel: "
    "tens of microseconds), not by the MACs; the separable design pays it twice, once per conv, and a depthwise "
    "conv's fixed cost is often the larger one, so it loses despite its fewer MACs"
)
_WHY_MEMORY = (
    "the depthwise 3×3 does only 9 MACs per input number it reads (about 2 FLOPs per byte): it waits for memory, "
    "and with few output channels the 1×1 conv has little work to hide it behind; the separable design runs at a "
    "much lower GFLOP/s than the standard conv, and speed-up = MAC ratio × (its GFLOP/s ÷ the standard's)"
)
_WHY_CLOSE = (
    "with many output channels the 1×1 conv does almost all of the separable design's work, and it is a dense GEMM "
    "that runs about as well as the 3×3 conv; the memory-bound depthwise part is a small share of the time, so the "
    "clock keeps most of the MAC promise"
)
_WHY_FASTER = (
    "at this size the work is large enough that the MACs, not the per-call cost, set the time: the separable design "
    "does several times fewer MACs and wins"
)


def _explanation(expected: dict[str, Any]) -> str:
    timing: Timing = expected["timing"]
    if timing.speedup <= 1:
        return _WHY_OVERHEAD
    return _WHY_CLOSE if timing.speedup / expected["mac_ratio"] >= CLOSE_FROM else _WHY_MEMORY


_PHRASE = {"well below": "well below the MAC ratio", "close": "close to the MAC ratio", "above": "above the MAC ratio"}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _predict_compare(expected: dict[str, Any], received: Any) -> Failure | None:
    """Judge a prediction against the measurement: exact MAC ratio, then the words, each within its band."""
    keys = {"mac_ratio", "faster", "speedup"}
    shape = "{'mac_ratio': float, 'faster': 'standard' or 'separable', 'speedup': 'well below', 'close' or 'above'}"
    if not isinstance(received, dict) or not keys <= set(received):
        return Failure(f"expected a dict {shape}", received=repr(received)[:100], hint=f"return a dict {shape}")
    if not _is_number(received["mac_ratio"]):
        return Failure(
            "'mac_ratio' must be a positive, finite number",
            received=repr(received["mac_ratio"])[:80],
            hint="mac_ratio = MACs of the standard conv ÷ MACs of the separable pair, a float such as 7.58",
        )
    if received["faster"] not in ("standard", "separable"):
        return Failure(
            "'faster' must be 'standard' or 'separable'",
            received=repr(received["faster"])[:80],
            hint="name the design you expect to take less time per call",
        )
    if received["speedup"] not in SPEEDUP_WORDS:
        return Failure(
            "'speedup' must be 'well below', 'close' or 'above' (the MAC ratio)",
            received=repr(received["speedup"])[:80],
            hint="compare the speed-up you expect, time(standard) ÷ time(separable), with the MAC ratio",
        )
    measured, answer = _measured_text(expected), _answer_text(received)
    if not math.isclose(received["mac_ratio"], expected["mac_ratio"], rel_tol=1e-6):
        return Failure(
            "wrong MAC ratio",
            f"{expected['mac_ratio']:.6g}",
            f"{received['mac_ratio']:.6g}",
            hint=_ratio_mistake(*_pair_args(expected), received["mac_ratio"]),
        )
    if received["faster"] == "standard" and received["speedup"] != "well below":
        return Failure(
            f"the answer contradicts itself: if the standard conv is faster the speed-up is below 1, far below a MAC "
            f"ratio of several, yet 'speedup' says {received['speedup']!r}",
            measured,
            answer,
            hint="when 'faster' is 'standard', 'speedup' can only be 'well below'",
        )
    timing: Timing = expected["timing"]
    if received["faster"] not in _acceptable_faster(timing.speedup):
        return Failure(
            f"you predicted the {received['faster']} design to be faster; the stopwatch says the "
            f"{expected['faster']} one is",
            measured,
            answer,
            hint=_WHY_OVERHEAD if expected["faster"] == "standard" else _WHY_FASTER,
        )
    if received["speedup"] not in _acceptable_words(timing.speedup / expected["mac_ratio"]):
        return Failure(
            f"you predicted a speed-up {_PHRASE[received['speedup']]}; the stopwatch says "
            f"{_PHRASE[expected['speedup']]}",
            measured,
            answer,
            hint=_explanation(expected),
        )
    return None


def _predict_report(case: Case, received: Any) -> str:
    """One visible case: the measurement beside the prediction, and why the clock did what it did."""
    c_in, c_out, size, batch = case.data["args"]
    expected = _predict_ref(c_in, c_out, size, batch)
    timing: Timing = expected["timing"]
    failure = _predict_compare(expected, received)
    intensity = {
        name: bench.conv_arithmetic_intensity(c_in, co, k, size, 1, k // 2, 1, g, batch)
        for name, (co, k, g) in {
            "standard": (c_out, 3, 1),
            "depthwise": (c_in, 3, c_in),
            "pointwise": (c_out, 1, 1),
        }.items()
    }
    standard_macs, dw_macs, pw_macs = _pair_macs(c_in, c_out, size, batch)
    gflops = (
        bench.achieved_gflops(standard_macs, timing.standard_s),
        bench.achieved_gflops(dw_macs + pw_macs, timing.separable_s),
    )
    try:
        predicted = _answer_text(received)
    except (TypeError, KeyError, ValueError):  # a malformed answer is shown as it came
        predicted = repr(received)[:100]
    return "\n".join(
        [
            f"   ⏱ {case.label}: {_measured_text(expected)}",
            f"     your prediction: {predicted} {'✓' if failure is None else '✗ ' + failure.what}",
            f"     FLOPs per byte: standard {intensity['standard']:.1f}, depthwise {intensity['depthwise']:.1f}, "
            f"1×1 {intensity['pointwise']:.1f}; GFLOP/s: standard {gflops[0]:.1f}, separable {gflops[1]:.1f} "
            f"(speed-up = MAC ratio × {gflops[1] / gflops[0]:.2f})",
            f"     why: {_explanation(expected)}",
        ]
    )


def _predict_visible() -> list[Case]:
    return [
        Case("thin layers: 32 → 48 channels on 28×28, batch 2", {"args": [32, 48, 28, 2]}),
        Case("tiny layers: 4 → 8 channels on 12×12, one image", {"args": [4, 8, 12, 1]}),
        Case("wide layers: 512 → 512 channels on 7×7, one image", {"args": [512, 512, 7, 1]}),
    ]


def _predict_hidden(rng: np.random.Generator) -> list[Case]:
    """Two cases per regime (tiny, thin, wide), none a visible one; C_in ≠ C_out in three of the six (so taking
    C_in for C_out in the MAC ratio earns at most half the points)."""
    tiny = [int(v) for v in rng.choice([2, 3, 4, 6, 8], size=2, replace=False)]
    thin = [int(v) for v in rng.choice([24, 32, 48], size=2, replace=False)]
    return [
        Case("tiny layers, C_in ≠ C_out", {"args": [tiny[0], tiny[1], int(rng.integers(6, 12)), 1]}),
        Case("tiny layers, C_in = C_out", {"args": [tiny[1], tiny[1], int(rng.integers(6, 13)), 1]}),
        Case("thin layers, C_in ≠ C_out, batch 2", {"args": [thin[0], thin[1], int(rng.choice([32, 40])), 2]}),
        Case("thin layers, C_in = C_out", {"args": [thin[1], thin[1], int(rng.choice([28, 32, 40])), 1]}),
        Case("wide layers, C_in ≠ C_out", {"args": [int(rng.choice([256, 384])), 512, 7, 1]}),
        Case("wide layers on an 8×8 map, C_in = C_out", {"args": [512, 512, 8, 1]}),
    ]


_PREDICT = function_exercise(
    "ex08_predict_speedup",
    points=3,
    target="predict_speedup",
    visible=_predict_visible,
    hidden=_predict_hidden,
    reference=_predict_ref,
    comparer=_predict_compare,
    report=_predict_report,
    error_hint="predict_speedup(in_channels, out_channels, size, batch_size) returns a dict "
    "{'mac_ratio': float, 'faster': 'standard' | 'separable', 'speedup': 'well below' | 'close' | 'above'}",
)

EXERCISES = [_BATCH, _ROOFLINE, _PREDICT]
