"""Timing on this machine: wall-clock time, achieved GFLOP/s, the GEMM ceiling and the roofline.

Theory counts MACs; the stopwatch measures seconds. The link between them is throughput::

    achieved GFLOP/s = 2 · MACs / seconds / 1e9        (FLOPs = 2 × MACs, the course's convention)

and the two ceilings a layer can hit (the *roofline* model):

* compute: the machine's large matrix-product (GEMM) throughput, measured by :func:`gemm_peak_gflops`;
* memory:  ``bandwidth × arithmetic intensity``, where intensity = FLOPs / bytes moved
  (:func:`conv_arithmetic_intensity`) and bandwidth is measured by :func:`memory_bandwidth_gbs`.

Timings use ``torch.utils.benchmark`` (warm-up, blocked runs, robust statistics). Every timing runs
with the same thread count for PyTorch and for NumPy's BLAS (``num_threads``, default: what PyTorch
uses), so the libraries are compared on equal terms. Numbers vary from run to run and machine to
machine: print them, never assert them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
from threadpoolctl import threadpool_limits  # a declared dependency; controls NumPy's BLAS threads
from torch.utils import benchmark

from ._validate import IntPair, pair, positive_int
from .counting import conv_macs, conv_output_hw

if TYPE_CHECKING:  # matplotlib is imported only when a figure is drawn
    from matplotlib.figure import Figure

__all__ = [
    "time_callable",
    "gemm_gflops",
    "gemm_peak_gflops",
    "memory_bandwidth_gbs",
    "achieved_gflops",
    "conv_bytes",
    "conv_arithmetic_intensity",
    "RooflinePoint",
    "roofline_point",
    "roofline_plot",
]

Statistic = Literal["median", "min", "mean"]


def _threads(num_threads: int | None) -> int:
    return torch.get_num_threads() if num_threads is None else positive_int("num_threads", num_threads)


def time_callable(
    fn: Callable[..., Any],
    *args: Any,
    min_run_time: float = 0.2,
    num_threads: int | None = None,
    statistic: Statistic = "median",
    **kwargs: Any,
) -> float:
    """Seconds per call of ``fn(*args, **kwargs)``, measured with ``torch.utils.benchmark``.

    ``blocked_autorange`` warms up, then times blocks of calls for at least ``min_run_time`` seconds.
    ``statistic``: ``"median"`` of the per-call block times (the default, robust to outliers),
    ``"min"`` (the best block: on a busy shared machine, the closest to what the hardware can do) or
    ``"mean"``. PyTorch and NumPy's BLAS both run with ``num_threads`` threads (default: PyTorch's).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if not (isinstance(min_run_time, (int, float)) and min_run_time > 0):
        raise ValueError(f"min_run_time={min_run_time!r} must be a positive number of seconds")
    if statistic not in ("median", "min", "mean"):
        raise ValueError(f"statistic={statistic!r} must be 'median', 'min' or 'mean'")
    threads = _threads(num_threads)
    timer = benchmark.Timer(
        stmt="fn(*args, **kwargs)",
        globals={"fn": fn, "args": args, "kwargs": kwargs},
        num_threads=threads,  # torch.utils.benchmark uses 1 thread unless told otherwise
    )
    with threadpool_limits(limits=threads, user_api="blas"):
        measurement = timer.blocked_autorange(min_run_time=min_run_time)
    if statistic == "median":
        return float(measurement.median)
    if statistic == "min":
        return float(min(measurement.times))
    return float(measurement.mean)


def achieved_gflops(macs: float, seconds: float) -> float:
    """Throughput in GFLOP/s of work worth ``macs`` multiply-accumulates done in ``seconds``: 2·MACs/s/1e9."""
    if not (isinstance(macs, (int, float)) and macs >= 0):
        raise ValueError(f"macs={macs!r} must be a non-negative number")
    if not (isinstance(seconds, (int, float)) and seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"seconds={seconds!r} must be a positive, finite number")
    return 2.0 * macs / seconds / 1e9


def gemm_gflops(
    n: int = 2048,
    dtype: torch.dtype = torch.float32,
    min_run_time: float = 0.3,
    num_threads: int | None = None,
    statistic: Statistic = "median",
) -> dict[str, float]:
    """GFLOP/s of an ``n × n`` by ``n × n`` matrix product in each library: ``{"torch": ..., "numpy": ...}``.

    ``torch.mm`` runs PyTorch's BLAS (MKL in the x86 wheels); ``numpy.matmul`` runs NumPy's (OpenBLAS
    in the PyPI wheels). They differ, sometimes by a lot: measure both.
    """
    n = positive_int("n", n)
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype={dtype} must be torch.float32 or torch.float64")
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(n, n, generator=gen, dtype=dtype)
    b = torch.rand(n, n, generator=gen, dtype=dtype)
    a_np, b_np = a.numpy(), b.numpy()
    macs = n**3

    def seconds(fn: Callable[..., Any], *args: Any) -> float:  # keywords spelled out, so each one is type-checked
        return time_callable(fn, *args, min_run_time=min_run_time, num_threads=num_threads, statistic=statistic)

    return {
        "torch": achieved_gflops(macs, seconds(torch.mm, a, b)),
        "numpy": achieved_gflops(macs, seconds(np.matmul, a_np, b_np)),
    }


def gemm_peak_gflops(
    n: int = 2048,
    dtype: torch.dtype = torch.float32,
    min_run_time: float = 0.3,
    num_threads: int | None = None,
    statistic: Statistic = "median",
) -> float:
    """The machine's measured compute ceiling: the faster of ``torch.mm`` and ``numpy.matmul`` on a large
    square GEMM (see :func:`gemm_gflops`), in GFLOP/s. Well-shaped large GEMMs are the best-tuned code
    on any CPU, so no convolution should beat this by more than noise."""
    return max(gemm_gflops(n, dtype, min_run_time, num_threads, statistic).values())


def memory_bandwidth_gbs(
    nbytes: int = 256 * 2**20, min_run_time: float = 0.3, statistic: Statistic = "median"
) -> float:
    """Main-memory bandwidth in GB/s from copying a large array (``nbytes`` read + ``nbytes`` written).

    The default 256 MiB is far larger than any cache, so the copy streams from and to DRAM.
    """
    nbytes = positive_int("nbytes", nbytes)
    src = np.ones(nbytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    seconds = time_callable(np.copyto, dst, src, min_run_time=min_run_time, statistic=statistic)
    return 2 * src.nbytes / seconds / 1e9


# ---------------------------------------------------------------------------------------------
# Roofline
# ---------------------------------------------------------------------------------------------
def conv_bytes(
    in_channels: int,
    out_channels: int,
    kernel_size: IntPair,
    input_size: IntPair,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
    batch_size: int = 1,
    bytes_per_element: int = 4,
) -> int:
    """Bytes a convolution must move at least once: read the input and the weights, write the output.

    ``(N·C_in·H·W + C_out·C_in/groups·K_h·K_w + N·C_out·H_out·W_out) · bytes_per_element`` (4 for float32).
    Real kernels move more (caches are finite); this is the compulsory traffic the roofline uses.
    """
    bytes_per_element = positive_int("bytes_per_element", bytes_per_element)
    conv_macs(in_channels, out_channels, kernel_size, input_size, stride, padding, dilation, groups)  # validates
    kh, kw = pair("kernel_size", kernel_size)
    h, w = pair("input_size", input_size)
    h_out, w_out = conv_output_hw(input_size, kernel_size, stride, padding, dilation)
    n = positive_int("batch_size", batch_size)
    elements = (
        n * in_channels * h * w + out_channels * (in_channels // groups) * kh * kw + n * out_channels * h_out * w_out
    )
    return elements * bytes_per_element


def conv_arithmetic_intensity(
    in_channels: int,
    out_channels: int,
    kernel_size: IntPair,
    input_size: IntPair,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
    batch_size: int = 1,
    bytes_per_element: int = 4,
) -> float:
    """FLOPs per byte of compulsory memory traffic of a convolution: ``2·MACs / conv_bytes(...)``.

    High intensity (a 3×3 conv with many channels: hundreds of FLOPs per byte) can run at the GEMM
    ceiling; low intensity (a depthwise conv: a few FLOPs per byte) is capped by memory bandwidth.
    """
    macs = conv_macs(in_channels, out_channels, kernel_size, input_size, stride, padding, dilation, groups, batch_size)
    nbytes = conv_bytes(
        in_channels,
        out_channels,
        kernel_size,
        input_size,
        stride,
        padding,
        dilation,
        groups,
        batch_size,
        bytes_per_element,
    )
    return 2 * macs / nbytes


@dataclass(frozen=True)
class RooflinePoint:
    """One measured layer on the roofline: its name, FLOPs/byte and achieved GFLOP/s."""

    name: str
    intensity: float
    gflops: float


def roofline_point(name: str, macs: int, nbytes: int, seconds: float) -> RooflinePoint:
    """A :class:`RooflinePoint` from a layer's MACs, compulsory bytes and measured seconds."""
    positive_int("nbytes", nbytes)
    return RooflinePoint(name, 2 * macs / nbytes, achieved_gflops(macs, seconds))


def roofline_plot(
    points: Iterable[RooflinePoint],
    peak_gflops: float,
    bandwidth_gbs: float,
    ax: Any = None,
    title: str = "Roofline of this machine",
) -> Figure:
    """Log-log roofline: the ceiling ``min(peak, bandwidth × intensity)`` and one dot per measured layer.

    ``peak_gflops`` is the measured GEMM ceiling, ``bandwidth_gbs`` the measured copy bandwidth. Returns
    the matplotlib ``Figure``. A dot far below the sloped part is limited by memory traffic; far below
    the flat part, by the kernel's quality or layout.
    """
    import matplotlib.pyplot as plt

    points = list(points)
    for name, value in (("peak_gflops", peak_gflops), ("bandwidth_gbs", bandwidth_gbs)):
        if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
            raise ValueError(f"{name}={value!r} must be a positive, finite number")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=90)
    else:
        fig = ax.figure
    ridge = peak_gflops / bandwidth_gbs  # intensity where the two ceilings meet
    lo = min([p.intensity for p in points] + [ridge]) / 4
    hi = max([p.intensity for p in points] + [ridge]) * 4
    xs = np.geomspace(lo, hi, 200)
    ax.loglog(xs, np.minimum(peak_gflops, bandwidth_gbs * xs), color="black", lw=2, label="ceiling")
    ax.axvline(ridge, color="grey", ls=":", lw=1)
    ax.annotate(
        f"compute roof: GEMM {peak_gflops:.0f} GFLOP/s",
        (hi, peak_gflops),
        ha="right",
        va="bottom",
        fontsize=8,
        xytext=(0, 3),
        textcoords="offset points",
    )
    x_text = ridge / 6
    ax.annotate(
        f"memory roof: {bandwidth_gbs:.0f} GB/s",
        (x_text, bandwidth_gbs * x_text),
        ha="right",
        va="bottom",
        fontsize=8,
        xytext=(-6, 2),
        textcoords="offset points",
    )
    for i, p in enumerate(points):
        ax.loglog(p.intensity, p.gflops, "o", color=f"C{i % 10}", label=p.name)
    ax.set_xlabel("arithmetic intensity (FLOPs per byte moved)")
    ax.set_ylabel("achieved GFLOP/s")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Aligned plain-text table (first column left-aligned, the others right-aligned)."""
    cells = [list(map(str, header))] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=False)))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])
