"""Lesson 09's claims hold on other training seeds than the lesson's (0, 1, 2), not by luck.

Each claim is checked on seeds 3, 4 and 5 (separately, unless said otherwise), with the lesson's data, skeleton and settings:
* digits cannot tell the families apart: every family at width 16 is above 85 % on every seed;
* at equal width 16, plain 3×3 beats depthwise-separable by more than 5 points (the representational-power
  claim is wrong);
* separable at width 16 is below the plain curve (plain 8 and 12, interpolated in log-MACs) at equal MACs, on the
  mean over the three seeds, as the lesson states it.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils import data, families

pytestmark = pytest.mark.slow  # trains the lesson's networks on other seeds: `make check` leaves it to `make test`

SEEDS = (3, 4, 5)
FIT = {"epochs": 3, "batch_size": 50, "lr": 1e-2, "stem_stride": 2, "stem_pool": True}  # the lesson's defaults


@pytest.fixture(scope="module")
def shapes() -> families.Split:
    x, y = data.textured_shapes(1500, seed=0)
    x_train, x_test, y_train, y_test = data.train_test_split(x, y, test_fraction=1 / 3, seed=0)
    return families.Split(x_train, y_train, x_test, y_test)


@pytest.fixture(scope="module")
def runs(shapes) -> dict[tuple[str, int, int], families.Run]:
    designs = [("plain", 8), ("plain", 12), ("plain", 16), ("separable", 16)]
    return {(f, w, s): families.run(f, w, shapes, s, **FIT) for f, w in designs for s in SEEDS}


@pytest.mark.parametrize("family", list(families.FAMILIES))
def test_digits_cannot_tell_the_families_apart(family):
    accuracies = [r.accuracy for r in families.digits_runs(family, 16, SEEDS)]
    assert min(accuracies) > 0.85, accuracies


@pytest.mark.parametrize("seed", SEEDS)
def test_plain_beats_separable_at_equal_width(runs, seed):
    assert runs["plain", 16, seed].accuracy - runs["separable", 16, seed].accuracy > 0.05


def test_separable_is_below_the_plain_curve_at_equal_macs_on_the_mean_of_the_seeds(runs):
    """As the lesson states it, on the mean over seeds (on single seeds it does not always hold: seed 5 misses)."""

    def mean(family, width):
        return float(np.mean([runs[family, width, s].accuracy for s in SEEDS]))

    plain_macs = [runs["plain", w, SEEDS[0]].macs for w in (8, 12, 16)]
    separable_macs = runs["separable", 16, SEEDS[0]].macs
    assert plain_macs[0] <= separable_macs <= plain_macs[-1]
    at_equal_macs = np.interp(np.log(separable_macs), np.log(plain_macs), [mean("plain", w) for w in (8, 12, 16)])
    assert mean("separable", 16) < at_equal_macs
