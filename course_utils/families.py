"""One small skeleton network in which only the block changes (lesson 09: cost against accuracy).

``build(family, width, in_channels)`` returns::

    stem    3×3 conv (stride ``stem_stride``) + BN + ReLU, then an optional 2×2 max-pool   -> width channels
    stage1  block(width -> width)      + BN
    pool    2×2 max-pool
    stage2  block(width -> 2·width)    + BN
    head    global average pool, Linear(2·width -> num_classes)

The blocks come from :mod:`course_utils.blocks`, used as published (``FAMILIES`` lists them). The BN after
each block is the skeleton's, the same for every family: NiN and Inception were published without
BatchNorm, and with it every family trains well at one learning rate, so that what differs is the block.

``run(...)`` builds one design from a seed, trains it with :func:`course_utils.train.fit`, and returns a
:class:`Run` with its test accuracy, parameters and MACs (from :func:`course_utils.counting.profile`, per
image) and training seconds. ``run_all(...)`` does it for a whole grid of designs and seeds, one training per
core. ``pareto_front`` picks the designs no other design beats on both cost and accuracy.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import multiprocessing
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn
from tqdm.auto import tqdm

from . import blocks, data, train
from ._validate import flag, integer, positive_int
from .counting import profile

__all__ = [
    "FAMILIES",
    "GROUPS",
    "Split",
    "block",
    "build",
    "Run",
    "run",
    "run_all",
    "usable_cores",
    "pareto_front",
    "DIGITS_FIT",
    "shapes_split",
    "digits_split",
    "digits_runs",
]

#: family -> what its block is, in the lesson's order.
FAMILIES: dict[str, str] = {
    "plain": "3×3 conv + BN + ReLU",
    "nin": "blocks.NiNBlock: 3×3 conv, then two 1×1 convs (each + ReLU)",
    "bottleneck": "blocks.Bottleneck: 1×1 reduce to out/4, 3×3, 1×1 expand (each + BN) + shortcut",
    "inception": "blocks.InceptionModule: 1×1 | 1×1→3×3 | 1×1→5×5 | pool→1×1 branches, concatenated",
    "separable": "blocks.DepthwiseSeparable: 3×3 depthwise + BN + ReLU, 1×1 pointwise + BN + ReLU",
    "shuffle": "3×3 conv groups=4 + BN + ReLU, blocks.ChannelShuffle(4), 1×1 conv groups=4 + BN + ReLU",
}
GROUPS = 4  #: groups of the "shuffle" family's convs; its widths must be multiples of it


class Split(NamedTuple):
    """A dataset split once: ``x_*: (N, C, H, W)`` float32, ``y_*: (N,)`` int64."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def _conv_bn_relu(
    in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1
) -> list[nn.Module]:
    conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, groups=groups, bias=False)
    return [conv, nn.BatchNorm2d(out_channels), nn.ReLU()]


def _inception(in_channels: int, out_channels: int) -> blocks.InceptionModule:
    """GoogLeNet's proportions scaled to ``out_channels``: 1/4 1×1, 1/2 3×3, 1/8 5×5, the rest pool projection;
    the 3×3 branch is reduced to 1/4 and the 5×5 branch to 1/16 of ``out_channels`` first."""
    ch1x1, ch3x3, ch5x5 = max(1, out_channels // 4), max(1, out_channels // 2), max(1, out_channels // 8)
    pool_proj = out_channels - ch1x1 - ch3x3 - ch5x5
    if pool_proj < 1:
        raise ValueError(f"out_channels={out_channels} is too small for four Inception branches; use >= 4")
    reduce3, reduce5 = max(1, out_channels // 4), max(1, out_channels // 16)
    return blocks.InceptionModule(in_channels, ch1x1, reduce3, ch3x3, reduce5, ch5x5, pool_proj)


def block(family: str, in_channels: int, out_channels: int) -> nn.Module:
    """The block of ``family`` (a key of ``FAMILIES``): ``(N, in_channels, H, W) -> (N, out_channels, H, W)``."""
    if family not in FAMILIES:
        raise ValueError(f"family={family!r} must be one of {list(FAMILIES)}")
    in_channels = positive_int("in_channels", in_channels)
    out_channels = positive_int("out_channels", out_channels)
    if family == "plain":
        return nn.Sequential(*_conv_bn_relu(in_channels, out_channels, 3))
    if family == "nin":
        return blocks.NiNBlock(in_channels, out_channels, kernel_size=3, padding=1)
    if family == "bottleneck":
        return blocks.Bottleneck(in_channels, max(1, out_channels // 4), out_channels)
    if family == "inception":
        return _inception(in_channels, out_channels)
    if family == "separable":
        return blocks.DepthwiseSeparable(in_channels, out_channels)
    for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
        if channels % GROUPS:
            raise ValueError(f"groups={GROUPS} must divide {name}={channels} for the 'shuffle' family")
    return nn.Sequential(
        *_conv_bn_relu(in_channels, out_channels, 3, groups=GROUPS),
        blocks.ChannelShuffle(GROUPS),
        *_conv_bn_relu(out_channels, out_channels, 1, groups=GROUPS),
    )


def build(
    family: str, width: int, in_channels: int, num_classes: int = 10, stem_stride: int = 1, stem_pool: bool = False
) -> nn.Sequential:
    """The skeleton with ``family``'s blocks: ``(N, in_channels, H, W) -> (N, num_classes)`` logits.

    The stem maps to ``width`` channels at ``H / stem_stride`` (halved again by ``stem_pool``); stage 1 keeps
    ``width`` channels, stage 2 runs at half that size with ``2·width``. Submodules: ``stem``, ``stage1``,
    ``norm1``, ``pool``, ``stage2``, ``norm2``, ``head``.
    """
    width = positive_int("width", width)
    in_channels = positive_int("in_channels", in_channels)
    num_classes = positive_int("num_classes", num_classes)
    stem_stride = positive_int("stem_stride", stem_stride)
    flag("stem_pool", stem_pool)
    stem = _conv_bn_relu(in_channels, width, 3, stem_stride) + ([nn.MaxPool2d(2)] if stem_pool else [])
    return nn.Sequential(
        OrderedDict(
            stem=nn.Sequential(*stem),
            stage1=block(family, width, width),
            norm1=nn.BatchNorm2d(width),
            pool=nn.MaxPool2d(2),
            stage2=block(family, width, 2 * width),
            norm2=nn.BatchNorm2d(2 * width),
            head=nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * width, num_classes)),
        )
    )


@dataclass(frozen=True)
class Run:
    """One trained design: its family, width and seed, test accuracy, cost per image and training time."""

    family: str
    width: int
    seed: int
    accuracy: float  #: share of the test images classified correctly
    params: int
    macs: int  #: multiply-accumulates for one image (counting.profile, batch 1)
    train_seconds: float  #: wall-clock seconds of fit (machine-dependent)


def run(
    family: str,
    width: int,
    split: Split,
    seed: int,
    *,
    epochs: int = 5,
    batch_size: int = 64,
    lr: float = 1e-2,
    stem_stride: int = 1,
    stem_pool: bool = False,
    progress: bool = False,
) -> Run:
    """Build ``family`` at ``width`` with weights drawn from ``seed``, train it on ``split`` and measure it.

    ``seed`` fixes both the initial weights (``torch.manual_seed``) and the order of the training images.
    """
    seed = integer("seed", seed)
    x_train, y_train, x_test, y_test = split
    num_classes = int(max(y_train.max(), y_test.max())) + 1
    torch.manual_seed(seed)
    model = build(family, width, x_train.shape[1], num_classes, stem_stride, stem_pool)
    cost = profile(model, (1, *x_train.shape[1:]))
    result = train.fit(
        model,
        x_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        progress=progress,
        desc=f"{family} w={width} seed={seed}",
    )
    accuracy = train.evaluate(model, x_test, y_test)
    return Run(family, width, seed, accuracy, cost.total_params, cost.total_macs, result.seconds)


def usable_cores() -> int:
    """How many cores this process may run on (its CPU affinity where the OS tells, else ``os.cpu_count()``)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def run_all(
    jobs: Sequence[tuple[str, int, int]],
    split: Split,
    *,
    workers: int | None = None,
    progress: bool = True,
    desc: str = "training",
    **settings: Any,
) -> list[Run]:
    """``run(family, width, split, seed, **settings)`` for every ``(family, width, seed)`` of ``jobs``, in order.

    Each training is seeded and runs on one thread, so independent trainings can run side by side, one per
    core, and give the same ``Run``s, bit for bit, as one after another. ``workers`` processes do it (default:
    one per usable core, at most one per job); ``workers=1`` trains them here, one after another. ``progress``
    shows a ``tqdm`` bar over the finished trainings. ``settings``: ``run``'s keyword arguments (``epochs``, …).
    """
    for job in jobs:
        if not isinstance(job, tuple) or len(job) != 3:
            raise ValueError(f"each job must be a tuple (family, width, seed), got {job!r}")
        if job[0] not in FAMILIES:
            raise ValueError(f"family={job[0]!r} must be one of {list(FAMILIES)}")
    jobs = [(family, positive_int("width", width), integer("seed", seed)) for family, width, seed in jobs]
    workers = min(positive_int("workers", workers if workers is not None else usable_cores()), max(1, len(jobs)))
    flag("progress", progress)
    if workers == 1:
        return [run(f, w, split, s, **settings) for f, w, s in tqdm(jobs, desc=desc, disable=not progress)]
    # spawn, not fork: a forked child inherits the parent's OpenMP state, which is not safe to use after a fork.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures: list[Future[Run]] = [pool.submit(run, f, w, split, s, **settings) for f, w, s in jobs]
        for _ in tqdm(as_completed(futures), total=len(futures), desc=desc, disable=not progress):
            pass
        return [future.result() for future in futures]
    finally:  # an error or an interrupt cancels what has not started instead of waiting for the whole grid
        pool.shutdown(wait=True, cancel_futures=True)


def pareto_front(costs: Sequence[float], accuracies: Sequence[float]) -> list[int]:
    """Indices of the Pareto-optimal designs, in input order: no other design costs no more *and* is no less
    accurate while being strictly better in one of the two. Equal points are all kept."""
    if len(costs) != len(accuracies):
        raise ValueError(f"costs and accuracies must have the same length, got {len(costs)} and {len(accuracies)}")
    points = list(zip(costs, accuracies, strict=True))
    return [
        i
        for i, (cost, acc) in enumerate(points)
        if not any(c <= cost and a >= acc and (c < cost or a > acc) for c, a in points)
    ]


#: How lesson 09 trains on scikit-learn's digits (8×8, 1 channel): stem at full size, no pooling in the stem.
DIGITS_FIT: dict[str, int | float | bool] = {
    "epochs": 4,
    "batch_size": 50,
    "lr": 1e-2,
    "stem_stride": 1,
    "stem_pool": False,
}


def shapes_split(n_images: int = 1500, seed: int = 0) -> Split:
    """Lesson 09's harder set: ``data.textured_shapes(n_images, seed=0)`` split 2/3 / 1/3 by
    ``data.train_test_split`` (1,000 train and 500 test images at the default 1,500), as the lesson splits it."""
    x, y = data.textured_shapes(n_images, seed=0)
    x_train, x_test, y_train, y_test = data.train_test_split(x, y, test_fraction=1 / 3, seed=seed)
    return Split(x_train, y_train, x_test, y_test)


def digits_split(seed: int = 0) -> Split:
    """scikit-learn's 1,797 digits split 75 % / 25 % (1,348 train, 449 test) by ``data.train_test_split``."""
    x, y = data.digits()
    x_train, x_test, y_train, y_test = data.train_test_split(x, y, test_fraction=0.25, seed=seed)
    return Split(x_train, y_train, x_test, y_test)


#: The environment variable naming a folder in which ``digits_runs`` shares its trainings between processes.
#: The test suite sets it for one session, so that lesson 09, its solution's checks and the checkers' tests,
#: each in its own process, train a design once; training is seeded and on one thread, so a shared result is
#: the same, bit for bit, as one trained again on this machine. Unset (as for learners and the grader's
#: sandbox, whose kernels get a fixed environment): nothing is read or written.
SHARED_RUNS_ENV = "COURSE_SHARED_RUNS"


def _shared(key: str, train_them: Callable[[], tuple[Run, ...]]) -> tuple[Run, ...]:
    """``train_them()``, or its result as another process of this session stored it under ``key``."""
    folder = os.environ.get(SHARED_RUNS_ENV)
    if not folder:
        return train_them()
    import fcntl  # POSIX only; the test suite runs on Linux, learners never get here

    stored = Path(folder) / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"
    stored.parent.mkdir(parents=True, exist_ok=True)
    with open(stored.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one process trains; the others wait for its file
        if stored.exists():
            return tuple(Run(**row) for row in json.loads(stored.read_text()))
        runs = train_them()
        partial = stored.with_suffix(".partial")
        partial.write_text(json.dumps([dataclasses.asdict(r) for r in runs]))  # floats round-trip exactly
        partial.replace(stored)
        return runs


@functools.lru_cache(maxsize=64)
def digits_runs(family: str, width: int, seeds: tuple[int, ...] = (0, 1, 2)) -> tuple[Run, ...]:
    """``run`` on ``digits_split()`` with ``DIGITS_FIT`` for each seed (cached: the same call trains once)."""

    def train_them() -> tuple[Run, ...]:
        split = digits_split()
        return tuple(run(family, width, split, seed, **DIGITS_FIT) for seed in seeds)  # type: ignore[arg-type]

    key = f"digits|{family}|{width}|{tuple(seeds)}|{sorted(DIGITS_FIT.items())}|torch {torch.__version__}"
    return _shared(key, train_them)
