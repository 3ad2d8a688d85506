"""Lesson 10's package additions: MobileNetV2, squeeze-and-excitation, ConvNeXt, the Transformer MLP as a 1×1 conv,
the backward pass of a 1×1 conv, and activation memory in profile(). Published figures are pinned with their
source named beside them; counts run on the ``meta`` device, real arithmetic only on small inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from course_utils import reference as R
from course_utils.blocks import Bottleneck, ConvNeXtBlock, InvertedResidual, SEBottleneck, SqueezeExcitation
from course_utils.counting import count_params, profile
from course_utils.models import convnext_tiny, mobilenet_v2, resnet50, se_resnet50

IMAGE = (1, 3, 224, 224)
NEW_BUILDERS = {f.__name__: f for f in (mobilenet_v2, convnext_tiny, se_resnet50)}


def on_meta(make, *args, **kwargs) -> nn.Module:
    with torch.device("meta"):
        return make(*args, **kwargs)


def weights_only(model: nn.Module) -> int:
    """Conv and Linear weights, no biases, no normalisation parameters: how the papers count."""
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))


# profile() agreeing with FlopCounterMode on the new models is tested with every other model in test_models.py.


# ---------------------------------------------------------------------------------------------
# MobileNetV2
# ---------------------------------------------------------------------------------------------
def test_mobilenet_v2_published_figures():
    model = on_meta(mobilenet_v2)
    prof = profile(model, IMAGE)
    # torchvision model docs, MobileNet_V2_Weights.IMAGENET1K_V1: num_params 3504872, GFLOPS 0.30
    # (pytorch.org/vision/stable/models/generated/torchvision.models.mobilenet_v2.html)
    assert prof.total_params == 3_504_872
    assert round(prof.total_macs / 1e9, 2) == 0.30
    # Sandler et al. 2018, Table 4: "MobileNetV2 ... 3.4M params, 300M MAdds". The MACs round to 300 M; the
    # paper's 3.4 M is the 3.47 M conv and FC weights (no BatchNorm) cut to one decimal: with BN's scales and
    # shifts it is torchvision's 3.50 M.
    assert round(prof.total_macs / 1e6) == 301 and prof.total_macs // 1_000_000 == 300
    assert weights_only(model) == 3_469_760
    assert int(weights_only(model) / 1e5) / 10 == 3.4


def test_mobilenet_v2_table2_layout():
    out = {r.name: r.output_shape for r in profile(on_meta(mobilenet_v2), IMAGE).rows}
    assert out["conv1.0"] == (1, 32, 112, 112)
    widths = [out[f"block{i}.project.0"][1] for i in range(1, 18)]
    assert widths == [16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 96, 96, 96, 160, 160, 160, 320]
    sizes = [out[f"block{i}.project.0"][2] for i in (1, 2, 4, 7, 11, 14, 17)]
    assert sizes == [112, 56, 28, 14, 14, 7, 7]
    assert out["conv_last.0"] == (1, 1280, 7, 7)
    assert "block1.expand.0" not in out  # t = 1: no expansion layer
    model = on_meta(mobilenet_v2)
    assert [b.use_residual for b in list(model.children())[1:18]].count(True) == 10


def test_mobilenet_v2_width_multiplier():
    # torchvision's rule: widths rounded to multiples of 8, the last conv keeps 1280 for α < 1
    half = on_meta(mobilenet_v2, 0.5)
    assert half.conv1[0].out_channels == 16 and half.fc.in_features == 1280
    assert on_meta(mobilenet_v2, 1.4).fc.in_features == 1792


# ---------------------------------------------------------------------------------------------
# InvertedResidual
# ---------------------------------------------------------------------------------------------
def test_inverted_residual_shapes_and_residual():
    torch.manual_seed(0)
    block = InvertedResidual(8, 8, stride=1, expand_ratio=6).eval()
    assert block.use_residual and block.hidden_channels == 48
    x = torch.randn(2, 8, 5, 5)
    with torch.no_grad():
        assert torch.allclose(block(x), x + block.project(block.depthwise(block.expand(x))), atol=1e-6)
    down = InvertedResidual(8, 16, stride=2).eval()
    assert not down.use_residual and down(x).shape == (2, 16, 3, 3)
    assert not InvertedResidual(8, 16, stride=1).use_residual
    assert not InvertedResidual(8, 8, stride=2).use_residual


def test_inverted_residual_projection_is_linear():
    """The projection has no activation: scaling what enters it scales what leaves it (BN in eval mode, no shift)."""
    block = InvertedResidual(4, 6, stride=1).eval()
    assert not any(isinstance(m, (nn.ReLU, nn.ReLU6)) for m in block.project.modules())
    with torch.no_grad():
        block.project[1].bias.zero_()
        h = torch.randn(1, block.hidden_channels, 3, 3)
        assert torch.allclose(block.project(-h), -block.project(h), atol=1e-6)  # a ReLU6 would break this


# ---------------------------------------------------------------------------------------------
# Squeeze-and-excitation
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("channels,reduction", [(64, 16), (256, 16), (32, 4), (7, 7)])
def test_se_param_count(channels, reduction):
    assert count_params(SqueezeExcitation(channels, reduction)) == SqueezeExcitation.param_count(channels, reduction)
    assert (
        SqueezeExcitation.param_count(channels, reduction)
        == 2 * channels**2 // reduction + channels // reduction + channels
    )


def test_se_overhead_in_resnet50():
    base, se = on_meta(resnet50), on_meta(se_resnet50)
    p_base, p_se = profile(base, IMAGE), profile(se, IMAGE)
    # Hu et al. 2018, section "Model and computational complexity": SE-ResNet-50 adds ~2.5 million parameters to
    # ResNet-50's ~25 million ("a ~10% increase") and needs ~3.87 GFLOPs against 3.86 ("a 0.26% relative increase").
    # Our MACs count convs and FC only; the paper also counts the pooling and the scaling (the lesson counts them too).
    assert int(p_base.total_params / 1e6) == 25 and round(p_se.total_params / 1e6, 1) == 28.1
    added_params = p_se.total_params - p_base.total_params
    assert added_params == 2_530_992
    assert round(100 * added_params / p_base.total_params, 1) == 9.9 and round(added_params / 1e6, 1) == 2.5
    added_macs = p_se.total_macs - p_base.total_macs
    assert added_macs == added_params - sum(
        m.fc1.bias.numel() + m.fc2.bias.numel() for m in se.modules() if isinstance(m, SqueezeExcitation)
    )
    assert round(100 * added_macs / p_base.total_macs, 3) == 0.065
    assert round(p_se.total_macs / 1e9, 2) == 3.86


def test_se_weights_depend_on_the_input():
    torch.manual_seed(0)
    se = SqueezeExcitation(8, 2).eval()
    a, b = torch.randn(1, 8, 4, 4), torch.randn(1, 8, 4, 4) * 3 + 1
    wa, wb = se.channel_weights(a), se.channel_weights(b)
    assert wa.shape == (1, 8) and not torch.allclose(wa, wb, atol=1e-3)
    assert torch.allclose(se(a), a * wa[:, :, None, None])
    conv = nn.Conv2d(8, 8, 1)  # a plain 1×1 conv: the same matrix for every input
    assert torch.allclose(conv(a + b), conv(a) + conv(b) - conv.bias[None, :, None, None], atol=1e-5)


def test_se_bottleneck_is_a_bottleneck_with_a_gate():
    torch.manual_seed(0)
    block = SEBottleneck(16, 4, 16).eval()
    plain = Bottleneck(16, 4, 16).eval()
    plain.load_state_dict({k: v for k, v in block.state_dict().items() if not k.startswith("se.")})
    x = torch.randn(1, 16, 5, 5)
    with torch.no_grad():
        nn.init.constant_(block.se.fc2.weight, 0.0)
        nn.init.constant_(block.se.fc2.bias, 50.0)  # sigmoid(50) = 1: the gate is open
        assert torch.allclose(block(x), plain(x), atol=1e-5)


# ---------------------------------------------------------------------------------------------
# ConvNeXt
# ---------------------------------------------------------------------------------------------
def test_convnext_tiny_published_figures():
    prof = profile(on_meta(convnext_tiny), IMAGE)
    # torchvision, ConvNeXt_Tiny_Weights.IMAGENET1K_V1 meta (torchvision/models/convnext.py, shown on its model
    # docs page): "num_params": 28589128, "_ops": 4.456 GFLOPS (multiply-adds)
    assert prof.total_params == 28_589_128
    assert round(prof.total_macs / 1e9, 3) == 4.456
    # Liu et al. 2022, Table 1: ConvNeXt-T "28M" params, "4.5G" FLOPs (multiply-adds). The MACs round to 4.5 G;
    # 28.59 M would round to 29 M: the paper cuts the parameters down (weights alone are 28.52 M, still 29 rounded)
    assert int(prof.total_params / 1e6) == 28 and round(prof.total_macs / 1e9, 1) == 4.5
    assert round(prof.total_params / 1e6) == 29


def test_convnext_linear_form_equals_conv_form():
    torch.manual_seed(0)
    block = ConvNeXtBlock(16, layer_scale_init=0.5).eval()
    with torch.no_grad():
        block.norm.weight.uniform_(0.5, 1.5)
        block.norm.bias.normal_()
        x = torch.randn(2, 16, 6, 5)
        assert torch.allclose(block(x), block.forward_conv(x), atol=1e-5)
        assert not torch.allclose(block(x), x, atol=1e-2)


# ---------------------------------------------------------------------------------------------
# The Transformer MLP is a 1×1 convolution over tokens
# ---------------------------------------------------------------------------------------------
def test_linear_equals_conv1d_equals_conv2d_on_tokens():
    torch.manual_seed(0)
    n, grid, d = 2, 3, 8
    tokens = torch.randn(n, grid * grid, d)  # (N, L, D)
    linear = nn.Linear(d, 4 * d)
    conv1d = nn.Conv1d(d, 4 * d, 1)
    conv2d = nn.Conv2d(d, 4 * d, 1)
    with torch.no_grad():
        conv1d.weight.copy_(linear.weight[:, :, None])
        conv2d.weight.copy_(linear.weight[:, :, None, None])
        conv1d.bias.copy_(linear.bias)
        conv2d.bias.copy_(linear.bias)
        y = linear(tokens)
        y1 = conv1d(tokens.transpose(1, 2)).transpose(1, 2)
        y2 = conv2d(tokens.transpose(1, 2).reshape(n, d, grid, grid)).flatten(2).transpose(1, 2)
    assert torch.allclose(y, y1, atol=1e-6) and torch.allclose(y, y2, atol=1e-6)


def test_vit_b16_mlp_share():
    """A ViT-B/16 encoder layer (Dosovitskiy et al. 2021, Table 1: D = 768, MLP 3072, 12 heads) on 197 tokens."""
    d, hidden, tokens = 768, 3072, 197
    layer = on_meta(
        nn.TransformerEncoderLayer, d, 12, hidden, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
    )
    mlp_params = count_params(layer.linear1) + count_params(layer.linear2)
    assert round(100 * mlp_params / count_params(layer), 1) == 66.6
    # torchvision model docs, ViT_B_16_Weights.IMAGENET1K_V1: num_params 86567656 = 12 layers + embeddings + head
    embeddings = (3 * 16 * 16 * d + d) + d + tokens * d  # patch conv, class token, position embeddings
    assert 12 * count_params(layer) + embeddings + 2 * d + (d * 1000 + 1000) == 86_567_656
    layer.train()  # the inference fast path runs one fused kernel FlopCounterMode cannot see into
    with FlopCounterMode(display=False) as counter:
        layer(torch.empty(1, tokens, d, device="meta"))
    macs = counter.get_total_flops() // 2
    assert macs == 4 * tokens * d * d + 2 * tokens * tokens * d + 2 * tokens * d * hidden
    assert round(100 * 2 * tokens * d * hidden / macs, 1) == 63.9


# ---------------------------------------------------------------------------------------------
# Backward of a 1×1 convolution
# ---------------------------------------------------------------------------------------------
@st.composite
def backward_cases(draw):
    return (
        draw(st.integers(1, 3)),
        draw(st.integers(1, 6)),
        draw(st.integers(1, 6)),
        draw(st.integers(1, 5)),
        draw(st.integers(1, 5)),
        draw(st.booleans()),
        draw(st.integers(0, 2**16)),
    )


@settings(max_examples=40, deadline=None, derandomize=True)
@given(backward_cases())
def test_pointwise_conv_backward_equals_autograd(case):
    n, c_in, c_out, h, w, four_d, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in, h, w)).astype(np.float32)
    wt = rng.standard_normal((c_out, c_in, 1, 1) if four_d else (c_out, c_in)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32)
    dy = rng.standard_normal((n, c_out, h, w)).astype(np.float32)
    xt, wtt, bt = (torch.from_numpy(a).requires_grad_() for a in (x, wt, b))
    F.conv2d(xt, wtt.reshape(c_out, c_in, 1, 1), bt).backward(torch.from_numpy(dy))
    gx, gw, gb = R.pointwise_conv_backward(x, wt, dy)
    for mine, theirs in ((gx, xt.grad), (gw, wtt.grad), (gb, bt.grad)):
        assert mine.shape == theirs.shape and mine.dtype == np.float32
        expected = theirs.numpy()
        np.testing.assert_allclose(mine, expected, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(expected).max())))


def test_backward_costs_twice_the_forward():
    """FlopCounterMode on ResNet's bottleneck: backward = 2 × forward when the input needs a gradient, step = 3×."""
    block = Bottleneck(256, 64, 256)
    x = torch.randn(2, 256, 7, 7, requires_grad=True)
    with FlopCounterMode(display=False) as forward:
        y = block(x)
    with FlopCounterMode(display=False) as backward:
        y.sum().backward()
    assert backward.get_total_flops() == 2 * forward.get_total_flops()
    assert (forward.get_total_flops() + backward.get_total_flops()) / forward.get_total_flops() == 3


# ---------------------------------------------------------------------------------------------
# Activation memory in profile()
# ---------------------------------------------------------------------------------------------
def _hooked_output_bytes(model: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    """(sum, max) of the real output sizes of the layers profile() records, collected by forward hooks."""
    sizes: list[int] = []
    targets = [
        m
        for m in model.modules()
        if not any(True for _ in m.children()) or any(True for _ in m.parameters(recurse=False))
    ]
    handles = [
        m.register_forward_hook(lambda _m, _i, out: sizes.append(out.numel() * out.element_size())) for m in targets
    ]
    try:
        with torch.no_grad():
            model.eval()(x)
    finally:
        for h in handles:
            h.remove()
    return sum(sizes), max(sizes)


@pytest.mark.parametrize("make", [mobilenet_v2, resnet50, convnext_tiny])
def test_activation_bytes_equal_real_outputs(make):
    torch.manual_seed(0)
    model = make(num_classes=10)
    shape = (1, 3, 64, 64)
    prof = profile(model, shape)
    assert (prof.total_activation_bytes, prof.peak_activation_bytes) == _hooked_output_bytes(model, torch.randn(shape))
    half = profile(model, shape, dtype=torch.float16)
    assert half.total_activation_bytes * 2 == prof.total_activation_bytes
    assert half.total_macs == prof.total_macs


def test_mobilenet_v2_vs_resnet50_memory():
    mb2, r50 = profile(on_meta(mobilenet_v2), IMAGE), profile(on_meta(resnet50), IMAGE)
    assert mb2.peak_activation_bytes == 4 * 96 * 112 * 112 > r50.peak_activation_bytes == 4 * 64 * 112 * 112
    assert round(mb2.total_activation_bytes / r50.total_activation_bytes, 2) == 0.58
    assert round(mb2.total_macs / r50.total_macs, 3) == 0.078


def test_activation_column_is_opt_in():
    prof = profile(nn.Sequential(nn.Conv2d(3, 8, 1), nn.ReLU()), (2, 3, 4, 4))
    plain, shown = str(prof), str(prof.with_activations())
    assert plain.splitlines()[0].split() == ["name", "kind", "input", "output", "params", "MACs"]
    assert shown.splitlines()[0].split() == ["name", "kind", "input", "output", "params", "MACs", "activation"]
    assert prof.rows[0].activation_bytes == 2 * 8 * 4 * 4 * 4 and shown.splitlines()[-1].endswith("2.05 KB")
    assert "activation" not in prof._repr_html_() and "<th>activation</th>" in prof.with_activations()._repr_html_()
    assert "activation" in str(prof.with_activations().filter(lambda r: r.kind == "ReLU"))
    assert repr(prof.rows[0]).count("activation") == 0  # reprs stored in other lessons do not change


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------
X = np.zeros((1, 3, 2, 2), np.float32)
W = np.zeros((4, 3), np.float32)


@pytest.mark.parametrize(
    "call,error,fragment",
    [
        (lambda: InvertedResidual(8, 8, expand_ratio=0.5), ValueError, "expand_ratio=0.5 must be >= 1"),
        (lambda: InvertedResidual(8, 8, expand_ratio="6"), TypeError, "expand_ratio must be a number"),
        (lambda: InvertedResidual(0, 8), ValueError, "in_channels=0"),
        (lambda: InvertedResidual(8, 8, stride=0), ValueError, "stride=0"),
        (lambda: SqueezeExcitation(30, 16), ValueError, "reduction=16 must divide channels=30"),
        (lambda: SqueezeExcitation.param_count(30, 4), ValueError, "reduction=4 must divide channels=30"),
        (lambda: SqueezeExcitation(32, 0), ValueError, "reduction=0"),
        (lambda: SqueezeExcitation(8, 2).channel_weights(torch.zeros(1, 4, 2, 2)), ValueError, "channels=8"),
        (lambda: SEBottleneck(16, 4, 30, reduction=16), ValueError, "must divide channels=30"),
        (lambda: ConvNeXtBlock(0), ValueError, "dim=0"),
        (lambda: ConvNeXtBlock(8)(torch.zeros(1, 4, 3, 3)), ValueError, "dim=8"),
        (lambda: ConvNeXtBlock(8, layer_scale_init="1e-6"), TypeError, "layer_scale_init"),
        (lambda: mobilenet_v2(0), ValueError, "width_multiplier=0 must be > 0"),
        (lambda: mobilenet_v2("1"), TypeError, "width_multiplier must be a positive number"),
        (lambda: se_resnet50(reduction=0), ValueError, "reduction=0"),
        (lambda: convnext_tiny(num_classes=0), ValueError, "num_classes=0"),
        (lambda: R.pointwise_conv_backward(X, W, np.zeros((1, 4, 2, 3), np.float32)), ValueError, "grad_out must have"),
        (lambda: R.pointwise_conv_backward(X, np.zeros((4, 2)), np.zeros((1, 4, 2, 2))), ValueError, "w.shape[1]=2"),
        (lambda: R.pointwise_conv_backward(X, W, torch.zeros(1, 4, 2, 2)), TypeError, "grad_out must be a numpy"),
        (
            lambda: R.pointwise_conv_backward(X, np.zeros((4, 3, 3, 3)), np.zeros((1, 4, 2, 2))),
            ValueError,
            "w must have",
        ),
        (lambda: profile(nn.Conv2d(3, 8, 1), (1, 3, 4, 4), dtype=torch.int64), TypeError, "floating torch.dtype"),
        (lambda: profile(nn.Conv2d(3, 8, 1), (1, 3, 4, 4), dtype="float32"), TypeError, "dtype must be"),
    ],
)
def test_bad_input_is_named(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)
