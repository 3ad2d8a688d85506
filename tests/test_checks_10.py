"""Checkers of lesson 10: plausible wrong implementations fail with their specific hint, the inverted residual is
judged by behaviour (any attribute names pass), and the references agree with the course package and autograd.
What every checker must do (solution passes, stub 'not attempted', deterministic pass text) is in
tests/test_checks_every_lesson.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import blocks, reference
from course_utils.checks import lesson10, testing


# ---------------------------------------------------------------------------------------------
# ex10_inverted_residual
# ---------------------------------------------------------------------------------------------
def _ir_class(*, final_relu=False, residual="auto", always_expand=False, act=nn.ReLU6, stride_on_expand=False):
    class Wrong(nn.Module):
        def __init__(self, c_in, c_out, stride=1, t=6):
            super().__init__()
            hidden = int(round(c_in * t))
            self.use_expand = t != 1 or always_expand
            s_exp, s_dw = (stride, 1) if stride_on_expand else (1, stride)
            if self.use_expand:
                self.a = nn.Conv2d(c_in, hidden, 1, stride=s_exp, bias=False)
                self.b = nn.BatchNorm2d(hidden)
            self.c = nn.Conv2d(hidden, hidden, 3, s_dw if self.use_expand else stride, 1, groups=hidden, bias=False)
            self.d = nn.BatchNorm2d(hidden)
            self.e = nn.Conv2d(hidden, c_out, 1, bias=False)
            self.f = nn.BatchNorm2d(c_out)
            self.act = act()
            self.res = (stride == 1 and c_in == c_out) if residual == "auto" else residual

        def forward(self, x):
            y = self.act(self.b(self.a(x))) if self.use_expand else x
            y = self.f(self.e(self.act(self.d(self.c(y)))))
            if final_relu:
                y = torch.relu(y)
            return x + y if self.res else y

    return Wrong


def test_inverted_residual_any_names_pass_and_the_package_block_passes():
    testing.assert_passes("ex10_inverted_residual", _ir_class())
    testing.assert_passes("ex10_inverted_residual", blocks.InvertedResidual, seed=7)


@pytest.mark.parametrize(
    "impl,fragment",
    [
        (_ir_class(final_relu=True), "projection is linear"),
        (_ir_class(residual=True), "only when stride == 1"),
        (_ir_class(residual=False), "add the input"),
        (_ir_class(always_expand=True), "expand_ratio == 1"),
        (_ir_class(act=nn.ReLU), "ReLU6"),
        (_ir_class(stride_on_expand=True), "stride goes on the 3×3"),
    ],
)
def test_inverted_residual_mistakes(impl, fragment):
    testing.assert_fails_with("ex10_inverted_residual", impl, fragment)


def test_inverted_residual_registration_order_is_explained():
    class ProjectFirst(nn.Module):
        def __init__(self, c_in, c_out, stride=1, t=6):
            super().__init__()
            hidden = int(round(c_in * t))
            self.project = nn.Sequential(nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
            self.expand = nn.Sequential(nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6())
            self.dw = nn.Sequential(
                nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6()
            )
            self.res = stride == 1 and c_in == c_out

        def forward(self, x):
            y = self.project(self.dw(self.expand(x)))
            return x + y if self.res else y

    testing.assert_fails_with("ex10_inverted_residual", ProjectFirst, "order they run")


# ---------------------------------------------------------------------------------------------
# ex10_squeeze_excitation
# ---------------------------------------------------------------------------------------------
def _se_class(*, gate=torch.sigmoid, pool="mean", inner=torch.relu, check=True, count=None, linear=False):
    class Wrong(nn.Module):
        def __init__(self, c, r=16):
            super().__init__()
            if check and c % r:
                raise ValueError("bad r")
            layer = nn.Linear if linear else (lambda i, o: nn.Conv2d(i, o, 1))
            self.p, self.q, self.linear = layer(c, c // r), layer(c // r, c), linear

        @staticmethod
        def param_count(c, r):
            return count(c, r) if count else 2 * c * (c // r) + c // r + c

        def forward(self, x):
            s = x.mean(dim=(2, 3), keepdim=True) if pool == "mean" else x.amax(dim=(2, 3), keepdim=True)
            if self.linear:
                return x * gate(self.q(inner(self.p(s.flatten(1)))))[:, :, None, None]
            return x * gate(self.q(inner(self.p(s))))

    return Wrong


def test_se_linear_layers_and_the_package_block_pass():
    testing.assert_passes("ex10_squeeze_excitation", _se_class(linear=True))
    testing.assert_passes("ex10_squeeze_excitation", blocks.SqueezeExcitation, seed=3)


@pytest.mark.parametrize(
    "impl,fragment",
    [
        (_se_class(gate=torch.relu), "sigmoid"),
        (_se_class(pool="max"), "AVERAGE"),
        (_se_class(inner=lambda t: t), "ReLU goes between"),
        (_se_class(check=False), "raise ValueError"),
        (_se_class(count=lambda c, r: 2 * c * (c // r)), "forgot the biases"),
        (_se_class(count=lambda c, r: c * c // r), "2·C²/r + C/r + C"),
    ],
)
@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
def test_se_mistakes(impl, fragment):
    testing.assert_fails_with("ex10_squeeze_excitation", impl, fragment)


# ---------------------------------------------------------------------------------------------
# ex10_pointwise_backward
# ---------------------------------------------------------------------------------------------
def _bw(mistake):
    def f(x, w, g):
        n, c_in, h, wd = x.shape
        xs, dy = x.reshape(n, c_in, h * wd), g.reshape(n, w.shape[0], h * wd)
        m = w if mistake == "no_transpose" else w.T
        gx = (m @ dy).reshape(x.shape) if mistake == "no_transpose" else (w.T @ dy).reshape(x.shape)
        gw_all = dy @ xs.transpose(0, 2, 1)
        if mistake == "mean":
            return gx, gw_all.mean(axis=0) / (h * wd), dy.mean(axis=(0, 2))
        if mistake == "first_image":
            return gx, gw_all[0], dy[0].sum(axis=1)
        return gx, gw_all.sum(axis=0), dy.sum(axis=(0, 2))

    return f


def test_pointwise_backward_package_function_passes():
    testing.assert_passes("ex10_pointwise_backward", reference.pointwise_conv_backward)
    testing.assert_passes("ex10_pointwise_backward", _bw(None), seed=5)


@pytest.mark.parametrize("mistake,fragment", [("no_transpose", "Wᵀ"), ("mean", "SUMS"), ("first_image", "every image")])
def test_pointwise_backward_mistakes(mistake, fragment):
    testing.assert_fails_with("ex10_pointwise_backward", _bw(mistake), fragment)


def test_references_agree_with_the_package():
    rng = np.random.default_rng(0)
    x, w, g = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 4, 5), (6, 3), (2, 6, 4, 5)))
    for mine, theirs in zip(lesson10._autograd(x, w, g), reference.pointwise_conv_backward(x, w, g), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-4)
    assert lesson10._SE.param_count(64, 16) == blocks.SqueezeExcitation.param_count(64, 16)
    ref = lesson10._InvertedResidual(8, 8, 1, 6)
    assert sum(p.numel() for p in ref.parameters()) == sum(
        p.numel() for p in blocks.InvertedResidual(8, 8).parameters()
    )
