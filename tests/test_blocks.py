"""The building blocks: shapes, structure, costs against FlopCounterMode, channel shuffle, FPN, bad input."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course_utils.blocks import (
    FPN,
    BasicBlock,
    Bottleneck,
    ChannelShuffle,
    DepthwiseSeparable,
    InceptionModule,
    NiNBlock,
    channel_shuffle,
)
from course_utils.counting import conv_macs, conv_params, count_params, profile


def meta_flops(module: nn.Module, shape: tuple[int, ...]) -> int:
    """FLOPs that FlopCounterMode counts for one forward pass of ``module`` on a meta tensor."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module.eval()(torch.empty(shape, device="meta"))
    return counter.get_total_flops()


class ThreeLevelFPN(nn.Module):
    """Feeds FPN([4, 2, 1]) a pyramid cut from one tensor, so that profile() can run it on one input shape."""

    def __init__(self):
        super().__init__()
        self.fpn = FPN([4, 2, 1], out_channels=8, extra_p6=True)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.fpn([x, F.avg_pool2d(x, 2)[:, :2], F.avg_pool2d(x, 4)[:, :1]])


# (constructor, input shape, expected output shape)
BLOCKS = {
    "nin": (lambda: NiNBlock(3, 96, 11, stride=4), (2, 3, 224, 224), (2, 96, 54, 54)),
    "inception3a": (lambda: InceptionModule(192, 64, 96, 128, 16, 32, 32), (1, 192, 28, 28), (1, 256, 28, 28)),
    "basic": (lambda: BasicBlock(64, 64), (2, 64, 56, 56), (2, 64, 56, 56)),
    "basic_down": (lambda: BasicBlock(64, 128, stride=2), (1, 64, 56, 56), (1, 128, 28, 28)),
    "bottleneck": (lambda: Bottleneck(64, 64, 256), (1, 64, 56, 56), (1, 256, 56, 56)),
    "bottleneck_down_1x1": (lambda: Bottleneck(256, 128, 512, stride=2), (1, 256, 56, 56), (1, 512, 28, 28)),
    "bottleneck_down_3x3": (lambda: Bottleneck(256, 128, 512, 2, "3x3"), (1, 256, 56, 56), (1, 512, 28, 28)),
    "depthwise_separable": (lambda: DepthwiseSeparable(32, 64), (2, 32, 112, 112), (2, 64, 112, 112)),
    "depthwise_separable_s2_k5": (lambda: DepthwiseSeparable(64, 128, 5, 2), (1, 64, 15, 15), (1, 128, 8, 8)),
    "channel_shuffle": (lambda: ChannelShuffle(4), (2, 24, 5, 5), (2, 24, 5, 5)),
}


@pytest.mark.parametrize("name", BLOCKS)
def test_output_shape(name):
    make, shape, expected = BLOCKS[name]
    with torch.device("meta"):
        block = make()
    assert tuple(block(torch.empty(shape, device="meta")).shape) == expected


@pytest.mark.parametrize("name", [*BLOCKS, "fpn"])
def test_profile_macs_equal_flop_counter(name):
    """Our MACs are FlopCounterMode's FLOPs / 2 for every block (FLOPs = 2 x MACs, biases excluded)."""
    make, shape, _ = BLOCKS.get(name, (ThreeLevelFPN, (1, 4, 32, 32), None))
    with torch.device("meta"):
        block = make()
    macs = profile(block, shape).total_macs
    assert macs == meta_flops(block, shape) // 2
    if name != "channel_shuffle":
        assert macs > 0


def test_blocks_run_on_real_tensors():
    torch.manual_seed(0)
    x = torch.randn(2, 16, 8, 8)
    for block in (
        NiNBlock(16, 8, 3, padding=1),
        InceptionModule(16, 4, 4, 8, 2, 4, 4),
        BasicBlock(16, 16),
        Bottleneck(16, 4, 16),
        DepthwiseSeparable(16, 32),
        ChannelShuffle(2),
    ):
        y = block(x)
        assert torch.isfinite(y).all() and y.shape[0] == 2


def test_nin_block_is_kxk_then_two_1x1():
    block = NiNBlock(3, 96, 11, stride=4)
    convs = [m for m in block if isinstance(m, nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(11, 11), (1, 1), (1, 1)]
    assert [name for name, _ in block.named_children()] == ["conv", "relu", "mlp1", "relu1", "mlp2", "relu2"]
    assert count_params(block) == conv_params(3, 96, 11) + 2 * conv_params(96, 96, 1)


@pytest.mark.parametrize(
    "widths,out_channels",
    # GoogLeNet Table 1 (Szegedy et al. 2015): output depth of inception (3a), (3b), (4d), (5b)
    [
        ((192, 64, 96, 128, 16, 32, 32), 256),
        ((256, 128, 128, 192, 32, 96, 64), 480),
        ((512, 112, 144, 288, 32, 64, 64), 528),
        ((832, 384, 192, 384, 48, 128, 128), 1024),
    ],
)
def test_inception_out_channels(widths, out_channels):
    block = InceptionModule(*widths)
    assert block.out_channels == out_channels
    x = torch.empty(1, widths[0], 7, 7, device="meta")
    assert block.to("meta")(x).shape[1] == out_channels


def test_inception_branches():
    block = InceptionModule(192, 64, 96, 128, 16, 32, 32)
    kernels = {
        name: [m.kernel_size for m in branch if isinstance(m, nn.Conv2d)] for name, branch in block.named_children()
    }
    assert kernels == {
        "branch1x1": [(1, 1)],
        "branch3x3": [(1, 1), (3, 3)],
        "branch5x5": [(1, 1), (5, 5)],
        "branch_pool": [(1, 1)],
    }
    # every conv is followed by a ReLU
    for branch in block.children():
        layers = list(branch)
        assert all(isinstance(layers[i + 1], nn.ReLU) for i, m in enumerate(layers) if isinstance(m, nn.Conv2d))
    # the 5x5 branch: 1x1 reduce 192 -> 16 then 5x5 16 -> 32 at 28x28
    rows = {r.name: r.macs for r in profile(block, (1, 192, 28, 28)).rows}
    assert rows["branch5x5.0"] == conv_macs(192, 16, 1, 28)
    assert rows["branch5x5.2"] == conv_macs(16, 32, 5, 28, padding=2)


@pytest.mark.parametrize(
    "make,projection",
    [
        (lambda: BasicBlock(64, 64), False),
        (lambda: BasicBlock(64, 64, stride=2), True),
        (lambda: BasicBlock(64, 128), True),
        (lambda: Bottleneck(256, 64, 256), False),
        (lambda: Bottleneck(64, 64, 256), True),  # ResNet-50 layer1.0: channels change, stride 1
        (lambda: Bottleneck(256, 64, 256, stride=2), True),
        (lambda: Bottleneck(256, 128, 512, stride=2, stride_on="3x3"), True),
    ],
)
def test_shortcut_is_projection_exactly_when_needed(make, projection):
    block = make()
    stride = max(block.conv1.stride[0], block.conv2.stride[0])
    if not projection:
        assert isinstance(block.shortcut, nn.Identity)
        return
    conv, bn = block.shortcut
    assert isinstance(bn, nn.BatchNorm2d)
    assert conv.kernel_size == (1, 1) and conv.stride == (stride, stride) and conv.bias is None
    out_channels = block.bn2.num_features if isinstance(block, BasicBlock) else block.bn3.num_features
    assert (conv.in_channels, conv.out_channels) == (block.conv1.in_channels, out_channels)


def test_bottleneck_stride_on_moves_the_stride():
    v1 = Bottleneck(256, 128, 512, stride=2, stride_on="1x1")
    v15 = Bottleneck(256, 128, 512, stride=2, stride_on="3x3")
    assert (v1.conv1.stride, v1.conv2.stride) == ((2, 2), (1, 1))
    assert (v15.conv1.stride, v15.conv2.stride) == ((1, 1), (2, 2))
    assert count_params(v1) == count_params(v15)
    # only conv1 changes cost: the 1x1 reduce runs on the 56x56 map instead of the 28x28 one
    extra = profile(v15, (1, 256, 56, 56)).total_macs - profile(v1, (1, 256, 56, 56)).total_macs
    assert extra == conv_macs(256, 128, 1, 56) - conv_macs(256, 128, 1, 56, stride=2)


def test_residual_adds_the_input():
    """With the residual branch zeroed (last BN scale 0), an identity-shortcut block is relu(x)."""
    torch.manual_seed(0)
    x = torch.randn(2, 16, 6, 6)
    for block in (BasicBlock(16, 16), Bottleneck(16, 4, 16)):
        last_bn = block.bn2 if isinstance(block, BasicBlock) else block.bn3
        nn.init.zeros_(last_bn.weight)
        assert torch.equal(block.eval()(x), torch.relu(x))


def test_depthwise_separable_layout_and_cost():
    block = DepthwiseSeparable(32, 64, kernel_size=3, stride=2)
    dw, pw = block.depthwise, block.pointwise
    assert (dw.groups, dw.in_channels, dw.out_channels, dw.kernel_size, dw.padding, dw.stride) == (
        32,
        32,
        32,
        (3, 3),
        (1, 1),
        (2, 2),
    )
    assert (pw.kernel_size, pw.in_channels, pw.out_channels) == ((1, 1), 32, 64)
    assert dw.bias is None and pw.bias is None
    assert [type(m).__name__ for m in block] == ["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU"]
    # Howard et al. 2017, eq. (5): D_K*D_K*M*D_F*D_F + M*N*D_F*D_F
    assert profile(block, (1, 32, 112, 112)).total_macs == 3 * 3 * 32 * 56 * 56 + 32 * 64 * 56 * 56


def test_channel_shuffle_interleaves_groups():
    x = torch.arange(6.0).reshape(1, 6, 1, 1)
    assert channel_shuffle(x, 2).flatten().tolist() == [0, 3, 1, 4, 2, 5]
    assert channel_shuffle(x, 3).flatten().tolist() == [0, 2, 4, 1, 3, 5]
    assert channel_shuffle(x, 1).flatten().tolist() == [0, 1, 2, 3, 4, 5]
    assert torch.equal(ChannelShuffle(2)(x), channel_shuffle(x, 2))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3),
    groups=st.integers(1, 6),
    per_group=st.integers(1, 6),
    h=st.integers(1, 4),
    w=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_channel_shuffle_is_an_interleaving_permutation_with_an_inverse(n, groups, per_group, h, w, seed):
    c = groups * per_group
    x = torch.randn(n, c, h, w, generator=torch.Generator().manual_seed(seed))
    y = channel_shuffle(x, groups)
    # output channel j*groups + g is input channel g*per_group + j
    for g in range(groups):
        for j in range(per_group):
            assert torch.equal(y[:, j * groups + g], x[:, g * per_group + j])
    # shuffling with the other factor undoes it
    assert torch.equal(channel_shuffle(y, per_group), x)


def test_fpn_output_shapes():
    fpn = FPN([256, 512, 1024, 2048], out_channels=256, extra_p6=True).to("meta")
    sizes = (56, 28, 14, 7)
    feats = [torch.empty(2, c, s, s, device="meta") for c, s in zip(fpn.in_channels_list, sizes, strict=False)]
    outs = fpn(feats)
    assert [tuple(o.shape) for o in outs] == [(2, 256, s, s) for s in (*sizes, 4)]
    assert all(c.kernel_size == (1, 1) for c in fpn.lateral)
    assert all(c.kernel_size == (3, 3) and c.padding == (1, 1) for c in fpn.smooth)
    assert FPN([8, 16]).p6 is None


def test_fpn_top_down_by_hand():
    """P_i = smooth_i(lateral_i(C_i) + nearest_upsample(M_{i+1})), checked on odd sizes (15 -> 8)."""
    torch.manual_seed(0)
    fpn = FPN([4, 6], out_channels=5)
    c2, c3 = torch.randn(1, 4, 15, 15), torch.randn(1, 6, 8, 8)
    p2, p3 = fpn([c2, c3])
    m3 = fpn.lateral[1](c3)
    m2 = fpn.lateral[0](c2) + F.interpolate(m3, size=(15, 15), mode="nearest")
    torch.testing.assert_close(p3, fpn.smooth[1](m3))
    torch.testing.assert_close(p2, fpn.smooth[0](m2))
    # information flows top-down only: a change in the fine map leaves the coarse output alone
    assert torch.equal(fpn([c2 + 1, c3])[1], p3)


@pytest.mark.parametrize(
    "call,error,fragment",
    [
        (lambda: channel_shuffle(torch.zeros(1, 6, 2, 2), 4), ValueError, "groups=4 must divide channels C=6"),
        (lambda: channel_shuffle(torch.zeros(6, 2, 2), 2), ValueError, "x must have shape (N, C, H, W), got ndim=3"),
        (lambda: channel_shuffle(torch.zeros(1, 6, 2, 2), 0), ValueError, "groups=0 must be a positive integer"),
        (lambda: channel_shuffle([1, 2], 2), TypeError, "x must be a torch.Tensor"),
        (lambda: ChannelShuffle(2.5), TypeError, "groups must be an int"),
        (lambda: NiNBlock(3, 96, 11, padding=-1), ValueError, "padding=-1"),
        (lambda: NiNBlock(3, 0, 11), ValueError, "out_channels=0"),
        (lambda: InceptionModule(192, 64, 96, 128, 16, 32, 0), ValueError, "pool_proj=0"),
        (lambda: InceptionModule(192, 64, 96.0, 128, 16, 32, 32), TypeError, "ch3x3_reduce must be an int"),
        (lambda: BasicBlock(64, 64, stride=0), ValueError, "stride=0"),
        (lambda: Bottleneck(256, 64, 256, stride_on="2x2"), ValueError, "stride_on='2x2' must be '1x1'"),
        (lambda: Bottleneck(256, -64, 256), ValueError, "mid_channels=-64"),
        (lambda: DepthwiseSeparable(32.0, 64), TypeError, "in_channels must be an int"),
        (lambda: DepthwiseSeparable(32, 64, kernel_size=0), ValueError, "kernel_size=0"),
        (lambda: FPN([]), TypeError, "in_channels_list must be a non-empty list"),
        (lambda: FPN([256, 0]), ValueError, "in_channels_list[1]=0"),
        (lambda: FPN([8], out_channels=0), ValueError, "out_channels=0"),
    ],
)
def test_bad_arguments_are_named(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "features,error,fragment",
    [
        (
            [torch.zeros(1, 8, 8, 8)],
            ValueError,
            "FPN expects 3 feature maps (one per entry of in_channels_list=[8, 16, 32]), got 1",
        ),
        (
            [torch.zeros(1, 8, 8, 8), torch.zeros(1, 32, 4, 4), torch.zeros(1, 32, 2, 2)],
            ValueError,
            "features[1] has 32 channels, but in_channels_list[1]=16",
        ),
        (
            [torch.zeros(8, 8, 8), torch.zeros(1, 16, 4, 4), torch.zeros(1, 32, 2, 2)],
            ValueError,
            "features[0] must have shape (N, C, H, W), got ndim=3",
        ),
        (torch.zeros(1, 8, 8, 8), TypeError, "FPN expects a list of 3 feature maps, got Tensor"),
    ],
)
def test_fpn_names_the_wrong_level(features, error, fragment):
    with pytest.raises(error) as info:
        FPN([8, 16, 32], out_channels=4)(features)
    assert fragment in str(info.value)
