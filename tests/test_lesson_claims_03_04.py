"""The figures lessons 03 (Inception) and 04 (ResNet bottleneck) state, recomputed from the package.

Published figures are typed in with their source beside them and compared with what ``counting`` computes
from the blocks and models; the tutorial claims the lessons refute are pinned as *wrong* here too.
"""

import pytest
import torch
from torch import nn

from course_utils import blocks, models
from course_utils.counting import conv_macs, profile

IMAGE = (1, 3, 224, 224)


def _meta(builder, *args, **kwargs) -> nn.Module:
    """Build a paper-sized model on the meta device: shapes only, instant, no memory."""
    with torch.device("meta"):
        return builder(*args, **kwargs)


def _conv_weights(module: nn.Module) -> int:
    return sum(m.weight.numel() for m in module.modules() if isinstance(m, nn.Conv2d))


# ---------------------------------------------------------------------------------------------
# Lesson 03
# ---------------------------------------------------------------------------------------------
def test_lecture_example_120m_vs_12_4m():
    """28×28×192 -> 5×5 (32): about 120 M MACs, 12.4 M with a 16-channel 1×1 reduction."""
    direct = conv_macs(192, 32, 5, 28, padding=2)
    reduced = conv_macs(192, 16, 1, 28) + conv_macs(16, 32, 5, 28, padding=2)
    assert round(direct / 1e6) == 120
    assert round(reduced / 1e6, 1) == 12.4


def test_tutorial_claim_51m_vs_12_8m_drops_the_kernel_and_uses_256_outputs():
    """The tutorial figures 51,380,224 / 12,845,056 are a 1×1 'kernel' with 256 outputs, not 5×5 with 64."""
    claimed = (51_380_224, 12_845_056)  # figures circulating in teaching material
    matches = [
        (k, c_out, c_red)
        for k in (1, 3, 5)
        for c_out in (32, 64, 128, 256)
        for c_red in (16, 32, 64, 128)
        if (
            conv_macs(256, c_out, k, 28, padding=k // 2),
            conv_macs(256, c_red, 1, 28) + conv_macs(c_red, c_out, k, 28, padding=k // 2),
        )
        == claimed
    ]
    assert matches == [(1, 256, 32)]
    direct = conv_macs(256, 64, 5, 28, padding=2)
    reduced = conv_macs(256, 32, 1, 28) + conv_macs(32, 64, 5, 28, padding=2)
    assert round(direct / reduced, 1) == 6.9  # not the claimed 4


def test_4x4_reduction_ratio_depends_on_padding():
    """256 -> 1×1 (64) -> 4×4 (256) vs 4×4 (256): 64/17 with same-size output, less with padding 0."""

    def ratio(size: int) -> float:
        return conv_macs(256, 256, 4, size) / (conv_macs(256, 64, 1, size) + conv_macs(64, 256, 4, size))

    same = (256 * 256 * 16) / (256 * 64 + 64 * 256 * 16)
    assert same == pytest.approx(64 / 17)
    assert ratio(7) < ratio(28) < ratio(112) < same
    assert round(ratio(28), 2) == 3.71


# Szegedy et al. 2015, "Going deeper with convolutions", Table 1: (input channels, widths, params, ops).
TABLE1_INCEPTION = {
    "inception3a": (192, (64, 96, 128, 16, 32, 32), 159e3, 128e6),
    "inception3b": (256, (128, 128, 192, 32, 96, 64), 380e3, 304e6),
}


@pytest.mark.parametrize("name", TABLE1_INCEPTION)
def test_inception_table1_ops_match_but_params_do_not(name):
    in_channels, widths, paper_params, paper_ops = TABLE1_INCEPTION[name]
    module = blocks.InceptionModule(in_channels, *widths)
    prof = profile(module, (1, in_channels, 28, 28))
    assert round(prof.total_macs / 1e6) == paper_ops / 1e6
    # every conv keeps 28×28, so each weight is used 784 times: the ops column implies the weight count
    assert prof.total_macs == _conv_weights(module) * 28 * 28
    assert round(_conv_weights(module) / 1e3) != paper_params / 1e3


def test_inception3a_weights_exceed_table1_by_4k():
    module = blocks.InceptionModule(192, *TABLE1_INCEPTION["inception3a"][1])
    assert round(_conv_weights(module) / 1e3) == 163  # Table 1 prints 159K


def test_googlenet_total_and_table1_conv1_row():
    """1.58 G MACs as built; 1.5 G (the paper's budget) only with Table 1's 34M for the 7×7 conv1."""
    prof = profile(_meta(models.googlenet), IMAGE)
    conv1 = next(r for r in prof.rows if r.name == "conv1")
    assert conv1.macs == conv_macs(3, 64, 7, 224, stride=2, padding=3)
    assert round(prof.total_macs / 1e9, 1) == 1.6
    assert round((prof.total_macs - conv1.macs + 34e6) / 1e9, 1) == 1.5  # Table 1: conv1 34M ops


# ---------------------------------------------------------------------------------------------
# Lesson 04
# ---------------------------------------------------------------------------------------------
def test_basic_vs_bottleneck_at_256_channels():
    shape = (1, 256, 56, 56)
    basic = profile(blocks.BasicBlock(256, 256), shape).total_macs
    bottleneck = profile(blocks.Bottleneck(256, 64, 256), shape).total_macs
    assert basic == 2 * conv_macs(256, 256, 3, 56, padding=1)
    assert round(basic / bottleneck, 1) == 16.9


def test_paper_figure5_blocks_have_similar_cost():
    """He et al. 2016, Figure 5 / Sec. 4.1: the two designs 'have similar time complexity'."""
    basic64 = profile(blocks.BasicBlock(64, 64), (1, 64, 56, 56)).total_macs
    bottleneck256 = profile(blocks.Bottleneck(256, 64, 256), (1, 256, 56, 56)).total_macs
    assert abs(bottleneck256 / basic64 - 1) < 0.1


def test_projection_shortcut_shapes_and_share():
    block = blocks.Bottleneck(256, 128, 512, stride=2)
    assert block(torch.zeros(1, 256, 56, 56)).shape == (1, 512, 28, 28)
    prof = profile(block, (1, 256, 56, 56))
    shortcut = prof.filter(lambda r: r.name.startswith("shortcut")).total_macs
    assert shortcut == conv_macs(256, 512, 1, 56, stride=2)
    assert 0.3 < shortcut / prof.total_macs < 0.4
    assert isinstance(blocks.Bottleneck(512, 128, 512).shortcut, nn.Identity)


# He et al. 2016, Table 1, "FLOPs" row (multiply-adds, i.e. MACs), in units of 10^9.
RESNET_TABLE1_GFLOPS = {18: 1.8, 34: 3.6, 50: 3.8, 101: 7.6, 152: 11.3}


@pytest.mark.parametrize("depth", RESNET_TABLE1_GFLOPS)
def test_resnet_table1_flops(depth):
    macs = profile(_meta(getattr(models, f"resnet{depth}")), IMAGE).total_macs
    assert abs(macs / 1e9 - RESNET_TABLE1_GFLOPS[depth]) < 0.1  # within one unit of the paper's last digit


def test_resnet50_one_by_one_share():
    prof = profile(_meta(models.resnet50), IMAGE)
    params, macs = prof.by_kind()["Conv2d 1×1"]
    assert 0.4 < macs / prof.total_macs < 0.6 and 0.4 < params / prof.total_params < 0.6


def test_resnet50_v15_costs_4_1g_with_the_same_parameters():
    v1 = profile(_meta(models.resnet50), IMAGE)
    v15 = profile(_meta(models.resnet50, stride_on="3x3"), IMAGE)
    assert v1.total_params == v15.total_params
    assert round(v15.total_macs / 1e9, 1) == 4.1
    # only the first 1×1 of the three downsampling blocks changes: it now runs on the full-size map
    extra = sum(
        conv_macs(c_in, mid, 1, size) - conv_macs(c_in, mid, 1, size, stride=2)
        for c_in, mid, size in ((256, 128, 56), (512, 256, 28), (1024, 512, 14))
    )
    assert v15.total_macs - v1.total_macs == extra
