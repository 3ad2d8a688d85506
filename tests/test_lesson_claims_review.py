"""Issue 12's review of lessons 00–08: the claim boxes keep one form, and each new number is pinned here.

Published figures are typed in with their source beside them; everything else is recomputed from the package.
"""

import re
from fractions import Fraction
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import counting, models, notebooks
from course_utils.counting import conv_macs, conv_params, profile

ROOT = Path(__file__).resolve().parents[1]

# lesson -> number of claim boxes it holds (a box removed or added by mistake fails here)
CLAIM_BOXES = {"00": 1, "01": 4, "02": 1, "03": 3, "04": 1, "05": 1, "06": 4, "07": 1, "08": 0}


def _lesson(number: str) -> Path:
    (path,) = (ROOT / "notebooks").glob(f"{number}_*.ipynb")
    return path


def _boxes(number: str) -> list[str]:
    cells = notebooks.read(_lesson(number)).cells
    return [c.source for c in cells if c.cell_type == "markdown" and "**Claim**" in c.source]


@pytest.mark.parametrize("number", CLAIM_BOXES)
def test_claim_boxes_share_one_form(number):
    """Each box: a blockquote 'Claim (as often written)' -> 'What the code shows' -> 'The mistake'."""
    boxes = _boxes(number)
    assert len(boxes) == CLAIM_BOXES[number], f"lesson {number}: {len(boxes)} claim boxes"
    for source in boxes:
        quoted = [line for line in source.splitlines() if line.startswith(">")]
        assert quoted[0].startswith("> **Claim** (as often written): "), quoted[0]
        for part in ("> **What the code shows:** ", "> **The mistake:** "):
            assert sum(line.startswith(part) for line in quoted) == 1, f"lesson {number}: no single {part!r}"
        first, last = source.index(quoted[0]), source.index(quoted[-1])
        assert all(line.startswith(">") for line in source[first:last].splitlines()), "a box is one blockquote"
        assert re.search(r"next cell|previous cell|section \d|above|below", source), "a box points to its cell"


def test_googlenet_table1_whole_comparison():
    """Szegedy et al. 2015, Table 1: ops within 1 M in 10 of 12 rows (not conv1, not 5a); params within 1 K in none."""
    printed = {  # row: (params in K, ops in M), as printed in Table 1
        "conv1": (2.7, 34), "conv2": (112, 360), "inception3a": (159, 128), "inception3b": (380, 304),
        "inception4a": (364, 73), "inception4b": (437, 88), "inception4c": (463, 100), "inception4d": (580, 119),
        "inception4e": (840, 170), "inception5a": (1072, 54), "inception5b": (1388, 71), "fc": (1000, 1),
    }  # fmt: skip
    # every row from the widths in the same table (models.GOOGLENET_INCEPTION), in closed form: weights only
    counted = {
        "conv1": [conv_params(3, 64, 7, bias=False), conv_macs(3, 64, 7, 224, stride=2, padding=3)],
        "conv2": [
            conv_params(64, 64, 1, bias=False) + conv_params(64, 192, 3, bias=False),
            conv_macs(64, 64, 1, 56) + conv_macs(64, 192, 3, 56, padding=1),
        ],
        "fc": [1024 * 1000, 1024 * 1000],
    }
    c_in = 192
    for name, (c1, c3r, c3, c5r, c5, pool) in models.GOOGLENET_INCEPTION.items():
        size = {"3": 28, "4": 14, "5": 7}[name[-2]]
        convs = [(c_in, c1, 1), (c_in, c3r, 1), (c3r, c3, 3), (c_in, c5r, 1), (c5r, c5, 5), (c_in, pool, 1)]
        counted[name] = [
            sum(conv_params(i, o, k, bias=False) for i, o, k in convs),
            sum(conv_macs(i, o, k, size, padding=k // 2) for i, o, k in convs),
        ]
        c_in = c1 + c3 + c5 + pool
    ops_off = [name for name, (_, ops) in printed.items() if abs(counted[name][1] / 1e6 - ops) >= 1]
    params_ok = [name for name, (p, _) in printed.items() if abs(counted[name][0] / 1e3 - p) < 1]
    assert ops_off == ["conv1", "inception5a"] and params_ok == []
    assert counted["inception5a"][1] == 51_079_168


def test_reduction_is_a_low_rank_kxk_conv_and_relu_breaks_it():
    """1×1 (C_in -> r) then k×k (r -> C_out), no ReLU == one k×k conv whose (C_out·k·k, C_in) weight has rank r."""
    g = torch.Generator().manual_seed(0)
    c_in, r, c_out, k = 32, 4, 16, 5
    w1, wk = torch.randn(r, c_in, 1, 1, generator=g), torch.randn(c_out, r, k, k, generator=g)
    merged = torch.einsum("omij,mc->ocij", wk, w1[:, :, 0, 0])
    x = torch.randn(2, c_in, 12, 12, generator=g)
    assert torch.allclose(F.conv2d(F.conv2d(x, w1), wk, padding=2), F.conv2d(x, merged, padding=2), atol=1e-4)
    assert torch.linalg.matrix_rank(merged.permute(0, 2, 3, 1).reshape(-1, c_in)).item() == r
    with_relu = F.conv2d(torch.relu(F.conv2d(x, w1)), wk, padding=2)
    with_relu_neg = F.conv2d(torch.relu(F.conv2d(-x, w1)), wk, padding=2)
    assert (with_relu + with_relu_neg).norm() > 0.5 * with_relu.norm()  # no longer odd, so not linear


def test_the_quarter_is_the_ratio_of_two_wrong_costs():
    """Tutorial figures 51,380,224 and 12,845,056: 1/4 = 2·32/256; both fail the multiple-of-25 test."""
    claimed_direct, claimed_reduced = 51_380_224, 12_845_056
    assert Fraction(claimed_reduced, claimed_direct) == Fraction(2 * 32, 256)
    assert claimed_direct == 56 * 56 * 256 * 64 == conv_macs(256, 64, 1, 56)  # the post's previous example
    assert claimed_direct % 25 and (claimed_reduced - conv_macs(256, 32, 1, 28)) % 25


def test_4x4_example_typo_and_ratio():
    assert 256 * 64 + 64 * 256 * 16 == 256 * 64 * 17 != 256 * 64 + 64 * 265 * 16
    assert Fraction(256 * 256 * 16, 256 * 64 * 17) == Fraction(64, 17) and round(256 / 17, 2) == 15.06


def test_mobilenet_table4_costs_of_both_rows():
    """Howard et al. 2017, Table 4: Conv MobileNet 4866 M mult-adds, 29.3 M params; MobileNet 569 M, 4.2 M."""
    layers, c_in = [nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)], 32
    for c_out, stride in models.MOBILENET_V1_BLOCKS:
        layers.append(nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False))
        c_in = c_out
    with torch.device("meta"):
        full = nn.Sequential(*layers, nn.AvgPool2d(7), nn.Flatten(), nn.Linear(c_in, 1000)).to("meta")
    macs = profile(full, (1, 3, 224, 224)).total_macs
    weights = sum(m.weight.numel() for m in full.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    assert abs(macs / 1e6 - 4866) < 2 and round(weights / 1e6, 1) == 29.3


def test_vgg_score_map_side_is_the_floor_form():
    """Lesson 05: an S×S image gives a score map of side floor(S/32) − 6, for S a multiple of 32 or not."""
    with torch.device("meta"):
        conv_vgg = models.fc_to_conv(models.vgg16())
    for s in (224, 250, 300, 383, 384):
        assert counting.profile(conv_vgg, (1, 3, s, s)).rows[-1].output_shape[-1] == s // 32 - 6
