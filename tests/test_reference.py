"""The NumPy reference convolutions equal torch.nn.functional.conv2d, and reject bad input clearly."""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import reference as R

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


def close(actual: np.ndarray, expected: torch.Tensor, rtol: float = 1e-5) -> None:
    """float32 agreement: rtol 1e-5, plus an atol of 1e-5 x the output's largest magnitude (sums cancel)."""
    expected = expected.numpy()
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    atol = 1e-5 * max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def randn(rng: np.random.Generator, *shape: int, dtype=np.float32) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


def t(a: np.ndarray | None) -> torch.Tensor | None:
    return None if a is None else torch.from_numpy(a)


def pairs(lo: int, hi: int):
    """An int or an (h, w) tuple, as PyTorch accepts."""
    return st.one_of(st.integers(lo, hi), st.tuples(st.integers(lo, hi), st.integers(lo, hi)))


def as_pair(v):
    return v if isinstance(v, tuple) else (v, v)


@st.composite
def conv_cases(draw):
    groups = draw(st.integers(1, 4))
    c_in, c_out = groups * draw(st.integers(1, 4)), groups * draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, padding, dilation = draw(pairs(1, 3)), draw(pairs(0, 2)), draw(pairs(1, 3))
    (ph, pw), (dh, dw) = as_pair(padding), as_pair(dilation)
    # smallest input the (dilated) kernel fits in once padded
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 12))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 12))
    n = draw(st.integers(1, 3))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    return n, c_in, c_out, groups, (kh, kw), (h, w), stride, padding, dilation, bias, seed


@SETTINGS
@given(conv_cases())
def test_conv2d_equals_torch(case):
    n, c_in, c_out, groups, (kh, kw), (h, w), stride, padding, dilation, bias, seed = case
    rng = np.random.default_rng(seed)
    x, wt = randn(rng, n, c_in, h, w), randn(rng, c_out, c_in // groups, kh, kw)
    b = randn(rng, c_out) if bias else None
    y = R.conv2d(x, wt, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    close(y, F.conv2d(t(x), t(wt), t(b), stride, padding, dilation, groups))


@st.composite
def depthwise_cases(draw):
    c = draw(st.integers(1, 8))
    k = draw(st.integers(1, 5))
    stride, padding, dilation = draw(pairs(1, 3)), draw(pairs(0, 2)), draw(pairs(1, 2))
    (ph, pw), (dh, dw) = as_pair(padding), as_pair(dilation)
    h = draw(st.integers(max(1, dh * (k - 1) + 1 - 2 * ph), 14))
    w = draw(st.integers(max(1, dw * (k - 1) + 1 - 2 * pw), 14))
    return draw(st.integers(1, 3)), c, k, (h, w), stride, padding, dilation, draw(st.integers(0, 2**16))


@SETTINGS
@given(depthwise_cases())
def test_depthwise_conv2d_equals_torch(case):
    n, c, k, (h, w), stride, padding, dilation, seed = case
    rng = np.random.default_rng(seed)
    x, wd, b = randn(rng, n, c, h, w), randn(rng, c, 1, k, k), randn(rng, c)
    y = R.depthwise_conv2d(x, wd, b, stride=stride, padding=padding, dilation=dilation)
    close(y, F.conv2d(t(x), t(wd), t(b), stride, padding, dilation, groups=c))
    # the general conv2d with groups = channels is the same layer
    close(
        R.conv2d(x, wd, b, stride, padding, dilation, groups=c),
        F.conv2d(t(x), t(wd), t(b), stride, padding, dilation, c),
    )


@SETTINGS
@given(depthwise_cases(), st.integers(1, 9), st.booleans())
def test_depthwise_separable_equals_two_torch_convs(case, c_out, bias):
    n, c, k, (h, w), stride, padding, _, seed = case
    rng = np.random.default_rng(seed)
    x, wd, wp = randn(rng, n, c, h, w), randn(rng, c, 1, k, k), randn(rng, c_out, c, 1, 1)
    bd, bp = (randn(rng, c), randn(rng, c_out)) if bias else (None, None)
    y = R.depthwise_separable_conv2d(x, wd, wp, bd, bp, stride=stride, padding=padding)
    expected = F.conv2d(F.conv2d(t(x), t(wd), t(bd), stride, padding, groups=c), t(wp), t(bp))
    close(y, expected)


@SETTINGS
@given(
    st.integers(1, 3),
    st.integers(1, 24),
    st.integers(1, 24),
    st.integers(1, 40),
    st.integers(1, 40),
    st.booleans(),
    st.integers(0, 2**16),
)
def test_pointwise_conv_equals_torch_conv2d_and_einsum(n, c_in, c_out, h, w, bias, seed):
    rng = np.random.default_rng(seed)
    x, wp = randn(rng, n, c_in, h, w), randn(rng, c_out, c_in)
    b = randn(rng, c_out) if bias else None
    y = R.pointwise_conv(x, wp, b)
    close(y, F.conv2d(t(x), t(wp[:, :, None, None]), t(b)))
    close(R.pointwise_conv(x, wp[:, :, None, None], b), F.conv2d(t(x), t(wp[:, :, None, None]), t(b)))
    by_einsum = np.einsum("oc,nchw->nohw", wp, x) + (0 if b is None else b[:, None, None])
    np.testing.assert_allclose(y, by_einsum, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(by_einsum).max()))


@pytest.mark.parametrize("h,w", [(7, 7), (14, 14), (28, 28), (56, 9)])  # both sides of the batch-folding threshold
def test_pointwise_conv_equals_conv2d_with_1x1_kernel(h, w):
    rng = np.random.default_rng(0)
    x, wp, b = randn(rng, 3, 16, h, w), randn(rng, 8, 16, 1, 1), randn(rng, 8)
    y = R.pointwise_conv(x, wp, b)
    assert y.shape == (3, 8, h, w)
    np.testing.assert_allclose(y, R.conv2d(x, wp, b), rtol=1e-5, atol=1e-5)
    close(y, F.conv2d(t(x), t(wp), t(b)))


@pytest.mark.parametrize(
    "shape,c_out,k,stride,padding,dilation,groups",
    [  # output maps of 512 pixels or more take conv2d's one-GEMM-per-image path
        ((2, 6, 24, 24), 4, 3, 1, 1, 1, 2),
        ((1, 4, 40, 30), 6, (3, 5), (1, 1), (2, 1), (2, 1), 1),
        ((2, 8, 48, 48), 8, 3, 2, 1, 1, 8),
    ],
)
def test_conv2d_on_large_maps_equals_torch(shape, c_out, k, stride, padding, dilation, groups):
    rng = np.random.default_rng(3)
    kh, kw = as_pair(k)
    x, w, b = randn(rng, *shape), randn(rng, c_out, shape[1] // groups, kh, kw), randn(rng, c_out)
    y = R.conv2d(x, w, b, stride, padding, dilation, groups)
    assert y.shape[2] * y.shape[3] >= 512
    close(y, F.conv2d(t(x), t(w), t(b), stride, padding, dilation, groups))


def test_float64_matches_torch_float64_tightly():
    rng = np.random.default_rng(1)
    x, w = randn(rng, 2, 6, 9, 8, dtype=np.float64), randn(rng, 4, 3, 3, 2, dtype=np.float64)
    y = R.conv2d(x, w, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, F.conv2d(t(x), t(w), None, (2, 1), (1, 2), (1, 2), 2).numpy(), rtol=1e-12, atol=1e-12)


def test_conv2d_does_not_modify_its_inputs():
    rng = np.random.default_rng(2)
    x, w, b = randn(rng, 1, 4, 6, 6), randn(rng, 4, 4, 3, 3), randn(rng, 4)
    copies = [a.copy() for a in (x, w, b)]
    R.conv2d(x, w, b, padding=1)
    R.pointwise_conv(x, w[:, :, :1, :1], b)
    for a, c in zip((x, w, b), copies, strict=False):
        np.testing.assert_array_equal(a, c)


# ----------------------------------------------------------------------------------------------
# Bad input: each message names the argument, its value and what is allowed
# ----------------------------------------------------------------------------------------------
X = np.zeros((2, 8, 10, 10), np.float32)
W3 = np.zeros((4, 8, 3, 3), np.float32)


def raises(exc, match, fn, *args, **kwargs):
    with pytest.raises(exc, match=re.escape(match)):
        fn(*args, **kwargs)


def test_wrong_ndim_names_the_expected_layout():
    raises(
        ValueError,
        "x must be a 4-D array (N, C, H, W), got shape (3, 32, 32)",
        R.conv2d,
        np.zeros((3, 32, 32), np.float32),
        W3,
    )
    raises(
        ValueError,
        "w must be a 4-D array (C_out, C_in/groups, K_h, K_w), got shape (4, 8)",
        R.conv2d,
        X,
        np.zeros((4, 8), np.float32),
    )
    raises(
        ValueError, "x must be a 4-D array (N, C, H, W), got shape (8, 10, 10)", R.pointwise_conv, X[0], W3[:, :, 0, 0]
    )
    raises(ValueError, "x must be a 4-D array (N, C, H, W), got shape (8, 10, 10)", R.depthwise_conv2d, X[0], W3)


def test_non_arrays_and_non_float_dtypes_raise_type_error():
    raises(TypeError, "x must be a numpy.ndarray (N, C, H, W), got list", R.conv2d, X.tolist(), W3)
    raises(TypeError, "got Tensor (convert a torch tensor with .numpy())", R.conv2d, torch.zeros(2, 8, 10, 10), W3)
    raises(TypeError, "w must be a numpy.ndarray", R.pointwise_conv, X, [[1.0] * 8])
    raises(
        TypeError,
        "x must have a floating dtype, got int64 (use x.astype(np.float32))",
        R.conv2d,
        X.astype(np.int64),
        W3,
    )
    raises(TypeError, "groups must be an int, got 2.0 (float)", R.conv2d, X, W3, groups=2.0)


def test_weight_channels_must_match_in_channels_over_groups():
    raises(ValueError, "w.shape[1]=8 must equal in_channels/groups = 8/2 = 4", R.conv2d, X, W3, groups=2)
    raises(ValueError, "w.shape[1]=3 must equal in_channels/groups = 8/1 = 8", R.conv2d, X, W3[:, :3])
    raises(ValueError, "w.shape[1]=5 must equal in_channels=8", R.pointwise_conv, X, np.zeros((4, 5), np.float32))
    raises(
        ValueError, "w must have shape (C_out, C_in) or (C_out, C_in, 1, 1), got (4, 8, 3, 3)", R.pointwise_conv, X, W3
    )
    raises(
        ValueError,
        "w must have shape (C, 1, K_h, K_w) with C = in_channels = 8, got (4, 8, 3, 3)",
        R.depthwise_conv2d,
        X,
        W3,
    )


def test_groups_must_divide_channels():
    raises(ValueError, "groups=3 must divide in_channels=8", R.conv2d, X, W3, groups=3)
    raises(ValueError, "groups=4 must divide out_channels=6", R.conv2d, X, np.zeros((6, 2, 3, 3), np.float32), groups=4)
    raises(ValueError, "groups=0 must be a positive integer", R.conv2d, X, W3, groups=0)


def test_kernel_larger_than_padded_input():
    raises(ValueError, "kernel (3, 3) does not fit input (H, W) = (2, 10)", R.conv2d, X[:, :, :2], W3)
    raises(ValueError, "effective size 5", R.conv2d, X[:, :, :4], W3, padding=(0, 1), dilation=2)
    R.conv2d(X[:, :, :2], W3, padding=1)  # fits once padded


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"stride": 0}, "stride=0 must be a positive integer (>= 1)"),
        ({"stride": (1, -2)}, "stride[1]=-2 must be a positive integer (>= 1)"),
        ({"dilation": 0}, "dilation=0 must be a positive integer (>= 1)"),
        ({"padding": -1}, "padding=-1 must be a non-negative integer (>= 0)"),
        ({"padding": (1, 2, 3)}, "padding=(1, 2, 3) must be an int or a pair (h, w) of ints"),
    ],
)
def test_bad_stride_padding_dilation(kwargs, message):
    raises(ValueError, message, R.conv2d, X, W3, **kwargs)
    raises(ValueError, message, R.depthwise_conv2d, X, np.zeros((8, 1, 3, 3), np.float32), **kwargs)


def test_bias_shape_is_checked():
    raises(ValueError, "b must have shape (C_out,) = (4,), got (8,)", R.conv2d, X, W3, np.zeros(8, np.float32))
    raises(
        ValueError,
        "b must have shape (C_out,) = (4,), got (1,)",
        R.pointwise_conv,
        X,
        W3[:, :, 0, 0],
        np.zeros(1, np.float32),
    )


def test_depthwise_separable_says_which_step_is_wrong():
    wd, wp = np.zeros((8, 1, 3, 3), np.float32), np.zeros((4, 8), np.float32)
    raises(
        ValueError,
        "depthwise step (w_depthwise, b_depthwise): w must have shape (C, 1, K_h, K_w)",
        R.depthwise_separable_conv2d,
        X,
        W3,
        wp,
    )
    raises(
        ValueError,
        "pointwise step (w_pointwise, b_pointwise): w.shape[1]=5 must equal in_channels=8",
        R.depthwise_separable_conv2d,
        X,
        wd,
        np.zeros((4, 5), np.float32),
    )
    assert R.depthwise_separable_conv2d(X, wd, wp, stride=2, padding=1).shape == (2, 4, 5, 5)
