"""``python -m bench.training [--quick] [--rounds 3]``: what lesson 09's training costs, and what makes it cheaper.

Two measurements on the lesson's textured shapes, each with a PASS/MISS line:

1. **One training**: ``train.fit`` as the lesson runs it (images and conv weights channels-last, Adam fused into
   one kernel) against the same loop with both off (the default layout, Adam's per-tensor update) and with the
   layout alone, for each family at width 12, best of ``--rounds``. Goal: ``train.fit`` at least 20 % faster
   than with both off, over the six families.
2. **The grid**: the lesson's 54 trainings (6 families × 3 widths × 3 seeds) one after another
   (``run_all(workers=1)``) and one per core (``run_all()``), with the runs compared bit for bit.
   Goal: at least 1.5× faster on two or more cores.

Wall-clock figures depend on what else runs on the machine: read them as measurements, not constants.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import torch

from course_utils import families, train

FIT_GOAL = 0.20  # train.fit at least 20 % faster than with its two speed-ups off
GRID_GOAL = 1.5  # run_all at least 1.5x faster than one after another, on >= 2 cores
FIT: dict[str, Any] = {"epochs": 3, "batch_size": 50, "lr": 1e-2}  # lesson 09's defaults
SKELETON: dict[str, Any] = {"stem_stride": 2, "stem_pool": True}


#: The three ways one training is timed: fit's two speed-ups off, the layout alone, both (train.fit's default).
#: name -> (channels_last, fused)
VARIANTS: dict[str, tuple[bool, bool]] = {
    "naive": (False, False),
    "channels-last": (True, False),
    "train.fit": (True, True),
}


def _seconds(fn: Callable[..., object], rounds: int, *args: object) -> float:
    """The best of ``rounds`` wall-clock timings of ``fn(*args)``."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - start)
    return best


def one_training(split: families.Split, names: list[str], rounds: int, epochs: int) -> dict[str, float]:
    """Seconds of each of ``VARIANTS`` summed over one training of each family at width 12 (best of ``rounds``)."""
    x, y = split.x_train, split.y_train
    warm_up = families.build("plain", 8, x.shape[1], 10, **SKELETON)  # oneDNN builds its kernels on first use
    for layout, fused in VARIANTS.values():
        train.fit(warm_up, x[:100], y[:100], epochs=1, batch_size=50, progress=False, channels_last=layout, fused=fused)
    totals = dict.fromkeys(VARIANTS, 0.0)
    print(f"  {'family':<11}" + "".join(f"{name:>15}" for name in VARIANTS) + "   time saved")
    for family in names:

        def one(layout: bool, fused: bool, family: str = family) -> None:
            torch.manual_seed(0)
            model = families.build(family, 12, x.shape[1], 10, **SKELETON)
            train.fit(model, x, y, **FIT | {"epochs": epochs}, progress=False, channels_last=layout, fused=fused)

        seconds = {name: _seconds(one, rounds, *variant) for name, variant in VARIANTS.items()}
        saved = 1 - seconds["train.fit"] / seconds["naive"]
        print(f"  {family:<11}" + "".join(f"{s:13.2f} s" for s in seconds.values()) + f"   {saved:6.1%}")
        totals = {name: totals[name] + seconds[name] for name in VARIANTS}
    return totals


def the_grid(
    split: families.Split, names: list[str], seeds: tuple[int, ...], widths: tuple[int, ...], epochs: int, quick: bool
) -> None:
    """The grid one after another, then side by side (``--quick``: one process both times; the side-by-side
    path costs two worker starts, and tests/test_train.py tests it)."""
    grid = [(f, w, s) for f in names for w in widths for s in seeds]
    settings = {**FIT, **SKELETON, "epochs": epochs}
    start = time.perf_counter()
    one_by_one = families.run_all(grid, split, workers=1, progress=False, **settings)
    sequential = time.perf_counter() - start
    start = time.perf_counter()
    side_by_side = families.run_all(grid, split, workers=1 if quick else None, progress=False, **settings)
    parallel = time.perf_counter() - start
    same = [(r.accuracy, r.params, r.macs) for r in one_by_one] == [
        (r.accuracy, r.params, r.macs) for r in side_by_side
    ]
    workers = 1 if quick else min(families.usable_cores(), len(grid))
    speedup = sequential / parallel
    print(f"  {len(grid)} trainings one after another: {sequential:6.1f} s")
    print(
        f"  {len(grid)} trainings on {workers} core{'s' * (workers > 1)} (run_all): {parallel:6.1f} s   {speedup:.2f}× faster"
    )
    print(f"  the same runs, bit for bit: {same}")
    if not same:
        raise RuntimeError("run_all side by side gave other runs than one after another")
    if quick:
        print("  --quick: a smoke run in one process, nothing to judge")
    elif workers >= 2:
        print(f"  goal: at least {GRID_GOAL}× on {workers} cores: {'PASS' if speedup >= GRID_GOAL else 'MISS'}")
    else:
        print("  one usable core: no goal for the grid")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.training", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="two families, 200 images, one epoch: a smoke run")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many trainings per design (default: 3)")
    args = parser.parse_args(argv)
    epochs, seeds, widths = (1, (0,), (8,)) if args.quick else (FIT["epochs"], (0, 1, 2), (8, 12, 16))
    rounds = 1 if args.quick else args.rounds
    names = ["plain", "separable"] if args.quick else list(families.FAMILIES)
    split = families.shapes_split(200 if args.quick else 1500)
    print(f"1. One training per family at width 12 ({epochs} epochs, {len(split.x_train)} images), best of {rounds}:")
    totals = one_training(split, names, rounds, int(epochs))
    saved = 1 - totals["train.fit"] / totals["naive"]
    print(f"  {'all ' + str(len(names)):<11}" + "".join(f"{s:13.2f} s" for s in totals.values()) + f"   {saved:6.1%}")
    print(f"  goal: train.fit at least {FIT_GOAL:.0%} faster than naive: {'PASS' if saved >= FIT_GOAL else 'MISS'}")
    print(f"2. Lesson 09's grid ({len(seeds)} seeds × {len(widths)} widths × {len(names)} families, {epochs} epochs):")
    the_grid(split, names, seeds, widths, int(epochs), quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
