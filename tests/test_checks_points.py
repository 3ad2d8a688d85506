"""Points that match the answer (issue 11 §2): an answer wrong on one branch (bias or not, identity or projection,
stride, groups, odd or non-square sizes, defaults left in) earns at most half the exercise's points, scored as the
grader scores (points × share of hidden cases passing), in-process, on several hidden draws."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import checks
from course_utils.checks import testing

pytestmark = pytest.mark.slow  # scores every exercise on many hidden draws: `make check` leaves it to `make test`

SEEDS = (1, 2026)


def _conv_macs(c_in, c_out, k, size, stride=1, padding=0):
    out = (size + 2 * padding - k) // stride + 1
    return out * out * c_in * c_out * k * k


# ---------------------------------------------------------------------------------------------
# One wrong-branch answer per exercise: right on one side of a branch, wrong on the other
# ---------------------------------------------------------------------------------------------
def conv_cost_always_bias(c_in, c_out, k, size, stride=1, padding=0, bias=True):
    return c_in * c_out * k * k + c_out, _conv_macs(c_in, c_out, k, size, stride, padding)


def bottleneck_macs_always_projection(c, m, o, size, stride=1):
    s = (size - 1) // stride + 1
    return s * s * (c * m + 9 * m * m + m * o + c * o)


class BottleneckProjectionOnlyWhenStrided(nn.Module):
    def __init__(self, in_channels, mid_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_channels)
        self.conv2 = nn.Conv2d(mid_channels, mid_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(mid_channels, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.strided = stride != 1
        if self.strided:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        if self.strided:
            return torch.relu(y + self.shortcut(x))
        if y.shape[1] != x.shape[1]:  # pads or crops the channels rather than projecting
            x = F.pad(x, (0, 0, 0, 0, 0, y.shape[1] - x.shape[1])) if y.shape[1] > x.shape[1] else x[:, : y.shape[1]]
        return torch.relu(y + x)


def grouped_checks_only_in_channels(c_in, c_out, k, size, groups, bias=True):
    if c_in % groups:
        raise ValueError(f"groups={groups} must divide in_channels={c_in}")
    w = c_out * (c_in // groups) * k * k
    return w + (c_out if bias else 0), size * size * w


def _coverage(height, width, stride, window, left=None):
    h_out, w_out = (height - window) // stride + 1, (width - window) // stride + 1
    if left is None:
        return (h_out, w_out), (height - stride * (h_out - 1) - window, width - stride * (w_out - 1) - window)
    return (h_out, w_out), (left(height, stride), left(width, stride))


def score_map_coverage_default_stride_window(height, width, stride=32, window=224):
    return _coverage(height, width, 32, 224)


def score_map_coverage_left_as_size_mod_stride(height, width, stride=32, window=224):
    """Right whenever the window is a multiple of the stride (VGG-16's 224 = 7 × 32)."""
    return _coverage(height, width, stride, window, left=lambda size, s: size % s)


def _lateral_macs(channels, strides, image_size, out_channels, side):
    return [
        side(image_size[0], s) * side(image_size[1], s) * c * out_channels
        for c, s in zip(channels, strides, strict=True)
    ]


def _heaviest_of(macs, level=None):
    level = macs.index(max(macs)) if level is None else level
    return {"level": level, "macs": macs[level], "share": macs[level] / sum(macs)}


def heaviest_lateral_always_the_finest(channels, strides, image_size, out_channels=256):
    """The halving pattern of ResNet-50 assumed: right whenever the finest level does cost the most."""
    return _heaviest_of(_lateral_macs(channels, strides, image_size, out_channels, lambda a, s: -(-a // s)), 0)


def heaviest_lateral_with_floor(channels, strides, image_size, out_channels=256):
    """Right whenever the image's sides are multiples of the strides."""
    return _heaviest_of(_lateral_macs(channels, strides, image_size, out_channels, lambda a, s: a // s))


def break_even_with_less_or_equal(in_channels, ch5x5, size):
    return 25 * in_channels * ch5x5 // (in_channels + 25 * ch5x5)  # right except where the two costs tie


def _projection(in_channels, out_channels, stride):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
    )


def shortcut_projection_only_when_strided(in_channels, out_channels, stride):
    """The circulating bug."""
    return _projection(in_channels, out_channels, stride) if stride != 1 else nn.Identity()


def shortcut_projection_only_when_widths_differ(in_channels, out_channels, stride):
    return _projection(in_channels, out_channels, stride) if in_channels != out_channels else nn.Identity()


def shortcut_projection_always(in_channels, out_channels, stride):
    return _projection(in_channels, out_channels, stride)


def kernel_depth_bug_kept(c_in, c_out, k, groups, bias=True):
    """The buggy count with a valid test case: right only on equal widths."""
    return c_out * (c_out // groups) * k * k + (c_out if bias else 0), (groups, 2 * groups)


def kernel_depth_test_of_the_layer_itself(c_in, c_out, k, groups, bias=True):
    """The right count, and the layer's own channels as the test case: no test where the widths are equal."""
    return c_out * (c_in // groups) * k * k + (c_out if bias else 0), (c_in, c_out)


def kernel_depth_always_bias(c_in, c_out, k, groups, bias=True):
    return c_out * (c_in // groups) * k * k + c_out, (groups, 2 * groups)


def batch_only_at_one_image(c_in, c_out, height, width, peak_gflops, bandwidth_gbs):
    """Only batch 1 looked at (as ex08_roofline places one intensity): right at batch 1 and where no batch will do."""
    pixels = height * width
    intensity = 2 * pixels * c_in * c_out / (4 * (pixels * (c_in + c_out) + c_in * c_out))
    return 1 if intensity >= peak_gflops / bandwidth_gbs else None


def roofline_always_memory(intensity, peak_gflops, bandwidth_gbs):
    return {"attainable": min(peak_gflops, bandwidth_gbs * intensity), "bound": "memory"}


WRONG_BRANCH = [
    ("ex00_conv_cost", conv_cost_always_bias, "always bias=True"),
    ("ex03_break_even_reduce", break_even_with_less_or_equal, "a tie counted as saving"),
    ("ex04_bottleneck_macs", bottleneck_macs_always_projection, "always a projection"),
    ("ex04_bottleneck_block", BottleneckProjectionOnlyWhenStrided, "a projection only when strided"),
    ("ex04_shortcut_bug", shortcut_projection_only_when_strided, "a projection only when strided (the bug)"),
    ("ex04_shortcut_bug", shortcut_projection_only_when_widths_differ, "a projection only when the widths differ"),
    ("ex04_shortcut_bug", shortcut_projection_always, "a projection always"),
    ("ex06_kernel_depth_bug", kernel_depth_bug_kept, "the buggy count kept"),
    ("ex06_kernel_depth_bug", kernel_depth_test_of_the_layer_itself, "the layer's own channels as the test"),
    ("ex06_kernel_depth_bug", kernel_depth_always_bias, "always bias=True"),
    ("ex05_score_map_coverage", score_map_coverage_default_stride_window, "32 and 224 hard-coded"),
    ("ex05_score_map_coverage", score_map_coverage_left_as_size_mod_stride, "rows left as size % stride"),
    ("ex06_grouped_conv_cost", grouped_checks_only_in_channels, "only in_channels validated"),
    ("ex07_heaviest_lateral", heaviest_lateral_always_the_finest, "always the finest level (the halving pattern)"),
    ("ex07_heaviest_lateral", heaviest_lateral_with_floor, "floor(H / s) for the maps"),
    ("ex08_batch_to_be_compute_bound", batch_only_at_one_image, "only batch 1 looked at"),
    ("ex08_roofline", roofline_always_memory, "always 'memory'"),
]


def output_shape_padding_once(input_shape, out_channels, kernel_size, stride=1, padding=0):
    n, _, h, w = input_shape
    return n, out_channels, (h + padding - kernel_size) // stride + 1, (w + padding - kernel_size) // stride + 1


def conv2d_square_only(x, w, b):
    k = w.shape[-1]
    size = x.shape[1] - k + 1  # assumes H = W
    windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))[:, :size, :size]
    return np.einsum("chwuv,ocuv->ohw", windows, w) + b[:, None, None]


def pointwise_first_image_only(x, w, b):
    c, *spatial = x.shape[1:]
    out = (x[0].reshape(c, -1).T @ w.T + b).T.reshape(1, -1, *spatial)
    return np.repeat(out, x.shape[0], axis=0)


def pointwise_only_4d(x, w, b):
    n, c, h, ww = x.shape  # raises on Conv1d and Conv3d inputs
    return (x.transpose(0, 2, 3, 1).reshape(-1, c) @ w.T + b).reshape(n, h, ww, -1).transpose(0, 3, 1, 2)


def pointwise_circulating_bug(x, w, b):
    n, c = x.shape[:2]
    return (x.reshape(-1, c) @ w.T + b).reshape(n, w.shape[0], *x.shape[2:])


def linear_to_conv_always_bias(linear):
    conv = nn.Conv2d(linear.in_features, linear.out_features, 1, bias=True)
    with torch.no_grad():
        conv.weight.copy_(linear.weight[:, :, None, None])
        conv.bias.copy_(linear.bias if linear.bias is not None else torch.zeros(linear.out_features))
    return conv


def pointwise_vs_dense_square(c_in, c_out, height, width):
    pointwise = c_in * c_out + c_out
    dense = (c_in * height * height) * (c_out * height * height) + c_out * height * height
    return pointwise, dense, dense / pointwise


def channel_pca_first_image(x, k):
    pixels = x[:1].transpose(0, 2, 3, 1).reshape(-1, x.shape[1]).astype(np.float64)
    mean = pixels.mean(axis=0)
    _, _, vt = np.linalg.svd(pixels - mean, full_matrices=False)
    return vt[:k], mean


def signal_kept_unit_signals_only(x, signal, k):
    pixels = x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1]).astype(np.float64)
    _, _, vt = np.linalg.svd(pixels - pixels.mean(axis=0), full_matrices=False)
    return float(np.sum((vt[:k] @ signal.astype(np.float64)) ** 2))  # right only when ‖signal‖ = 1


def pca_encoder_no_bias_when_square(components, mean):
    k, c = components.shape
    conv = nn.Conv2d(c, k, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(components)[:, :, None, None])
        conv.bias.copy_(torch.from_numpy(-(components @ mean)) if k < c else torch.zeros(k))
    return conv


def inception_params_shared_reduce(c, c1, r3, c3, r5, c5, pp):
    conv = lambda i, o, k: i * o * k * k + o  # noqa: E731
    return conv(c, c1, 1) + conv(c, r3, 1) + conv(r3, c3, 3) + conv(c, r5, 1) + conv(r3, c5, 5) + conv(c, pp, 1)


def inception_macs_on_28(c, c1, r3, c3, r5, c5, pp, size):
    return 28 * 28 * (c * c1 + c * r3 + 9 * r3 * c3 + c * r5 + 25 * r5 * c5 + c * pp)


class InceptionSquareOnly(nn.Module):
    """Right on square maps; on a non-square one it pads the pool branch as if H were W."""

    def __init__(self, c, c1, r3, c3, r5, c5, pp):
        super().__init__()
        self.branch1x1 = nn.Sequential(nn.Conv2d(c, c1, 1), nn.ReLU())
        self.branch3x3 = nn.Sequential(nn.Conv2d(c, r3, 1), nn.ReLU(), nn.Conv2d(r3, c3, 3, padding=1), nn.ReLU())
        self.branch5x5 = nn.Sequential(nn.Conv2d(c, r5, 1), nn.ReLU(), nn.Conv2d(r5, c5, 5, padding=2), nn.ReLU())
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(c, pp, 1), nn.ReLU())
        self.out_channels = c1 + c3 + c5 + pp

    def forward(self, x):
        outs = [self.branch1x1(x), self.branch3x3(x), self.branch5x5(x), self.branch_pool(x)]
        if x.shape[-1] != x.shape[-2]:
            outs[3] = torch.zeros_like(outs[3])
        return torch.cat(outs, dim=1)


def fc_weight_to_conv_square_map_only(weight, in_channels, kernel_size):
    if in_channels == 1 or kernel_size == 1:
        return weight.reshape(weight.shape[0], in_channels, kernel_size, kernel_size)
    return weight.reshape(weight.shape[0], kernel_size, kernel_size, in_channels).permute(0, 3, 1, 2)


def receptive_field_jump_first(layers):
    field, jump, start = 1, 1, 0
    for k, stride, padding in layers:
        jump *= stride  # a layer's stride applied to its own kernel
        start -= padding * jump
        field += (k - 1) * jump
    return field, jump, start


class SeparableFixedPadding(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size=3):
        super().__init__()
        self.depthwise = nn.Conv2d(in_channels, in_channels, kernel_size, padding=1, groups=in_channels, bias=False)
        self.pointwise = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


def separable_ratio_in_channels_as_n(m, n, k, s):
    return 1 / m + 1 / (k * k)


def channel_shuffle_groups_two(x, groups):
    n, c, h, w = x.shape
    return x.reshape(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w) if c % 2 == 0 else x.clone()


def lateral_merge_scale_two(coarse, fine, lateral_conv):
    return lateral_conv(fine) + F.interpolate(coarse, scale_factor=2, mode="nearest")


def top_down_no_accumulation(features, laterals):
    lat = [conv(f) for conv, f in zip(laterals, features, strict=True)]
    merged = [lat[-1]]
    for i in range(len(lat) - 2, -1, -1):
        merged.insert(0, lat[i] + F.interpolate(lat[i + 1], size=lat[i].shape[-2:], mode="nearest"))
    return merged


def predict_speedup_in_channels_as_out(in_channels, out_channels, size, batch_size):
    """Right whenever C_in = C_out: the MAC ratio 9·C/(9 + C) taken with C = in_channels."""
    macs = batch_size * size * size * in_channels * out_channels * 9
    tiny = macs < 1_000_000
    return {
        "mac_ratio": 9 * in_channels / (9 + in_channels),
        "faster": "standard" if tiny else "separable",
        "speedup": "close" if not tiny and out_channels >= 256 else "well below",
    }


WRONG_BRANCH += [
    ("ex00_conv_output_shape", output_shape_padding_once, "padding on one side only"),
    ("ex00_conv2d", conv2d_square_only, "square inputs only"),
    ("ex01_reshape_bug", pointwise_first_image_only, "the first image only"),
    ("ex01_reshape_bug", pointwise_only_4d, "4-D input only"),
    ("ex01_reshape_bug", pointwise_circulating_bug, "the buggy reshape kept"),
    ("ex01_linear_to_conv1x1", linear_to_conv_always_bias, "always bias=True"),
    ("ex01_pointwise_vs_dense", pointwise_vs_dense_square, "height used for width"),
    ("ex02_channel_pca", channel_pca_first_image, "the first image only"),
    ("ex02_pca_encoder", pca_encoder_no_bias_when_square, "no bias when k = C"),
    ("ex02_signal_kept", signal_kept_unit_signals_only, "the signal's length ignored"),
    ("ex03_inception_params", inception_params_shared_reduce, "the 5×5 reads ch3x3_reduce"),
    ("ex03_inception_macs", inception_macs_on_28, "the map size of inception (3a) kept"),
    ("ex03_inception_module", InceptionSquareOnly, "right on square maps only"),
    ("ex05_fc_weight_to_conv", fc_weight_to_conv_square_map_only, "channels-last flatten"),
    ("ex05_receptive_field", receptive_field_jump_first, "a stride applied to its own layer"),
    ("ex05_keras_fc_to_conv", lambda w, c, k: w.reshape(w.shape[0], c, k, k).clone(), "the buggy line kept"),
    ("ex06_depthwise_separable", SeparableFixedPadding, "padding=1 for every kernel"),
    ("ex06_separable_cost_ratio", separable_ratio_in_channels_as_n, "in_channels as N"),
    ("ex06_channel_shuffle", channel_shuffle_groups_two, "groups=2 hard-coded"),
    ("ex07_lateral_merge", lateral_merge_scale_two, "scale_factor=2"),
    ("ex07_top_down", top_down_no_accumulation, "laterals, not merged maps, upsampled"),
    ("ex08_predict_speedup", predict_speedup_in_channels_as_out, "in_channels used for out_channels"),
]


# -- lessons 09 and 10 -----------------------------------------------------------------------------------------------
def budget_stem_of_the_images(family, mac_budget, in_channels, image_size, stem_stride, stem_pool):
    """Right for lesson 09's images; builds and counts every member with their stem (stride 2, pool) on digits too."""
    from course_utils import families
    from course_utils.counting import profile

    best, width = None, 8
    while width <= 256:
        model = families.build(family, width, in_channels, 10, 2, True)
        if profile(model, (1, in_channels, image_size, image_size)).total_macs > mac_budget:
            break
        best, width = model, width + 4
    return best


def pareto_twins_drop_each_other(rows):
    return [
        r["name"]
        for r in rows
        if not any(o is not r and o["macs"] <= r["macs"] and o["accuracy"] >= r["accuracy"] for o in rows)
    ]


def predict_always_a(design_a, design_b):
    a, b = design_a["macs"], design_b["macs"]
    return {"winner": "a", "ratio": max(a, b) / min(a, b)}


class InvertedResidualAlwaysExpands(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1, expand_ratio=6):
        super().__init__()
        hidden = int(round(in_channels * expand_ratio))
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 1, bias=False),  # kept when expand_ratio == 1
            nn.BatchNorm2d(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.shortcut = stride == 1 and in_channels == out_channels

    def forward(self, x):
        return x + self.body(x) if self.shortcut else self.body(x)


class SqueezeExcitationNoCheck(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1)

    @staticmethod
    def param_count(channels, reduction):
        return 2 * channels * (channels // reduction) + channels // reduction + channels

    def forward(self, x):
        return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3), keepdim=True)))))


def backward_first_image_only(x, w, grad_out):
    n, c_in, h, ww = x.shape
    xs, dy = x.reshape(n, c_in, h * ww), grad_out.reshape(n, w.shape[0], h * ww)
    return (w.T @ dy).reshape(x.shape), dy[0] @ xs[0].T, dy[0].sum(axis=1)


WRONG_BRANCH += [
    ("ex09_build_at_budget", budget_stem_of_the_images, "the images' stem used on digits"),
    ("ex09_pareto_front", pareto_twins_drop_each_other, "identical rows dominate each other"),
    ("ex09_predict_accuracy_per_mac", predict_always_a, "always 'a'"),
    ("ex10_inverted_residual", InvertedResidualAlwaysExpands, "the expansion kept at expand_ratio = 1"),
    ("ex10_squeeze_excitation", SqueezeExcitationNoCheck, "no check that reduction divides channels"),
    ("ex10_pointwise_backward", backward_first_image_only, "grad_w and grad_b of the first image only"),
]


@pytest.mark.parametrize(("name", "wrong", "what"), WRONG_BRANCH, ids=[f"{n}: {w}" for n, _, w in WRONG_BRANCH])
def test_a_wrong_branch_earns_at_most_half_the_points(name, wrong, what):
    points = checks.get(name).points
    for seed in SEEDS:
        earned = testing.score(name, wrong, seed)
        assert earned <= points / 2, f"{name} ({what}): {earned:g} of {points:g} points with seed {seed}"


def test_scoring_is_the_graders_formula():
    ns = {"f": lambda *a: conv_cost_always_bias(*a)}
    verdict = testing.check("ex00_conv_cost", ns["f"], seed=SEEDS[0])
    assert testing.score("ex00_conv_cost", ns["f"], SEEDS[0]) == pytest.approx(3 * verdict.hidden_fraction)
    assert np.isclose(testing.score("ex00_conv_cost", lambda *a: (0, 0), SEEDS[0]), 0.0)
