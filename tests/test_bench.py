"""Smoke tests of the timing helpers and `python -m bench`: no timing is asserted, only sanity and arithmetic."""

import math
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch

from course_utils import bench
from course_utils.counting import conv_macs

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]


def positive_finite(v: float) -> bool:
    return isinstance(v, float) and math.isfinite(v) and v > 0


@pytest.mark.parametrize("statistic", ["median", "min", "mean"])
def test_time_callable_returns_positive_seconds(statistic):
    a = np.ones((64, 64), np.float32)
    assert positive_finite(bench.time_callable(np.matmul, a, a, min_run_time=0.01, statistic=statistic))
    x = torch.ones(1, 4, 8, 8)
    s = bench.time_callable(
        torch.nn.functional.conv2d, x, torch.ones(2, 4, 3, 3), padding=1, min_run_time=0.01, num_threads=1
    )
    assert positive_finite(s)


def test_time_callable_rejects_bad_arguments():
    with pytest.raises(TypeError, match="fn must be callable, got int"):
        bench.time_callable(3)
    with pytest.raises(ValueError, match="min_run_time=0 must be a positive number of seconds"):
        bench.time_callable(print, min_run_time=0)
    with pytest.raises(ValueError, match="statistic='max' must be"):
        bench.time_callable(print, statistic="max")
    with pytest.raises(ValueError, match="num_threads=0 must be a positive integer"):
        bench.time_callable(print, num_threads=0)


@pytest.mark.slow  # times real GEMMs and copies
def test_gemm_and_bandwidth_measurements_are_positive():
    by_lib = bench.gemm_gflops(n=64, min_run_time=0.01)
    assert set(by_lib) == {"torch", "numpy"}
    assert all(positive_finite(v) for v in by_lib.values())
    assert positive_finite(bench.gemm_peak_gflops(n=64, min_run_time=0.01))
    assert positive_finite(bench.memory_bandwidth_gbs(nbytes=2**20, min_run_time=0.01))
    with pytest.raises(ValueError, match="dtype=torch.int32 must be torch.float32 or torch.float64"):
        bench.gemm_gflops(n=8, dtype=torch.int32)


def test_achieved_gflops_is_two_flops_per_mac():
    assert bench.achieved_gflops(1_000_000_000, 1.0) == 2.0
    assert bench.achieved_gflops(411_041_792, 0.004) == pytest.approx(205.520896)
    with pytest.raises(ValueError, match="seconds=0 must be a positive, finite number"):
        bench.achieved_gflops(10, 0)
    with pytest.raises(ValueError, match="macs=-1 must be a non-negative number"):
        bench.achieved_gflops(-1, 1.0)


def test_arithmetic_intensity_of_resnet_1x1_reduce_by_hand():
    # 256 -> 64, 1x1, 56x56, batch 1, float32:
    #   MACs  = 56*56*256*64                      = 51,380,224  -> FLOPs 102,760,448
    #   bytes = 4 * (256*56*56 + 64*256 + 64*56*56) = 4 * (802,816 + 16,384 + 200,704) = 4,079,616
    assert bench.conv_bytes(256, 64, 1, 56) == 4_079_616
    assert bench.conv_arithmetic_intensity(256, 64, 1, 56) == pytest.approx(102_760_448 / 4_079_616)
    assert round(bench.conv_arithmetic_intensity(256, 64, 1, 56), 2) == 25.19


def test_arithmetic_intensity_of_depthwise_3x3_by_hand():
    # MobileNet's first depthwise layer: 32 channels, 3x3, 112x112, padding 1, groups 32, batch 1.
    #   MACs = 112*112*32*9 = 3,612,672; bytes = 4 * (2 * 32*112*112 + 32*9) = 3,212,416
    assert bench.conv_bytes(32, 32, 3, 112, padding=1, groups=32) == 3_212_416
    ai = bench.conv_arithmetic_intensity(32, 32, 3, 112, padding=1, groups=32)
    assert ai == pytest.approx(2 * 3_612_672 / 3_212_416)
    # a dense 3x3 conv of the same width does 32x the MACs on the same activations: far higher intensity
    assert bench.conv_arithmetic_intensity(32, 32, 3, 112, padding=1) > 25 * ai


def test_intensity_grows_with_batch_for_weight_heavy_layers():
    one = bench.conv_arithmetic_intensity(2048, 512, 1, 7, batch_size=1)
    eight = bench.conv_arithmetic_intensity(2048, 512, 1, 7, batch_size=8)
    assert eight > 4 * one  # the 4 MiB weight is read once for the whole batch
    macs = conv_macs(2048, 512, 1, 7, batch_size=8)
    assert eight == pytest.approx(2 * macs / bench.conv_bytes(2048, 512, 1, 7, batch_size=8))


def test_roofline_point_and_plot():
    p = bench.roofline_point("1x1", macs=1_000_000, nbytes=100_000, seconds=0.001)
    assert (p.intensity, p.gflops) == (20.0, 2.0)
    points = [p, bench.RooflinePoint("dw", 2.2, 0.5)]
    fig = bench.roofline_plot(points, peak_gflops=100.0, bandwidth_gbs=10.0)
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    ceiling = ax.lines[0]
    xs, ys = ceiling.get_data()
    np.testing.assert_allclose(ys, np.minimum(100.0, 10.0 * xs))  # min(peak, bandwidth x intensity)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ceiling", "1x1", "dw"]
    with pytest.raises(ValueError, match="peak_gflops=0 must be a positive, finite number"):
        bench.roofline_plot(points, 0, 10.0)
    matplotlib.pyplot.close(fig)


def test_format_table_aligns_columns():
    text = bench.format_table(["layer", "GFLOP/s"], [["a", "1.0"], ["longer", "123.4"]])
    lines = text.splitlines()
    assert lines[0] == "layer   GFLOP/s"
    assert lines[1] == "------  -------"
    assert lines[3] == "longer    123.4"


@pytest.mark.slow  # the whole benchmark in a subprocess
def test_python_m_bench_quick_runs_and_prints_the_tables():
    out = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--threads", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    for header in (
        "[1] GEMM ceiling",
        "torch.mm",
        "numpy.matmul",
        "memory bandwidth",
        "[2] 1×1 convolutions are GEMMs",
        "reference.pointwise_conv",
        "torch NCHW",
        "torch channels_last",
        "[3] 3×3 convolutions",
        "[4] depthwise 3×3 convolutions",
        "ref/torch",
        "targets",
    ):
        assert header in out.stdout, header
    verdicts = [line for line in out.stdout.splitlines() if line.strip().startswith(("PASS", "MISS"))]
    assert len(verdicts) == 4  # pointwise overall, its reduce and expand subsets, conv2d


@pytest.mark.slow  # trains ten small networks in a subprocess that imports torch
def test_python_m_bench_training_quick_runs_and_compares_the_grid_bit_for_bit():
    out = subprocess.run(
        [sys.executable, "-m", "bench.training", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    for line in ("1. One training per family", "channels-last", "all 2 ", "2. Lesson 09's grid", "bit for bit: True"):
        assert line in out.stdout, out.stdout
