"""Valid answers written differently from the solution pass (issue 11 §1): other formulas, other library calls,
other return types where the task names none, other module layouts (those are in test_checks_fairness.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.checks import testing


def output_shape_with_floor(input_shape, out_channels, kernel_size, stride=1, padding=0):
    n, _, h, w = input_shape
    size = [math.floor((v + 2 * padding - kernel_size) / stride) + 1 for v in (h, w)]
    return (int(n), int(out_channels), size[0], size[1])


def conv_cost_from_a_module(c_in, c_out, k, size, stride=1, padding=0, bias=True):
    with torch.device("meta"):
        conv = nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=bias)
    out = (size + 2 * padding - k) // stride + 1
    return [sum(p.numel() for p in conv.parameters()), out * out * conv.weight.numel()]


def conv2d_with_loops_over_channels(x, w, b):
    c_out, _, k, _ = w.shape
    h, ww = x.shape[1] - k + 1, x.shape[2] - k + 1
    out = np.empty((c_out, h, ww), dtype=np.float64)
    for o in range(c_out):
        acc = np.full((h, ww), float(b[o]))
        for u in range(k):
            for v in range(k):
                acc += np.tensordot(w[o, :, u, v], x[:, u : u + h, v : v + ww], axes=1)
        out[o] = acc
    return out


def pointwise_with_batched_matmul(x, w, b):
    """The lesson's (C, pixels) view of each image: w @ x.reshape(N, C_in, -1), batched; any spatial axes."""
    n, c_in = x.shape[:2]
    return (w @ x.reshape(n, c_in, -1) + b[:, None]).reshape(n, w.shape[0], *x.shape[2:])


def pointwise_with_swapped_axes(x, w, b):
    """Channels swapped with the LAST axis (the pixels' order reversed, which a matmul does not care about)."""
    rows = np.swapaxes(x, 1, -1)
    out = rows.reshape(-1, x.shape[1]) @ w.T + b
    return np.swapaxes(out.reshape(*rows.shape[:-1], -1), 1, -1)


def linear_to_conv_with_view(linear):
    conv = nn.Conv2d(linear.in_features, linear.out_features, kernel_size=(1, 1), bias=linear.bias is not None)
    conv.weight = nn.Parameter(linear.weight.detach().clone().view(*linear.weight.shape, 1, 1))
    if linear.bias is not None:
        conv.bias = nn.Parameter(linear.bias.detach().clone())
    return conv


def pointwise_vs_dense_as_list(c_in, c_out, h, w):
    pw = (c_in + 1) * c_out
    dense = (c_in * h * w + 1) * c_out * h * w
    return [pw, dense, dense / pw]


def channel_pca_with_eigh(x, k):
    pixels = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1]).astype(np.float64)
    mean = pixels.mean(axis=0)
    centred = pixels - mean
    values, vectors = np.linalg.eigh(centred.T @ centred)
    return vectors[:, ::-1][:, :k].T, mean


def pca_encoder_with_data(components, mean):
    k, c = components.shape
    conv = nn.Conv2d(c, k, 1)
    conv.weight.data = torch.tensor(components).reshape(k, c, 1, 1)
    conv.bias.data = torch.tensor(-components @ mean)
    return conv


def signal_kept_with_eigh(x, signal, k):
    components, _ = channel_pca_with_eigh(x, k)
    s = torch.as_tensor(signal, dtype=torch.float64)
    projection = torch.as_tensor(components.copy()) @ (s / s.norm())
    return (projection**2).sum().item()


def inception_params_from_modules(c, c1, r3, c3, r5, c5, pp):
    with torch.device("meta"):
        convs = [nn.Conv2d(c, c1, 1), nn.Conv2d(c, r3, 1), nn.Conv2d(r3, c3, 3), nn.Conv2d(c, r5, 1)]
        convs += [nn.Conv2d(r5, c5, 5), nn.Conv2d(c, pp, 1)]
    return sum(p.numel() for conv in convs for p in conv.parameters())


def inception_macs_from_modules(c, c1, r3, c3, r5, c5, pp, size):
    with torch.device("meta"):
        convs = [nn.Conv2d(c, c1, 1), nn.Conv2d(c, r3, 1), nn.Conv2d(r3, c3, 3), nn.Conv2d(c, r5, 1)]
        convs += [nn.Conv2d(r5, c5, 5), nn.Conv2d(c, pp, 1)]
    return sum(size * size * conv.weight.numel() for conv in convs)  # 'same' padding: every conv keeps the size


def break_even_by_search(in_channels, ch5x5, size):
    """Widen the reduction one channel at a time while it still saves MACs (a loop, not the closed form)."""
    direct = size * size * in_channels * 25 * ch5x5
    r = 0
    while size * size * (r + 1) * (in_channels + 25 * ch5x5) < direct:
        r += 1
    return np.int64(r)  # a NumPy integer is an int here


def bottleneck_macs_by_layers(c, m, o, size, stride=1):
    layers = [(c, m, 1, stride, 0), (m, m, 3, 1, 1), (m, o, 1, 1, 0)]
    total, h = 0, size
    for c_in, c_out, k, s, p in layers:
        h = (h + 2 * p - k) // s + 1
        total += h * h * c_in * c_out * k * k
    if stride != 1 or c != o:
        total += h * h * c * o
    return total


class _Projection(nn.Module):
    """A 1×1 conv with the stride then BatchNorm, as a module of its own (not an nn.Sequential)."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.bn = nn.BatchNorm2d(out_channels)  # registered first: the order of registration does not matter
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=(1, 1), stride=(stride, stride), bias=False)

    def forward(self, x):
        return self.bn(self.conv(x))


def shortcut_as_its_own_module(in_channels, out_channels, stride):
    if (in_channels, stride) == (out_channels, 1):
        return nn.Sequential()  # an empty Sequential is an identity too
    return _Projection(in_channels, out_channels, stride)


def kernel_depth_from_torch(in_channels, out_channels, kernel_size, groups, bias=True):
    layer = nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, bias=bias)
    test = [5 * groups, groups]  # a list for the pair, narrower rather than wider
    return sum(p.numel() for p in layer.parameters()), test


def fc_weight_with_unflatten(weight, in_channels, kernel_size):
    return weight.unflatten(1, (in_channels, kernel_size, kernel_size)).clone()


def score_map_coverage_by_counting(height, width, stride=32, window=224):
    """Lists, and the windows laid out one by one."""

    def along(size):
        starts = list(range(0, size - window + 1, stride))
        return len(starts), size - (starts[-1] + window)

    (h_out, rows), (w_out, cols) = along(height), along(width)
    return [[h_out, w_out], [rows, cols]]


def score_map_coverage_with_divmod(height, width, stride=32, window=224):
    """Whole steps and the remainder in one divmod: the rows left are (size − window) % stride."""
    (steps_h, rows), (steps_w, cols) = divmod(height - window, stride), divmod(width - window, stride)
    return (steps_h + 1, steps_w + 1), (rows, cols)


def receptive_field_by_products(layers):
    jumps = [1]
    for _, stride, _ in layers:
        jumps.append(jumps[-1] * stride)
    field = 1 + sum((k - 1) * j for (k, _, _), j in zip(layers, jumps, strict=False))
    start = -sum(p * j for (_, _, p), j in zip(layers, jumps, strict=False))
    return [field, jumps[-1], start]


def keras_with_an_index(weight, in_channels, kernel_size):
    c, k = in_channels, kernel_size
    index = torch.tensor([[[h * k * c + w * c + ch for w in range(k)] for h in range(k)] for ch in range(c)])
    return weight[:, index]


def grouped_with_divmod(c_in, c_out, k, size, groups, bias=True):
    depth, rest_in = divmod(c_in, groups)
    _, rest_out = divmod(c_out, groups)
    if rest_in or rest_out:
        raise ValueError(f"groups={groups} must divide in_channels={c_in} and out_channels={c_out}")
    weights = c_out * depth * k**2
    return [weights + c_out * int(bias), weights * size**2]


def ratio_from_the_formula(m, n, k, s):
    return 1 / n + 1 / k**2


def shuffle_with_an_index(x, groups):
    c = x.shape[1]
    order = torch.arange(c).reshape(groups, c // groups).T.reshape(-1)
    return x.index_select(1, order)


def merge_with_nearest_exact(coarse, fine, lateral_conv):
    return lateral_conv(fine) + F.interpolate(coarse, size=tuple(fine.shape[-2:]), mode="nearest-exact")


def top_down_recursive(features, laterals):
    if len(features) == 1:
        return [laterals[0](features[0])]
    rest = top_down_recursive(features[1:], laterals[1:])
    first = laterals[0](features[0]) + F.interpolate(rest[0], size=features[0].shape[-2:])
    return [first, *rest]


def heaviest_lateral_with_numpy(in_channels_list, strides, image_size, out_channels=256):
    """NumPy arrays and float ceilings; numpy's argmax also takes the first of tied maxima."""
    strides = np.asarray(strides)
    maps = np.ceil(np.asarray(image_size)[None, :] / strides[:, None]).astype(np.int64)  # (levels, 2)
    macs = maps.prod(axis=1) * np.asarray(in_channels_list) * out_channels
    level = np.argmax(macs)
    return {"share": macs[level] / macs.sum(), "level": level, "macs": macs[level], "maps": maps.tolist()}


def batch_by_search(in_channels, out_channels, height, width, peak_gflops, bandwidth_gbs):
    """No closed form: rule out the never-case by the limit, then try batch sizes one by one."""
    ridge = peak_gflops / bandwidth_gbs

    def intensity(n):
        pixels = n * height * width
        flops = 2 * pixels * in_channels * out_channels
        return flops / (4 * (pixels * in_channels + in_channels * out_channels + pixels * out_channels))

    if in_channels * out_channels / (2 * (in_channels + out_channels)) <= ridge:
        return None
    n = 1
    while intensity(n) < ridge:
        n += 1
    return n


def roofline_with_if(intensity, peak_gflops, bandwidth_gbs):
    memory_roof = intensity * bandwidth_gbs
    if memory_roof < peak_gflops:
        return {"bound": "memory", "attainable": memory_roof}
    return {"bound": "compute", "attainable": float(peak_gflops)}


def predict_speedup_by_roofline(in_channels, out_channels, size, batch_size):
    """Estimate each conv's time on an assumed machine (50 GFLOP/s, 5 GB/s, 20 µs per call), then classify."""
    peak, bandwidth, call = 50e9, 5e9, 20e-6
    pixels = batch_size * size * size

    def seconds(macs, numbers_moved):
        return call + max(2 * macs / peak, 4 * numbers_moved / bandwidth)

    standard = seconds(
        pixels * in_channels * out_channels * 9, pixels * (in_channels + out_channels) + 9 * in_channels * out_channels
    )
    depthwise = seconds(pixels * in_channels * 9, 2 * pixels * in_channels + 9 * in_channels)
    pointwise = seconds(
        pixels * in_channels * out_channels, pixels * (in_channels + out_channels) + in_channels * out_channels
    )
    ratio = np.float64(pixels * in_channels * out_channels * 9) / (pixels * in_channels * (9 + out_channels))
    speedup = standard / (depthwise + pointwise)
    return {
        "speedup": "well below" if speedup / ratio < 0.6 else "close",
        "faster": "separable" if speedup > 1 else "standard",
        "mac_ratio": ratio,
        "estimate": speedup,  # an extra key is fine
    }


def pareto_front_with_numpy(rows):
    macs = np.array([r["macs"] for r in rows])
    acc = np.array([r["accuracy"] for r in rows])
    no_worse = (macs[:, None] <= macs[None, :]) & (acc[:, None] >= acc[None, :])
    better = (macs[:, None] < macs[None, :]) | (acc[:, None] > acc[None, :])
    dominated = (no_worse & better).any(axis=0)  # column j: some row i dominates row j
    return [r["name"] for r, d in zip(rows, dominated, strict=True) if not d]


def predict_by_sorting_with_an_extra_key(design_a, design_b):
    cheaper, dearer = sorted([("a", design_a["macs"]), ("b", design_b["macs"])], key=lambda item: item[1])
    return {"ratio": dearer[1] / cheaper[1], "winner": cheaper[0], "why": "digits accuracies are all close"}


class InvertedResidualWithNamedStages(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1, expand_ratio=6):
        super().__init__()
        hidden = round(in_channels * expand_ratio)
        self.expand = (
            nn.Sequential(nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6())
            if expand_ratio != 1
            else nn.Identity()
        )
        self.dw = nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False)
        self.dw_bn = nn.BatchNorm2d(hidden)
        self.project = nn.Conv2d(hidden, out_channels, 1, bias=False)
        self.project_bn = nn.BatchNorm2d(out_channels)
        self.keeps_shape = stride == 1 and in_channels == out_channels

    def forward(self, x):
        y = self.project_bn(self.project(F.relu6(self.dw_bn(self.dw(self.expand(x))))))
        return y + x if self.keeps_shape else y


class SqueezeExcitationWithLinear(nn.Module):
    def __init__(self, channels, reduction=16):
        super().__init__()
        if channels % reduction != 0:
            raise ValueError(f"reduction={reduction} does not divide channels={channels}")
        self.gate = nn.Sequential(
            nn.Linear(channels, channels // reduction), nn.ReLU(), nn.Linear(channels // reduction, channels)
        )

    @staticmethod
    def param_count(channels, reduction):
        hidden = channels // reduction
        return (channels + 1) * hidden + (hidden + 1) * channels

    def forward(self, x):
        weights = torch.sigmoid(self.gate(x.mean(dim=(2, 3))))
        return x * weights[:, :, None, None]


def pointwise_backward_with_einsum(x, w, grad_out):
    grad_x = np.einsum("oi,nohw->nihw", w, grad_out)
    grad_w = np.einsum("nohw,nihw->oi", grad_out, x)
    return grad_x, grad_w, grad_out.sum(axis=(0, 2, 3))


ALTERNATIVES = [
    ("ex00_conv_output_shape", output_shape_with_floor),
    ("ex00_conv_cost", conv_cost_from_a_module),
    ("ex00_conv2d", conv2d_with_loops_over_channels),
    ("ex01_reshape_bug", pointwise_with_batched_matmul),
    ("ex01_reshape_bug", pointwise_with_swapped_axes),
    ("ex01_linear_to_conv1x1", linear_to_conv_with_view),
    ("ex01_pointwise_vs_dense", pointwise_vs_dense_as_list),
    ("ex02_channel_pca", channel_pca_with_eigh),
    ("ex02_pca_encoder", pca_encoder_with_data),
    ("ex02_signal_kept", signal_kept_with_eigh),
    ("ex03_inception_params", inception_params_from_modules),
    ("ex03_inception_macs", inception_macs_from_modules),
    ("ex03_break_even_reduce", break_even_by_search),
    ("ex04_bottleneck_macs", bottleneck_macs_by_layers),
    ("ex04_shortcut_bug", shortcut_as_its_own_module),
    ("ex05_fc_weight_to_conv", fc_weight_with_unflatten),
    ("ex05_score_map_coverage", score_map_coverage_by_counting),
    ("ex05_score_map_coverage", score_map_coverage_with_divmod),
    ("ex05_receptive_field", receptive_field_by_products),
    ("ex05_keras_fc_to_conv", keras_with_an_index),
    ("ex06_grouped_conv_cost", grouped_with_divmod),
    ("ex06_separable_cost_ratio", ratio_from_the_formula),
    ("ex06_channel_shuffle", shuffle_with_an_index),
    ("ex06_kernel_depth_bug", kernel_depth_from_torch),
    ("ex07_lateral_merge", merge_with_nearest_exact),
    ("ex07_top_down", top_down_recursive),
    ("ex07_heaviest_lateral", heaviest_lateral_with_numpy),
    ("ex08_batch_to_be_compute_bound", batch_by_search),
    ("ex08_roofline", roofline_with_if),
    ("ex08_predict_speedup", predict_speedup_by_roofline),  # judged on the fake machine of tests/conftest.py
    # ex09_build_at_budget: a bisection over the widths passes in tests/test_checks_09.py (each case builds models)
    ("ex09_pareto_front", pareto_front_with_numpy),
    ("ex09_predict_accuracy_per_mac", predict_by_sorting_with_an_extra_key),
    ("ex10_inverted_residual", InvertedResidualWithNamedStages),
    ("ex10_squeeze_excitation", SqueezeExcitationWithLinear),
    ("ex10_pointwise_backward", pointwise_backward_with_einsum),
]


@pytest.mark.parametrize(("name", "answer"), ALTERNATIVES, ids=[n for n, _ in ALTERNATIVES])
def test_a_valid_answer_written_differently_passes(name, answer):
    testing.assert_passes(name, answer, seed=3)
