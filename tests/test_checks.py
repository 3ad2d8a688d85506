"""Checkers of lessons 00–04: plausible wrong implementations fail with their specific hint, and the
framework's behaviour (never raises, hides hidden data, codec, seeds). What every checker must do
(solution passes, stub 'not attempted') is in tests/test_checks_every_lesson.py."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from course_utils import checks
from course_utils.checks import testing
from course_utils.checks._framework import compare, decode, encode

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = {nb.name[:2]: nb for nb in sorted((ROOT / "solutions").glob("0[0-4]_*.ipynb"))}
LESSONS = sorted(SOLUTIONS)


def _exercises():
    return [e for lesson in LESSONS for e in checks.exercises_for_lesson(lesson)]


# ---------------------------------------------------------------------------------------------
# Wrong implementations: (exercise, implementation, fragment the hint must contain)
# ---------------------------------------------------------------------------------------------
def _shape(h_out):
    def f(input_shape, out_channels, kernel_size, stride=1, padding=0):
        n, _, h, w = input_shape
        return (n, out_channels, h_out(h, kernel_size, stride, padding), h_out(w, kernel_size, stride, padding))

    return f


def _cost(params_fn, macs_fn):
    def f(c_in, c_out, k, size, stride=1, padding=0, bias=True):
        out = (size + 2 * padding - k) // stride + 1
        return params_fn(c_in, c_out, k, bias), macs_fn(c_in, c_out, k, size, out)

    return f


def _np_conv(x, w, b):
    k = w.shape[-1]
    return np.einsum("chwuv,ocuv->ohw", sliding_window_view(x, (k, k), axis=(1, 2)), w) + b[:, None, None]


def _pw(x, w, b):
    """The fixed pointwise_conv of ex01_reshape_bug, for (N, C_in, *spatial)."""
    n, c, *spatial = x.shape
    return np.moveaxis((np.moveaxis(x, 1, -1).reshape(-1, c) @ w.T + b).reshape(n, *spatial, -1), -1, 1)


def _pw_rows(x):
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _pw_only_4d(x, w, b):
    n, c, h, ww = x.shape  # raises on Conv1d and Conv3d inputs
    return (x.transpose(0, 2, 3, 1).reshape(-1, c) @ w.T + b).reshape(n, h, ww, -1).transpose(0, 3, 1, 2)


def _pw_needs_two_rows(x, w, b):
    """Raises on every input that is not a 2-D map with H > 1: also on the 4-D layout of a 1-D input."""
    if x.ndim != 4 or x.shape[2] == 1:
        raise ValueError("expected (N, C, H, W) with H > 1")
    return _pw(x, w, b)


def _l2c(copy_bias=True, transpose=False, bias_flag=None):
    def f(linear):
        has_bias = linear.bias is not None if bias_flag is None else bias_flag
        conv = nn.Conv2d(linear.in_features, linear.out_features, 1, bias=has_bias)
        with torch.no_grad():
            weight = linear.weight.T if transpose else linear.weight
            conv.weight.copy_(weight.reshape(conv.weight.shape))
            if copy_bias and linear.bias is not None and has_bias:
                conv.bias.copy_(linear.bias)
        return conv

    return f


def _kept(centre=True, rows=True, squared=True, normalise=True):
    def f(x, signal, k):
        pixels = x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1]).astype(np.float64)
        _, _, vt = np.linalg.svd(pixels - pixels.mean(axis=0) if centre else pixels, full_matrices=False)
        basis = vt if rows else vt.T
        s = signal / np.linalg.norm(signal) if normalise else signal.astype(np.float64)
        energy = float(np.sum((basis[:k] @ s) ** 2))
        return energy if squared else energy**0.5

    return f


def _inception_macs(k5=5, reduce=True, pool=True):
    def f(c, c1, r3, c3, r5, c5, pp, size):
        per_pixel = c * c1 + (c * pp if pool else 0)
        if reduce:
            per_pixel += c * r3 + r3 * c3 * 9 + c * r5 + r5 * c5 * k5 * k5
        else:
            per_pixel += c * c3 * 9 + c * c5 * k5 * k5
        return size * size * per_pixel

    return f


WRONG: list[tuple[str, object, str]] = [
    ("ex03_inception_macs", _inception_macs(k5=3, reduce=False), "buggy count itself"),
    ("ex03_inception_macs", _inception_macs(reduce=False), "reductions are still missing"),
    ("ex03_inception_macs", _inception_macs(k5=3), "still counted with a 3×3 kernel"),
    ("ex03_inception_macs", _inception_macs(pool=False), "pool branch"),
    ("ex02_signal_kept", _kept(centre=False), "centre the pixels"),
    ("ex02_signal_kept", _kept(rows=False), "ROWS of Vt"),
    ("ex02_signal_kept", _kept(squared=False), "SQUARED length"),
    ("ex02_signal_kept", _kept(normalise=False), "unit length"),
    ("ex00_conv_output_shape", _shape(lambda h, k, s, p: (h + 2 * p - k) // s), "+1"),
    ("ex00_conv_output_shape", _shape(lambda h, k, s, p: (h + p - k) // s + 1), "each side"),
    ("ex00_conv_output_shape", _shape(lambda h, k, s, p: math.ceil((h + 2 * p - k) / s) + 1), "floor"),
    ("ex00_conv_output_shape", _shape(lambda h, k, s, p: h + 2 * p - k + 1), "stride"),
    (
        "ex00_conv_cost",
        _cost(lambda ci, co, k, b: ci * co * k * k, lambda ci, co, k, s, o: o * o * ci * co * k * k),
        "bias",
    ),
    (
        "ex00_conv_cost",
        _cost(lambda ci, co, k, b: ci * co * k * k + (co if b else 0), lambda ci, co, k, s, o: s * s * ci * co * k * k),
        "output size",
    ),
    (
        "ex00_conv_cost",
        _cost(lambda ci, co, k, b: ci * co * k + (co if b else 0), lambda ci, co, k, s, o: o * o * ci * co * k),
        "square",
    ),
    ("ex00_conv2d", lambda x, w, b: _np_conv(x, w, np.zeros_like(b)), "bias"),
    ("ex00_conv2d", lambda x, w, b: _np_conv(x, np.ascontiguousarray(w[:, :, ::-1, ::-1]), b), "flipped"),
    (
        "ex00_conv2d",
        lambda x, w, b: (
            _np_conv(x, np.ascontiguousarray(w.transpose(1, 0, 2, 3)), b)
            if w.shape[0] == w.shape[1]
            else _np_conv(x, w, b)
        ),
        "transposed",
    ),
    ("ex00_conv2d", lambda x, w, b: x[: w.shape[0]], "shape"),
    ("ex01_reshape_bug", lambda x, w, b: _pw(x, w, 0 * b), "bias is forgotten"),
    ("ex01_reshape_bug", lambda x, w, b: _pw(x, w.T, b) if w.shape[0] == w.shape[1] else _pw(x, w, b), "transposed"),
    (
        "ex01_reshape_bug",
        lambda x, w, b: (x.reshape(-1, x.shape[1]) @ w.T + b).reshape(x.shape[0], w.shape[0], *x.shape[2:]),
        "circulating bug itself",
    ),
    (
        "ex01_reshape_bug",
        lambda x, w, b: (_pw_rows(x) @ w.T + b).reshape(x.shape[0], w.shape[0], *x.shape[2:]),
        "the way back",
    ),
    (
        "ex01_reshape_bug",
        lambda x, w, b: (_pw_rows(x) @ w.T + b).reshape(x.shape[0], *x.shape[2:], w.shape[0]),
        "channels are left last",
    ),
    ("ex01_reshape_bug", _pw_only_4d, "handles only 4-D input"),
    ("ex01_reshape_bug", lambda x, w, b: _pw(x, w, b).swapaxes(2, -1), "another order"),
    ("ex01_reshape_bug", _pw_needs_two_rows, "raised on a valid input"),
    ("ex01_reshape_bug", lambda x, w, b: 2 * _pw(x, w, b), "not one of the known mistakes"),
    ("ex01_linear_to_conv1x1", _l2c(copy_bias=False), "bias is not copied"),
    ("ex01_linear_to_conv1x1", _l2c(bias_flag=True), "bias=False"),
    ("ex01_linear_to_conv1x1", _l2c(transpose=True), "transposed"),
    ("ex01_pointwise_vs_dense", lambda ci, co, h, w: (ci * co, ci * h * w * co * h * w, h * w * h * w * 1.0), "biases"),
    ("ex01_pointwise_vs_dense", lambda ci, co, h, w: (ci * co + co, (ci * co + co) * h * w, h * w * 1.0), "(H·W)²"),
    (
        "ex01_pointwise_vs_dense",
        lambda ci, co, h, w: (
            ci * co + co,
            ci * h * w * co * h * w + co * h * w,
            (ci * co + co) / (ci * h * w * co * h * w + co * h * w),
        ),
        "inverted",
    ),
]


# lesson 02
def _pixels(x):
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1]).astype(np.float64)


def _pca(pixels, k, centre=True):
    mean = pixels.mean(axis=0)
    _, _, vt = np.linalg.svd(pixels - mean if centre else pixels, full_matrices=False)
    return vt[:k], mean


def _eigh_pca(x, k):
    pixels = _pixels(x)
    values, vectors = np.linalg.eigh(np.cov(pixels, rowvar=False))
    return vectors[:, :k].T, pixels.mean(axis=0)  # eigh sorts ascending: the smallest directions


def _encoder(bias):
    def f(components, mean):
        k, c = components.shape
        conv = nn.Conv2d(c, k, 1)
        with torch.no_grad():
            conv.weight.copy_(torch.as_tensor(components)[:, :, None, None])
            conv.bias.copy_(torch.as_tensor(bias(components, mean), dtype=torch.float32))
        return conv

    return f


# lesson 03
class _Inception(nn.Module):
    def __init__(
        self,
        c,
        c1,
        r3,
        c3,
        r5,
        c5,
        pp,
        final_relu=True,
        pool_padding=1,
        order=(0, 1, 2, 3),
        out_channels=None,
        pool_proj=True,
    ):
        super().__init__()
        self.out_channels = c1 + c3 + c5 + pp if out_channels is None else out_channels(c1, c3, c5, pp, r3, r5)
        relu = [nn.ReLU()] if final_relu else []
        self.branch1x1 = nn.Sequential(nn.Conv2d(c, c1, 1), *relu)
        self.branch3x3 = nn.Sequential(nn.Conv2d(c, r3, 1), nn.ReLU(), nn.Conv2d(r3, c3, 3, padding=1), *relu)
        self.branch5x5 = nn.Sequential(nn.Conv2d(c, r5, 1), nn.ReLU(), nn.Conv2d(r5, c5, 5, padding=2), *relu)
        pool = nn.MaxPool2d(3, stride=1, padding=pool_padding)
        self.branch_pool = nn.Sequential(pool, nn.Conv2d(c, pp, 1), *relu) if pool_proj else nn.Sequential(pool)
        self.order = order

    def forward(self, x):
        outs = [self.branch1x1(x), self.branch3x3(x), self.branch5x5(x), self.branch_pool(x)]
        return torch.cat([outs[i] for i in self.order], dim=1)


class _InceptionFunctionalRelu(nn.Module):
    """Correct, but with F.relu in forward and no ReLU modules: the check must accept this layout."""

    def __init__(self, c, c1, r3, c3, r5, c5, pp):
        super().__init__()
        self.out_channels = c1 + c3 + c5 + pp
        self.branch1x1 = nn.Conv2d(c, c1, 1)
        self.branch3x3 = nn.Sequential(nn.Conv2d(c, r3, 1), nn.Conv2d(r3, c3, 3, padding=1))
        self.branch5x5 = nn.Sequential(nn.Conv2d(c, r5, 1), nn.Conv2d(r5, c5, 5, padding=2))
        self.branch_pool = nn.Conv2d(c, pp, 1)

    def forward(self, x):
        relu = torch.relu
        return torch.cat(
            [
                relu(self.branch1x1(x)),
                relu(self.branch3x3[1](relu(self.branch3x3[0](x)))),
                relu(self.branch5x5[1](relu(self.branch5x5[0](x)))),
                relu(self.branch_pool(nn.functional.max_pool2d(x, 3, 1, 1))),
            ],
            dim=1,
        )


def _inception(**options):
    return lambda *args: _Inception(*args, **options)


def _break_even(k2=25, pay_1x1=True, strict=True, at_least_one=False, padded=True, rounding=None):
    """A break-even search for ex03_break_even_reduce, written the long way with one mistake switched in."""

    def f(c, c5, size):
        out = size if padded else max(size - 4, 0)
        direct = out * out * c * k2 * c5 if padded else out * out * c * 25 * c5

        def reduced(r):
            return (size * size * c * r if pay_1x1 else 0) + out * out * r * k2 * c5

        if rounding:
            return round(k2 * c * c5 / (c + k2 * c5))
        r = 0
        while (reduced(r + 1) < direct) if strict else (reduced(r + 1) <= direct):
            r += 1
        return max(r, 1) if at_least_one else r

    return f


# lesson 04
def _bmacs(stride_on_1x1=True, shortcut=True):
    def f(c, m, o, size, stride=1):
        h1 = (size - 1) // stride + 1 if stride_on_1x1 else size
        h = (size - 1) // stride + 1
        macs = h1 * h1 * c * m + h * h * 9 * m * m + h * h * m * o
        if shortcut and (stride != 1 or c != o):
            macs += h * h * c * o
        return macs

    return f


class _Bottleneck(nn.Module):
    def __init__(
        self, c, m, o, stride=1, stride_on_3x3=False, relu_before_add=False, conv_bias=False, shortcut_bn=True
    ):
        super().__init__()
        self.conv1 = nn.Conv2d(c, m, 1, stride=1 if stride_on_3x3 else stride, bias=conv_bias)
        self.bn1 = nn.BatchNorm2d(m)
        self.conv2 = nn.Conv2d(m, m, 3, stride=stride if stride_on_3x3 else 1, padding=1, bias=conv_bias)
        self.bn2 = nn.BatchNorm2d(m)
        self.conv3 = nn.Conv2d(m, o, 1, bias=conv_bias)
        self.bn3 = nn.BatchNorm2d(o)
        if stride != 1 or c != o:
            conv = nn.Conv2d(c, o, 1, stride=stride, bias=False)
            self.shortcut = nn.Sequential(conv, nn.BatchNorm2d(o)) if shortcut_bn else nn.Sequential(conv)
        else:
            self.shortcut = nn.Identity()
        self.relu_before_add = relu_before_add

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        if self.relu_before_add:
            return torch.relu(y) + self.shortcut(x)
        return torch.relu(y + self.shortcut(x))


def _bottleneck(**options):
    return lambda *args: _Bottleneck(*args, **options)


def _shortcut(project_when, kernel_size=1, bias=False, bn=True, strided=True):
    """A make_shortcut that projects when ``project_when(in, out, stride)``, with the projection's options."""

    def make_shortcut(in_channels, out_channels, stride):
        if not project_when(in_channels, out_channels, stride):
            return nn.Identity()
        conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride if strided else 1,
            padding=kernel_size // 2,
            bias=bias,
        )
        return nn.Sequential(conv, nn.BatchNorm2d(out_channels)) if bn else conv

    return make_shortcut


def _shapes_differ(c_in, c_out, stride):
    return stride != 1 or c_in != c_out


WRONG += [
    ("ex02_channel_pca", lambda x, k: _pca(_pixels(x), k, centre=False), "not centred"),
    ("ex02_channel_pca", lambda x, k: _pca(x.reshape(-1, x.shape[1]).astype(np.float64), k), "reshape order"),
    ("ex02_channel_pca", lambda x, k: (_pca(_pixels(x), k)[0].T, _pca(_pixels(x), k)[1]), "rows"),
    ("ex02_channel_pca", _eigh_pca, "least important"),
    ("ex02_pca_encoder", _encoder(lambda comp, mean: np.zeros(comp.shape[0])), "bias is missing"),
    ("ex02_pca_encoder", _encoder(lambda comp, mean: comp @ mean), "wrong sign"),
    (
        "ex02_pca_encoder",
        _encoder(lambda comp, mean: -mean if comp.shape[0] == comp.shape[1] else -(comp @ mean)),
        "not -mean",
    ),
    (
        "ex03_inception_params",
        lambda c, c1, r3, c3, r5, c5, pp: c * c1 + c * r3 + r3 * 9 * c3 + c * r5 + r5 * 25 * c5 + c * pp,
        "biases",
    ),
    (
        "ex03_inception_params",
        lambda c, c1, r3, c3, r5, c5, pp: c * c1 + c1 + c * 9 * c3 + c3 + c * 25 * c5 + c5 + c * pp + pp,
        "reductions are missing",
    ),
    (
        "ex03_inception_params",
        lambda c, c1, r3, c3, r5, c5, pp: (
            c * c1 + c1 + c * r3 + r3 + r3 * 9 * c3 + c3 + c * r5 + r5 + r5 * 25 * c5 + c5
        ),
        "pool projection",
    ),
    ("ex03_inception_module", _inception(final_relu=False), "ReLU is missing"),
    ("ex03_inception_module", _inception(order=(3, 2, 1, 0)), "concatenation order"),
    ("ex03_inception_module", _inception(pool_padding=0), "same H and W"),
    ("ex03_inception_module", _inception(out_channels=lambda c1, c3, c5, pp, r3, r5: c1 + c3 + c5), "out_channels"),
    (
        "ex03_inception_module",
        _inception(pool_proj=False, out_channels=lambda c1, c3, c5, pp, r3, r5: c1 + c3 + c5 + pp),
        "projection",
    ),
    ("ex03_break_even_reduce", _break_even(strict=False), "inequality is strict"),
    ("ex03_break_even_reduce", _break_even(pay_1x1=False), "costs MACs too"),
    ("ex03_break_even_reduce", _break_even(k2=9), "25 weights"),
    ("ex03_break_even_reduce", _break_even(padded=False), "cancels"),
    ("ex03_break_even_reduce", _break_even(at_least_one=True), "asks for 0"),
    ("ex03_break_even_reduce", _break_even(rounding=True), "round down"),
    ("ex04_bottleneck_macs", _bmacs(shortcut=False), "shortcut"),
    ("ex04_bottleneck_macs", _bmacs(stride_on_1x1=False), "v1.5"),
    ("ex04_bottleneck_block", _bottleneck(relu_before_add=True), "too early"),
    ("ex04_bottleneck_block", _bottleneck(stride_on_3x3=True), "v1.5"),
    ("ex04_bottleneck_block", _bottleneck(conv_bias=True), "bias=False"),
    ("ex04_bottleneck_block", _bottleneck(shortcut_bn=False), "shortcut"),
]

# ex04_shortcut_bug: the circulating bug, and each way of getting the projection wrong
WRONG += [
    ("ex04_shortcut_bug", _shortcut(lambda c_in, c_out, stride: stride != 1), "that is the bug itself"),
    ("ex04_shortcut_bug", _shortcut(lambda c_in, c_out, stride: c_in != c_out), "even when the widths match"),
    ("ex04_shortcut_bug", _shortcut(lambda c_in, c_out, stride: True), "wasteful"),
    ("ex04_shortcut_bug", _shortcut(_shapes_differ, strided=False), "ignores the stride"),
    ("ex04_shortcut_bug", _shortcut(_shapes_differ, kernel_size=3), "1×1 conv"),
    ("ex04_shortcut_bug", _shortcut(_shapes_differ, bias=True), "bias=False"),
    ("ex04_shortcut_bug", _shortcut(_shapes_differ, bn=False), "BatchNorm is missing"),
    (
        "ex04_shortcut_bug",
        lambda c_in, c_out, stride: nn.Sequential(_shortcut(_shapes_differ)(c_in, c_out, stride), nn.ReLU()),
        "no ReLU",
    ),
]


@pytest.mark.parametrize("name, implementation, hint", WRONG, ids=[f"{n}-{h}" for n, _, h in WRONG])
def test_wrong_implementation_fails_with_its_hint(name, implementation, hint):
    testing.assert_fails_with(name, implementation, hint)


def test_an_equivalent_layout_of_the_inception_module_is_accepted():
    testing.assert_passes("ex03_inception_module", _InceptionFunctionalRelu)


def test_every_exercise_has_two_wrong_implementations():
    counts = {e.name: 0 for e in _exercises()}
    for name, _, _ in WRONG:
        counts[name] += 1
    assert all(n >= 2 for n in counts.values()), counts


def _pw_cases(seeds=(None, 7, 2026)):
    exercise = checks.get("ex01_reshape_bug")
    return [case for seed in seeds for case in exercise.cases(seed)]


def test_reshape_bug_reference_is_torchs_1x1_conv_in_1d_2d_and_3d():
    from course_utils.checks import lesson01

    convs = {3: torch.nn.functional.conv1d, 4: torch.nn.functional.conv2d, 5: torch.nn.functional.conv3d}
    dims = set()
    for case in _pw_cases():
        x, w, b = (torch.from_numpy(a).double() for a in case.data["args"])
        kernel = w.reshape(*w.shape, *[1] * (x.ndim - 2))
        expected = convs[x.ndim](x, kernel, b).numpy()
        assert np.allclose(lesson01._pw_ref(*case.data["args"]), expected, atol=1e-10), case.label
        dims.add(x.ndim - 2)
    assert dims == {1, 2, 3}


def test_the_circulating_bug_is_right_only_where_a_case_says_so():
    """The buggy reshape passes the single-pixel case (kept on purpose: where the bug hides) and no other."""
    from course_utils.checks import lesson01

    passing = [
        case.label
        for case in _pw_cases()
        if compare(lesson01._pw_ref(*case.data["args"]), lesson01._pw_bug(*case.data["args"])) is None
    ]
    assert passing and all("buggy reshape happens to be right" in label for label in passing), passing
    verdict = testing.check("ex01_reshape_bug", lesson01._pw_bug)
    assert verdict.passed == 1 and verdict.failures[0][0].label.startswith("Conv2d input")


def test_reshape_bug_only_4d_is_named_only_when_the_4d_layout_works():
    """The adapter's second call (the same numbers as (N, C, rest, last)) decides between the two hints."""
    only_4d = testing.check("ex01_reshape_bug", _pw_only_4d)
    other = testing.check("ex01_reshape_bug", _pw_needs_two_rows)
    assert "handles only 4-D input" in only_4d.text and "handles only 4-D" not in other.text
    assert "raised ValueError: expected (N, C, H, W) with H > 1" in other.text
    assert "raised on a valid input" in other.text


def test_reshape_bug_stub_raising_on_one_axis_count_is_a_stub_not_4d_only():
    def partial(x, w, b):
        if x.ndim != 4:
            raise NotImplementedError("1-D and 3-D next")
        return _pw(x, w, b)

    verdict = testing.check("ex01_reshape_bug", partial)
    assert verdict.status == "fail" and "still a stub" in verdict.text and "handles only 4-D" not in verdict.text


# ---------------------------------------------------------------------------------------------
# Framework behaviour
# ---------------------------------------------------------------------------------------------
def test_a_check_never_raises_and_prints_one_verdict(capsys):
    def explodes(*args):
        raise ZeroDivisionError("boom")

    checks.ex00_conv2d(explodes)
    checks.ex00_conv2d(None)
    checks.ex00_conv2d(lambda x, w, b: "not an array")
    out = capsys.readouterr().out
    assert out.count("❌") == 3 and "Traceback" not in out
    assert "raised ZeroDivisionError: boom" in out


def test_hidden_cases_are_named_but_their_data_is_not_shown():
    # correct on the visible cases only: fails on a hidden case, and the feedback shows no inputs for it
    visible = {tuple(c.data["args"][0]) for c in checks.get("ex00_conv_output_shape").visible()}

    def only_visible(input_shape, out_channels, kernel_size, stride=1, padding=0):
        n, _, h, w = input_shape
        if tuple(input_shape) in visible:
            return (
                n,
                out_channels,
                (h + 2 * padding - kernel_size) // stride + 1,
                (w + 2 * padding - kernel_size) // stride + 1,
            )
        return (n, out_channels, h, w)

    verdict = testing.check("ex00_conv_output_shape", only_visible)
    assert verdict.status == "fail" and "hidden case" in verdict.text
    assert "inputs:" not in verdict.text and "expected:" not in verdict.text
    assert verdict.hidden_fraction < 0.5  # what the grader scores: hard-coding the visible cases earns little


def test_pass_verdict_is_deterministic():
    ns = testing.solution_namespace(SOLUTIONS["00"])
    texts = {testing.check("ex00_conv_cost", ns["conv_cost"]).text for _ in range(2)}
    assert texts == {"✅ ex00_conv_cost: all 3 visible and 12 hidden cases pass"}


def test_codec_round_trip_and_unsupported_values():
    value = (np.arange(6.0).reshape(2, 3), torch.ones(2), 3, 2.5, "x", [np.int64(4)], {"a": None})
    back = decode(encode(value))
    assert compare(value, back) is None and type(back[5][0]) is int
    assert repr(decode(encode(object()))) == "<object>"


def test_unknown_checker_name_is_a_clear_error():
    with pytest.raises(AttributeError, match="known: ex00_conv2d"):
        checks.ex00_does_not_exist  # noqa: B018


def test_hidden_cases_change_with_the_seed_and_visible_ones_do_not():
    exercise = checks.get("ex00_conv2d")
    first, second = exercise.cases(seed=1), exercise.cases(seed=2)
    visible = [c for c in first if not c.hidden]
    assert all(
        compare(a.data, b.data) is None for a, b in zip(visible, [c for c in second if not c.hidden], strict=False)
    )
    hidden_first = [c.data["args"][0] for c in first if c.hidden]
    hidden_second = [c.data["args"][0] for c in second if c.hidden]
    assert any(
        a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(hidden_first, hidden_second, strict=False)
    )


def test_assert_pass_raises_for_nbgrader_style_test_cells(capsys):
    ns = testing.solution_namespace(SOLUTIONS["00"])
    checks.assert_pass("ex00_conv_cost", ns["conv_cost"])
    with pytest.raises(AssertionError, match="not attempted"):
        checks.assert_pass("ex00_conv_cost", testing.stub_namespace(SOLUTIONS["00"])["conv_cost"])
    assert capsys.readouterr().out.count("ex00_conv_cost") == 2


class _ZeroInception(nn.Module):
    """A cheat: its state_dict claims all-zero weights and forward returns the matching zeros."""

    def __init__(self, c, c1, r3, c3, r5, c5, pp):
        super().__init__()
        self.out_channels = c1 + c3 + c5 + pp
        self.inner = _Inception(c, c1, r3, c3, r5, c5, pp)

    def state_dict(self, *args, **kwargs):
        return {k: torch.zeros_like(v) for k, v in self.inner.state_dict().items()}

    def forward(self, x):
        return torch.zeros(x.shape[0], self.out_channels, *x.shape[2:])


def test_a_module_cannot_fake_its_parameters():
    verdict = testing.check("ex03_inception_module", _ZeroInception)
    assert verdict.status == "fail" and "does not hold the values the check wrote" in verdict.text


def test_break_even_reference_is_the_largest_reduction_that_saves_macs():
    """Brute force with counting.conv_macs: r saves MACs, r + 1 does not; the answer never depends on the size."""
    from course_utils.checks import lesson03

    exercise = checks.get("ex03_break_even_reduce")
    for case in exercise.cases() + exercise.cases(seed=7):
        c, c5, size = case.data["args"]
        r = lesson03._break_even_ref(c, c5, size)
        direct = lesson03._direct_macs(c, c5, size)
        assert r == 0 or lesson03._reduced_macs(c, r, c5, size) < direct, case.label
        assert lesson03._reduced_macs(c, r + 1, c5, size) >= direct, case.label
        assert {lesson03._break_even_ref(c, c5, s) for s in (1, 7, 28)} == {r}
        assert (r == 0) == (c == 1), case.label  # only a one-channel input makes even r = 1 too many
    integer = [c for c in exercise.cases(seed=7) if "whole number" in c.label]
    for case in integer:  # the break-even itself costs exactly the direct MACs: < and <= differ there
        c, c5, size = case.data["args"]
        r = lesson03._break_even_ref(c, c5, size)
        assert lesson03._reduced_macs(c, r + 1, c5, size) == lesson03._direct_macs(c, c5, size), case.label
    assert lesson03._break_even_ref(192, 32, 28) == 154  # the notebook's inception (3a) line, computed here


def test_break_even_hidden_cases_never_repeat_a_visible_one():
    exercise = checks.get("ex03_break_even_reduce")
    visible = {tuple(c.data["args"]) for c in exercise.visible()}
    for seed in range(40):
        assert not visible & {tuple(c.data["args"]) for c in exercise.cases(seed) if c.hidden}, seed
