"""Closed-form counts, profile() and their agreement with PyTorch."""

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course_utils.counting import (
    conv_macs,
    conv_output_hw,
    conv_output_size,
    conv_params,
    count_params,
    linear_macs,
    linear_params,
    profile,
)


@pytest.mark.parametrize(
    "size,k,s,p,d,expected",
    [(224, 7, 2, 3, 1, 112), (56, 3, 1, 1, 1, 56), (56, 1, 2, 0, 1, 28), (32, 3, 1, 2, 2, 32), (7, 7, 1, 0, 1, 1)],
)
def test_conv_output_size_matches_formula(size, k, s, p, d, expected):
    assert conv_output_size(size, k, s, p, d) == expected
    x = torch.empty(1, 1, size, size, device="meta")
    assert nn.Conv2d(1, 1, k, s, p, d, device="meta")(x).shape[-1] == expected


def test_worked_example_4_channels_2x2_kernels_2_maps():
    # 4 input channels, 2x2 kernels, 2 output maps: 4*(2*2)*2 weights + 2 biases
    assert conv_params(4, 2, 2) == 4 * (2 * 2) * 2 + 2 == 34
    assert conv_params(4, 2, 2) == count_params(nn.Conv2d(4, 2, 2))


@pytest.mark.parametrize(
    "cin,cout,k,g,bias",
    [(3, 64, 7, 1, True), (256, 64, 1, 1, True), (32, 32, 3, 32, False), (64, 128, (1, 3), 4, True)],
)
def test_conv_params_equals_pytorch(cin, cout, k, g, bias):
    assert conv_params(cin, cout, k, groups=g, bias=bias) == count_params(nn.Conv2d(cin, cout, k, groups=g, bias=bias))


@pytest.mark.parametrize(
    "cin,cout,k,size,stride,pad,dil,groups,n",
    [
        (192, 32, 5, 28, 1, 2, 1, 1, 1),
        (3, 64, 7, 224, 2, 3, 1, 1, 2),
        (64, 64, 3, (20, 13), 2, 1, 2, 64, 3),
        (16, 8, (3, 1), 9, 1, (1, 0), 1, 4, 1),
    ],
)
def test_conv_macs_equals_flop_counter(cin, cout, k, size, stride, pad, dil, groups, n):
    h, w = (size, size) if isinstance(size, int) else size
    conv = nn.Conv2d(cin, cout, k, stride, pad, dil, groups, device="meta")
    with FlopCounterMode(display=False) as fc:
        conv(torch.empty(n, cin, h, w, device="meta"))
    assert conv_macs(cin, cout, k, size, stride, pad, dil, groups, batch_size=n) == fc.get_total_flops() // 2


def test_inception_5x5_example():
    # 28x28x192 -> 32 maps of 5x5 ("about 120 M multiplies")
    assert conv_macs(192, 32, 5, 28, padding=2) == 120_422_400


def test_linear_counts():
    assert linear_params(25088, 4096) == count_params(nn.Linear(25088, 4096))
    assert linear_params(10, 3, bias=False) == 30
    assert linear_macs(10, 3, batch_size=4) == 120


@pytest.mark.parametrize(
    "call,error,fragment",
    [
        (lambda: conv_params(30, 8, 3, groups=4), ValueError, "groups=4 must divide in_channels=30"),
        (lambda: conv_params(32, 30, 3, groups=4), ValueError, "groups=4 must divide out_channels=30"),
        (lambda: conv_params(0, 8, 3), ValueError, "in_channels=0"),
        (lambda: conv_params(3, 8, (3, 3, 3)), ValueError, "kernel_size"),
        (lambda: conv_params(3.0, 8, 3), TypeError, "in_channels must be an int"),
        (lambda: conv_output_size(3, 5), ValueError, "larger than the padded input"),
        (lambda: conv_output_size(8, 3, stride=0), ValueError, "stride=0"),
        (lambda: conv_output_size(8, 3, padding=-1), ValueError, "padding=-1"),
        (lambda: conv_macs(3, 8, 3, 2), ValueError, "larger than the padded input"),
        (lambda: linear_params(-1, 3), ValueError, "in_features=-1"),
        (lambda: count_params("resnet"), TypeError, "torch.nn.Module"),
        (lambda: profile(nn.Conv2d(3, 8, 3), (1, 4, 8, 8)), ValueError, "cannot run on input_shape"),
        (lambda: profile(nn.Conv2d(3, 8, 3), "1x3x8x8"), TypeError, "input_shape"),
        (lambda: profile(nn.Conv2d(3, 8, 3), (1, 3, 0, 8)), ValueError, "input_shape[2]=0"),
    ],
)
def test_bad_input_is_named(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)


def small_net() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.Conv2d(16, 16, 3, groups=16, padding=1),
        nn.Conv2d(16, 32, 1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    )


def test_profile_rows_and_totals():
    net = small_net()
    prof = profile(net, (2, 3, 16, 16))
    assert [r.kind for r in prof.rows][:5] == ["Conv2d 3×3", "BatchNorm2d", "ReLU", "Conv2d 3×3 dw", "Conv2d 1×1"]
    assert prof.total_params == count_params(net) == sum(r.params for r in prof.rows)
    assert prof.rows[4].output_shape == (2, 32, 16, 16)
    expected = (
        conv_macs(3, 16, 3, 16, padding=1, batch_size=2)
        + conv_macs(16, 16, 3, 16, padding=1, groups=16, batch_size=2)
        + conv_macs(16, 32, 1, 16, batch_size=2)
        + linear_macs(32, 10, batch_size=2)
    )
    assert prof.total_macs == expected
    with FlopCounterMode(display=False) as fc:
        net(torch.randn(2, 3, 16, 16))
    assert prof.total_flops == fc.get_total_flops()


def test_profile_leaves_module_untouched():
    net = small_net().train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    profile(net, (1, 3, 8, 8))
    assert net.training
    assert all(torch.equal(before[k], v) and v.device.type == "cpu" for k, v in net.state_dict().items())


def test_profile_text_and_html():
    prof = profile(small_net(), (1, 3, 16, 16), name="small")
    text = str(prof)
    lines = text.splitlines()
    assert lines[0].split() == ["name", "kind", "input", "output", "params", "MACs"]
    assert lines[-1].split()[-1] == f"{prof.total_macs:,}"
    assert len({len(line) for line in lines[1:3]}) == 1
    html = prof._repr_html_()
    assert html.startswith("<table>") and "Conv2d 1×1" in html and f"{prof.total_params:,}" in html
    assert "more rows" in prof.to_text(max_rows=3)


def test_profile_by_kind_sums_to_totals():
    prof = profile(small_net(), (1, 3, 16, 16))
    kinds = prof.by_kind()
    assert sum(m for _, m in kinds.values()) == prof.total_macs
    assert kinds["Conv2d 1×1"] == (conv_params(16, 32, 1), conv_macs(16, 32, 1, 16))


@pytest.mark.parametrize("size,k,s,p,d", [((224, 200), 7, 2, 3, 1), (56, (1, 3), (2, 1), (0, 1), 1), (32, 3, 1, 2, 2)])
def test_conv_output_hw_equals_pytorch(size, k, s, p, d):
    h, w = (size, size) if isinstance(size, int) else size
    out = nn.Conv2d(1, 1, k, s, p, d, device="meta")(torch.empty(1, 1, h, w, device="meta"))
    assert conv_output_hw(size, k, s, p, d) == tuple(out.shape[-2:])


def _course_networks():
    """Networks with every kind of stand-in layer: paper models, lesson 09's family members and a few blocks."""
    from course_utils import blocks, families, models

    with torch.device("meta"):  # no weight initialisation: profile only reads shapes
        yield "se_resnet50", models.se_resnet50(), (1, 3, 224, 224)
        yield "mobilenet_v2", models.mobilenet_v2(), (1, 3, 224, 224)
        yield "convnext_tiny", models.convnext_tiny(), (1, 3, 224, 224)
        for family in families.FAMILIES:
            yield family, families.build(family, 16, 4, 10, 2, True), (2, 4, 32, 32)
        yield "bn1d", nn.Sequential(nn.Flatten(), nn.Linear(12, 6), nn.BatchNorm1d(6), nn.GELU(), nn.Dropout()), (3, 12)
        yield "bottleneck", blocks.Bottleneck(8, 4, 16, stride=2), (1, 8, 9, 7)


def test_profile_stand_ins_give_the_rows_of_the_real_layers(monkeypatch):
    """profile runs shape-keeping layers (BN, activations, dropout) as stand-ins: every row must be the same as
    with the real layers' meta kernels, and every module its own forward again afterwards."""
    from course_utils import counting

    for name, net, shape in _course_networks():
        fast = profile(net, shape)
        assert not any("forward" in vars(m) for m in net.modules()), name
        with monkeypatch.context() as patch:
            patch.setattr(counting, "_SHAPE_KEEPING", ())
            exact = profile(net, shape)
        assert fast.rows == exact.rows and fast.total_params == exact.total_params, name


def test_profile_stand_ins_check_what_the_real_layers_check():
    with pytest.raises(ValueError, match="expects 8 channels"):
        profile(nn.Sequential(nn.Conv2d(3, 6, 1), nn.BatchNorm2d(8)), (1, 3, 4, 4))
    with pytest.raises(ValueError, match="expected 4D input"):
        profile(nn.BatchNorm2d(3), (1, 3, 4))

    class Doubling(nn.ReLU):  # a subclass may change the shape: it runs for real
        def forward(self, x):
            return torch.cat([x, x], dim=1)

    assert profile(nn.Sequential(Doubling()), (1, 3, 4, 4)).rows[0].output_shape == (1, 6, 4, 4)
