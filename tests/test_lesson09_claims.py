"""Lesson 09's claims hold on other training seeds than the lesson's (0, 1, 2), not by luck.

Every statement the lesson pins with an assert is checked here on seeds 3, 4 and 5, with the lesson's data,
skeleton, widths and settings (the whole grid: 6 families × 3 widths × 3 seeds). Per seed where the lesson says
"on every seed", on the mean over the three seeds where the lesson computes it on the mean:

* digits cannot tell the families apart: every family at width 16 is above 85 % on every seed, and the families'
  spread at width 16 is larger on the textured shapes than on digits;
* every design is above 15 % on the textured shapes (chance is 10 %);
* at equal width 16, plain 3×3 beats depthwise-separable by more than 5 points on every seed (the
  representational-power claim is wrong);
* the most accurate design is a plain one (plain holds the accurate end of the front);
* separable at width 16 is below the plain curve (plain 8, 12 and 16 interpolated in log-MACs) at equal MACs;
* the bottleneck is below the plain curve wherever the two overlap;
* the cheap designs inside the plain curve's MAC range are below it on average.

What the lesson says is *not* a finding (which loses fewer points, narrowing plain or swapping its block; which
cheap design comes closest to the curve) is not tested: it changes from seed to seed.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import families

pytestmark = pytest.mark.slow  # trains the lesson's 54 networks on other seeds: `make check` leaves it to `make test`

SEEDS = (3, 4, 5)
WIDTHS = (8, 12, 16)  # the lesson's defaults
FIT = {"epochs": 3, "batch_size": 50, "lr": 1e-2, "stem_stride": 2, "stem_pool": True}
Design = tuple[str, int]


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, int, int], families.Run]:
    shapes = families.shapes_split(1500)  # the lesson's N_IMAGES
    grid = [(f, w, s) for f in families.FAMILIES for w in WIDTHS for s in SEEDS]
    # One process: `make test` already keeps every core busy with its workers.
    trained = families.run_all(grid, shapes, workers=1, progress=False, **FIT)
    return {(r.family, r.width, r.seed): r for r in trained}


@pytest.fixture(scope="module")
def mean(runs) -> dict[Design, float]:
    """Each design's mean test accuracy over the seeds."""
    return {(f, w): float(np.mean([runs[f, w, s].accuracy for s in SEEDS])) for f in families.FAMILIES for w in WIDTHS}


@pytest.fixture(scope="module")
def versus_plain(runs, mean) -> dict[Design, float]:
    """Each cheap design inside the plain curve's MAC range: its mean accuracy minus the plain curve's there."""
    macs = {(f, w): runs[f, w, SEEDS[0]].macs for f, w in mean}
    plain_macs = np.log([macs["plain", w] for w in WIDTHS])
    plain_acc = [mean["plain", w] for w in WIDTHS]
    return {
        d: mean[d] - float(np.interp(np.log(macs[d]), plain_macs, plain_acc))
        for d in mean
        if d[0] != "plain" and plain_macs[0] <= np.log(macs[d]) <= plain_macs[-1]
    }


@pytest.fixture(scope="module")
def digits_mean() -> dict[str, float]:
    return {f: float(np.mean([r.accuracy for r in families.digits_runs(f, 16, SEEDS)])) for f in families.FAMILIES}


@pytest.mark.parametrize("family", list(families.FAMILIES))
def test_digits_cannot_tell_the_families_apart(family):
    accuracies = [r.accuracy for r in families.digits_runs(family, 16, SEEDS)]
    assert min(accuracies) > 0.85, accuracies


def test_the_textured_shapes_spread_the_families_more_than_digits(mean, digits_mean):
    spread_shapes = max(mean[f, 16] for f in families.FAMILIES) - min(mean[f, 16] for f in families.FAMILIES)
    spread_digits = max(digits_mean.values()) - min(digits_mean.values())
    assert spread_shapes > spread_digits, (spread_shapes, spread_digits)


def test_every_design_beats_chance_comfortably(mean):
    assert min(mean.values()) > 0.15, mean


@pytest.mark.parametrize("seed", SEEDS)
def test_plain_beats_separable_at_equal_width(runs, seed):
    assert runs["plain", 16, seed].accuracy - runs["separable", 16, seed].accuracy > 0.05


def test_the_most_accurate_design_is_a_plain_one(mean):
    assert max(mean, key=mean.__getitem__)[0] == "plain", mean


def test_separable_is_below_the_plain_curve_at_equal_macs(versus_plain):
    """On the mean over the seeds, as the lesson computes it (on single seeds it does not always hold)."""
    assert versus_plain["separable", 16] < 0


def test_the_bottleneck_is_below_the_plain_curve_wherever_the_two_overlap(versus_plain):
    bottlenecks = {d: delta for d, delta in versus_plain.items() if d[0] == "bottleneck"}
    assert bottlenecks and max(bottlenecks.values()) < 0, bottlenecks


def test_the_cheap_designs_are_below_the_plain_curve_on_average(versus_plain):
    assert len(versus_plain) >= 6 and np.mean(list(versus_plain.values())) < 0, versus_plain
