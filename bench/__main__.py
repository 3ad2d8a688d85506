"""``python -m bench [--quick] [--threads N] [--statistic median|min]``: theory vs the stopwatch.

Sections: (1) the machine's GEMM ceiling and memory bandwidth; (2) ResNet-50's bottleneck 1×1 layers
as GEMMs: achieved GFLOP/s and fraction of the ceiling for ``reference.pointwise_conv`` and PyTorch in
NCHW and channels_last; (3) time ratio of ``reference.conv2d`` to PyTorch on ResNet 3×3 layers;
(4) the same for depthwise 3×3 layers of MobileNet. Each target gets a PASS/MISS line. Timings vary
between runs and machines (other processes, CPU frequency): read them as measurements, not constants.
"""

from __future__ import annotations

import os

# NumPy's OpenBLAS keeps its idle worker threads spinning for ~0.1 s after every call (2**28 cycles by
# default); in a benchmark that alternates NumPy and PyTorch, those spinning threads steal the cores
# PyTorch is being timed on. 2**4 cycles lets them sleep at once. Must be set before NumPy is imported.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

# The imports below must follow the environment setting above (ruff allows os.environ edits before imports).
import argparse
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_info

from course_utils import bench, reference
from course_utils.counting import conv_macs

POINTWISE_TARGET = 0.9  # reference.pointwise_conv >= 0.9 x GEMM ceiling
CONV_RATIO_TARGET = 3.0  # reference.conv2d within 3x of torch on 3x3 layers

#: What best_times times: ``(fn, args, kwargs)``.
Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]


@dataclass(frozen=True)
class Layer:
    """A conv layer: name, in/out channels, kernel, input size (square), stride, groups; "same" padding."""

    name: str
    cin: int
    cout: int
    k: int
    size: int
    stride: int = 1
    groups: int = 1

    @property
    def padding(self) -> int:
        return self.k // 2

    def macs(self, batch: int) -> int:
        return conv_macs(self.cin, self.cout, self.k, self.size, self.stride, self.padding, 1, self.groups, batch)

    def intensity(self, batch: int) -> float:
        return bench.conv_arithmetic_intensity(
            self.cin, self.cout, self.k, self.size, self.stride, self.padding, 1, self.groups, batch
        )

    def label(self) -> str:
        s = f" s{self.stride}" if self.stride > 1 else ""
        return f"{self.cin}→{self.cout} @{self.size}×{self.size}{s}"


# ResNet-50 (He et al. 2016, Table 1): the bottleneck's reducing and expanding 1×1 convs of each stage.
POINTWISE = [
    Layer("conv2_x reduce", 256, 64, 1, 56),
    Layer("conv3_x reduce", 512, 128, 1, 28),
    Layer("conv4_x reduce", 1024, 256, 1, 14),
    Layer("conv5_x reduce", 2048, 512, 1, 7),
    Layer("conv2_x expand", 64, 256, 1, 56),
    Layer("conv3_x expand", 128, 512, 1, 28),
    Layer("conv4_x expand", 256, 1024, 1, 14),
    Layer("conv5_x expand", 512, 2048, 1, 7),
]
# ResNet 3×3 convs of each stage (the bottleneck's middle conv; ResNet-18/34's convs have the same shapes),
# plus the stride-2 3×3 that opens conv3_x when the stride sits on the 3×3 ("ResNet v1.5").
CONV3X3 = [
    Layer("conv2_x 3×3", 64, 64, 3, 56),
    Layer("conv3_x 3×3", 128, 128, 3, 28),
    Layer("conv4_x 3×3", 256, 256, 3, 14),
    Layer("conv5_x 3×3", 512, 512, 3, 7),
    Layer("conv3_1 3×3 s2", 128, 128, 3, 56, 2),
]
# MobileNet v1 (Howard et al. 2017, Table 1): depthwise 3×3 layers.
DEPTHWISE = [
    Layer("dw 32 @112", 32, 32, 3, 112, 1, groups=32),
    Layer("dw 64 @112 s2", 64, 64, 3, 112, 2, groups=64),
    Layer("dw 128 @56", 128, 128, 3, 56, 1, groups=128),
    Layer("dw 256 @28", 256, 256, 3, 28, 1, groups=256),
    Layer("dw 512 @14", 512, 512, 3, 14, 1, groups=512),
    Layer("dw 1024 @7", 1024, 1024, 3, 7, 1, groups=1024),
]
QUICK = {
    "pointwise": [Layer("tiny reduce", 32, 8, 1, 8), Layer("tiny expand", 8, 32, 1, 4)],
    "conv": [Layer("tiny 3×3", 8, 8, 3, 8)],
    "depthwise": [Layer("dw tiny", 8, 8, 3, 8, 1, groups=8)],
}


def tensors(layer: Layer, batch: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(batch, layer.cin, layer.size, layer.size, generator=gen)
    w = torch.rand(layer.cout, layer.cin // layer.groups, layer.k, layer.k, generator=gen) - 0.5
    return x, w


def blas_name() -> str:
    libs = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not libs:
        return "unknown BLAS"
    info = libs[0]
    return f"{info.get('internal_api', '?')} {info.get('version') or ''} {info.get('architecture') or ''}".strip()


def best_times(calls: dict[str, Call], repeats: int, **timing: Any) -> dict[str, float]:
    """Seconds per call of each ``name: (fn, args, kwargs)``, measured ``repeats`` times in turn (round
    robin) and reduced with ``min``: a burst of load from another process then spoils one round, not a row."""
    best = {name: float("inf") for name in calls}
    for _ in range(repeats):
        for name, (fn, args, kwargs) in calls.items():
            best[name] = min(best[name], bench.time_callable(fn, *args, **kwargs, **timing))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny shapes and short timings (a smoke test)")
    parser.add_argument(
        "--threads", type=int, default=None, help="threads for torch and NumPy's BLAS (default: torch's)"
    )
    parser.add_argument(
        "--statistic",
        choices=("median", "min"),
        default="min",
        help="best block (default: on a shared machine the closest to what the hardware can do) "
        "or the median of blocked runs",
    )
    parser.add_argument(
        "--min-run-time",
        type=float,
        default=None,
        help="seconds per timing (default 0.1, quick 0.01); each is repeated --repeats times",
    )
    parser.add_argument("--repeats", type=int, default=None, help="rounds per measurement (default 3, quick 1)")
    args = parser.parse_args(argv)

    quick = args.quick
    mrt = args.min_run_time or (0.01 if quick else 0.1)
    repeats = args.repeats or (1 if quick else 3)
    threads = args.threads or torch.get_num_threads()
    batch = 1 if quick else 8
    timing = dict(min_run_time=mrt, num_threads=threads, statistic=args.statistic)
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()

    print("python -m bench: theory vs the stopwatch on this machine")
    print(
        f"  {platform.processor() or platform.machine()} | threads: {threads} (torch and NumPy's BLAS) | "
        f"statistic: {args.statistic} of blocked runs, best of {repeats} round{'s' if repeats > 1 else ''} of {mrt} s"
    )
    print(f"  torch {torch.__version__} | numpy {np.__version__} ({blas_name()})")
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > cores - threads + 0.5:
        print(
            f"  warning: the machine is busy (load average {load:.1f} on {cores} cores): other processes compete "
            f"for the cores, so timings are unreliable{'; try --threads 1' if threads > 1 else ''}"
        )

    # 1. ceilings -------------------------------------------------------------------------------
    n = 256 if quick else 2048
    a = torch.rand(n, n, generator=gen)
    b = torch.rand(n, n, generator=gen)
    gemm_calls: dict[str, Call] = {
        "torch.mm": (torch.mm, (a, b), {}),
        "numpy.matmul": (np.matmul, (a.numpy(), b.numpy()), {}),
    }
    gemm_best = {name: 0.0 for name in gemm_calls}  # GFLOP/s, the best seen during the whole of [2]

    def record_gemm(secs: dict[str, float]) -> None:
        for name in gemm_calls:
            gemm_best[name] = max(gemm_best[name], bench.achieved_gflops(n**3, secs[name]))

    record_gemm(best_times(gemm_calls, repeats, **timing))
    bandwidth = bench.memory_bandwidth_gbs(
        8 * 2**20 if quick else 256 * 2**20, min_run_time=max(mrt, 0.2), statistic=args.statistic
    )

    # 2. pointwise: the GEMM ceiling is measured again in every row (round robin with the layers), so a
    #    busy moment lowers a layer and the ceiling alike, and the ceiling is the best seen in the run.
    layers = QUICK["pointwise"] if quick else POINTWISE
    rows, fractions = [], []
    results = []
    for layer in layers:
        x, w = tensors(layer, batch, gen)
        x_np, w_np = x.numpy(), w.numpy()
        x_cl, w_cl = x.contiguous(memory_format=torch.channels_last), w.contiguous(memory_format=torch.channels_last)
        secs = best_times(
            {
                "reference": (reference.pointwise_conv, (x_np, w_np), {}),
                "NCHW": (F.conv2d, (x, w), {}),
                "channels_last": (F.conv2d, (x_cl, w_cl), {}),
                **gemm_calls,
            },
            repeats,
            **timing,
        )
        record_gemm(secs)
        results.append((layer, layer.macs(batch), secs))
    ceiling = max(gemm_best.values())
    print(
        f"\n[1] GEMM ceiling: {n}×{n} float32 matmul, best of {repeats * (len(layers) + 1)} measurements spread over [2]"
    )
    print(bench.format_table(["library", "GFLOP/s"], [[k, f"{v:.1f}"] for k, v in gemm_best.items()]))
    print(f"  ceiling (the faster library): {ceiling:.1f} GFLOP/s")
    print(f"  memory bandwidth (copy of a {'8' if quick else '256'} MiB array): {bandwidth:.1f} GB/s")
    for layer, macs, secs in results:
        g = {k: bench.achieved_gflops(macs, secs[k]) for k in ("reference", "NCHW", "channels_last")}
        fractions.append((layer, g["reference"] / ceiling))
        rows.append(
            [
                layer.name,
                layer.label(),
                f"{macs / 1e6:.0f}",
                f"{layer.intensity(batch):.0f}",
                *(f"{g[k]:.1f} ({g[k] / ceiling:.2f})" for k in ("reference", "NCHW", "channels_last")),
            ]
        )
    print(f"\n[2] 1×1 convolutions are GEMMs: ResNet-50 bottleneck 1×1 layers, batch {batch}, float32")
    print("    GFLOP/s (fraction of the ceiling)")
    print(
        bench.format_table(
            ["layer", "shape", "MMACs", "FLOP/B", "reference.pointwise_conv", "torch NCHW", "torch channels_last"], rows
        )
    )

    # 3. 3×3 ------------------------------------------------------------------------------------
    def ratio_table(layers: list[Layer], ref_fn: Callable[..., np.ndarray], title: str) -> list[tuple[Layer, float]]:
        rows, ratios = [], []
        for layer in layers:
            x, w = tensors(layer, batch, gen)
            x_np, w_np = x.numpy(), w.numpy()
            macs = layer.macs(batch)
            conv_kw = dict(stride=layer.stride, padding=layer.padding)
            secs = best_times(
                {
                    "reference": (ref_fn, (x_np, w_np), conv_kw),
                    "torch": (F.conv2d, (x, w), dict(conv_kw, groups=layer.groups)),
                },
                repeats,
                **timing,
            )
            t_ref, t_torch = secs["reference"], secs["torch"]
            ratios.append((layer, t_ref / t_torch))
            rows.append(
                [
                    layer.name,
                    layer.label(),
                    f"{macs / 1e6:.0f}",
                    f"{layer.intensity(batch):.1f}",
                    f"{t_ref * 1e3:.2f}",
                    f"{t_torch * 1e3:.2f}",
                    f"{bench.achieved_gflops(macs, t_ref):.1f}",
                    f"{bench.achieved_gflops(macs, t_torch):.1f}",
                    f"{t_ref / t_torch:.2f}×",
                ]
            )
        print(f"\n{title}")
        print(
            bench.format_table(
                [
                    "layer",
                    "shape",
                    "MMACs",
                    "FLOP/B",
                    "reference ms",
                    "torch ms",
                    "ref GFLOP/s",
                    "torch GFLOP/s",
                    "ref/torch",
                ],
                rows,
            )
        )
        return ratios

    conv_ratios = ratio_table(
        QUICK["conv"] if quick else CONV3X3,
        reference.conv2d,
        f"[3] 3×3 convolutions (ResNet), batch {batch}: reference.conv2d vs torch F.conv2d (NCHW)",
    )

    def depthwise(x: np.ndarray, w: np.ndarray, stride: int, padding: int) -> np.ndarray:
        return reference.depthwise_conv2d(x, w, stride=stride, padding=padding)

    dw_ratios = ratio_table(
        QUICK["depthwise"] if quick else DEPTHWISE,
        depthwise,
        f"[4] depthwise 3×3 convolutions (MobileNet v1), batch {batch}: "
        "reference.depthwise_conv2d vs torch F.conv2d(groups=C)",
    )

    # verdicts ----------------------------------------------------------------------------------
    print("\ntargets" + (" (--quick: tiny shapes, the verdicts mean nothing)" if quick else ""))
    ok_pw = [f >= POINTWISE_TARGET for _, f in fractions]
    worst_pw = min(fractions, key=lambda p: p[1])
    print(
        f"  {'PASS' if all(ok_pw) else 'MISS'}: reference.pointwise_conv >= {POINTWISE_TARGET:.2f} × GEMM ceiling "
        f"on {sum(ok_pw)}/{len(ok_pw)} ResNet-50 1×1 layers (lowest: {worst_pw[0].name} {worst_pw[0].label()} "
        f"at {worst_pw[1]:.2f})"
    )
    for group in ("reduce", "expand"):
        sub = [f for layer, f in fractions if layer.name.endswith(group)]
        if sub:
            ok = sum(f >= POINTWISE_TARGET for f in sub)
            print(f"  {'PASS' if ok == len(sub) else 'MISS'}: ... the {len(sub)} {group} layers: {ok}/{len(sub)}")
    ok_conv = [r <= CONV_RATIO_TARGET for _, r in conv_ratios]
    worst_conv = max(conv_ratios, key=lambda p: p[1])
    print(
        f"  {'PASS' if all(ok_conv) else 'MISS'}: reference.conv2d within {CONV_RATIO_TARGET:.0f}× of torch on "
        f"{sum(ok_conv)}/{len(ok_conv)} ResNet 3×3 layers (slowest: {worst_conv[0].name} at {worst_conv[1]:.2f}×)"
    )
    worst_dw = max(dw_ratios, key=lambda p: p[1])
    print(
        f"  info: reference.depthwise_conv2d takes {min(r for _, r in dw_ratios):.1f}× to {worst_dw[1]:.1f}× "
        "torch's time (no target: a depthwise conv is memory-bound, see lesson 08)"
    )
    print(f"\nbench finished in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
