"""From-scratch NumPy convolutions, written to be read (and checked against PyTorch in the tests).

Every function works on float arrays in PyTorch's layout, ``x: (N, C, H, W)``, and takes PyTorch's
argument names, so ``conv2d(x, w, b, stride, padding, dilation, groups)`` returns what
``torch.nn.functional.conv2d`` returns (``tests/test_reference.py`` checks this on random shapes).

The one idea behind all of them: **a convolution is a matrix product**.

* A 1×1 convolution *is* a matrix product: every pixel's channel vector is multiplied by the same
  ``(C_out, C_in)`` matrix, so ``Y = W @ X`` with ``X`` viewed as ``(N, C_in, H·W)``
  (:func:`pointwise_conv`).
* A K×K convolution becomes one by cutting every K×K window out of the input ("im2col"): each output
  pixel is then a 1×1 convolution of a window of ``C_in·K·K`` numbers (:func:`conv2d`).
* A depthwise convolution has no matrix product at all: each channel is filtered on its own, a weighted
  sum of K·K shifted copies of the input (:func:`depthwise_conv2d`). That is why it is cheap in MACs and
  why it runs far below the machine's matrix-product speed (lesson 08 measures it).

``numpy.lib.stride_tricks.sliding_window_view`` gives all K×K windows as a *view* (no copy): an array
``(N, C, H_out, W_out, K_h, K_w)`` whose entry ``[n, c, i, j]`` is the window under output pixel
``(i, j)``. Stride and dilation are plain slicing of that view.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import IntPair, divisible, pair, positive_int
from .counting import conv_output_size

__all__ = ["conv2d", "pointwise_conv", "depthwise_conv2d", "depthwise_separable_conv2d", "pointwise_conv_backward"]

# Below this many pixels per image, pointwise_conv multiplies the whole batch in one wide GEMM instead of
# one GEMM per image: a 7×7 map gives each per-image GEMM only 49 columns, too thin for BLAS to run
# near its peak (measured on ResNet-50's 14×14 and 7×7 layers by `python -m bench`).
_FOLD_BATCH_BELOW = 512


# ---------------------------------------------------------------------------------------------
# Argument checks (raised at the boundary, naming the argument, its value and what is allowed)
# ---------------------------------------------------------------------------------------------
def _array(name: str, value: object, layout: str, ndim: int = 4) -> np.ndarray:
    """Return ``value`` if it is a floating ``ndim``-D NumPy array, else raise TypeError/ValueError."""
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy.ndarray {layout}, got {type(value).__name__}"
            + (" (convert a torch tensor with .numpy())" if type(value).__module__.startswith("torch") else "")
        )
    if value.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array {layout}, got shape {value.shape}")
    if not np.issubdtype(value.dtype, np.floating):
        raise TypeError(f"{name} must have a floating dtype, got {value.dtype} (use {name}.astype(np.float32))")
    return value


def _bias(b: object, out_channels: int) -> np.ndarray | None:
    """Check an optional bias of shape ``(out_channels,)``."""
    if b is None:
        return None
    b = _array("b", b, "(C_out,)", ndim=1)
    if b.shape != (out_channels,):
        raise ValueError(f"b must have shape (C_out,) = ({out_channels},), got {b.shape}")
    return b


def _windows(
    x: np.ndarray, kernel_size: tuple[int, int], stride: IntPair, padding: IntPair, dilation: IntPair
) -> np.ndarray:
    """All K×K windows of ``x`` as a view: ``(N, C, H, W) -> (N, C, H_out, W_out, K_h, K_w)``.

    Zero padding is the only copy; stride and dilation are slices of the sliding-window view.
    """
    (kh, kw), (sh, sw) = kernel_size, pair("stride", stride)
    (ph, pw), (dh, dw) = pair("padding", padding, allow_zero=True), pair("dilation", dilation)
    try:  # conv_output_size raises if the (dilated) kernel does not fit in the padded input
        h_out = conv_output_size(x.shape[2], kh, sh, ph, dh)
        w_out = conv_output_size(x.shape[3], kw, sw, pw, dw)
    except ValueError as err:
        raise ValueError(f"kernel {(kh, kw)} does not fit input (H, W) = {x.shape[2:]}: {err}") from None
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1  # extent of a dilated kernel
    win = sliding_window_view(x, (span_h, span_w), axis=(2, 3))  # (N, C, H_p-span+1, W_p-span+1, span_h, span_w)
    win = win[:, :, ::sh, ::sw, ::dh, ::dw]  # stride picks windows, dilation picks taps
    assert win.shape[2:4] == (h_out, w_out)  # noqa: S101 - invariant of the window arithmetic above
    return win


# ---------------------------------------------------------------------------------------------
# Convolutions
# ---------------------------------------------------------------------------------------------
def pointwise_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """1×1 convolution as one matrix product: ``y[n] = W @ x[n]`` with ``x[n]`` viewed as ``(C_in, H·W)``.

    x: (N, C_in, H, W) -> (N, C_out, H, W)
    w: (C_out, C_in) or (C_out, C_in, 1, 1), the weight of ``nn.Conv2d(C_in, C_out, 1)``
    b: optional (C_out,)

    How the product is laid out decides its speed (the values are the same):

    * maps of 512 pixels or more: per image, ``Y^T = X^T @ W^T``, the same product transposed, on the
      NCHW array as it is (no copy of ``x``). BLAS runs a thin ``(C_out, C_in)`` weight (64 rows in
      ResNet's first stage) faster as the right-hand factor.
    * smaller maps (ResNet's 14×14 and 7×7): the batch is first put side by side, ``(C_in, N·H·W)``,
      for one wide ``W @ X``: a 49-column product per image is too thin for BLAS to reach its peak.

    Either way the result is a *view* with NCHW shape and values whose memory is ordered differently
    (channels-last for large maps); ``np.ascontiguousarray(y)`` gives a C-ordered copy if you need one.
    """
    x = _array("x", x, "(N, C, H, W)")
    if not isinstance(w, np.ndarray):
        raise TypeError(f"w must be a numpy.ndarray (C_out, C_in) or (C_out, C_in, 1, 1), got {type(w).__name__}")
    if w.ndim == 4 and w.shape[2:] == (1, 1):
        w = w.reshape(w.shape[:2])
    if w.ndim != 2:
        raise ValueError(f"w must have shape (C_out, C_in) or (C_out, C_in, 1, 1), got {w.shape}")
    w = _array("w", w, "(C_out, C_in)", ndim=2)
    n, c_in, h, wd = x.shape
    c_out = w.shape[0]
    if w.shape[1] != c_in:
        raise ValueError(f"w.shape[1]={w.shape[1]} must equal in_channels={c_in} (x has shape {x.shape})")
    b = _bias(b, c_out)

    x3 = x.reshape(n, c_in, h * wd)  # a view: each image is a (C_in, H·W) matrix
    if h * wd >= _FOLD_BATCH_BELOW:
        y = np.matmul(x3.transpose(0, 2, 1), np.ascontiguousarray(w.T))  # (N, H·W, C_out): Y^T = X^T @ W^T
        y = y.transpose(0, 2, 1)  # (N, C_out, H·W), a view
    else:
        cols = x3.transpose(1, 0, 2).reshape(c_in, n * h * wd)  # (C_in, N·H·W): the batch side by side (a copy)
        y = (w @ cols).reshape(c_out, n, h * wd).transpose(1, 0, 2)  # (N, C_out, H·W), a view
    y = y.reshape(n, c_out, h, wd)
    if b is not None:
        y += b.reshape(1, c_out, 1, 1)
    return y


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> np.ndarray:
    """2-D convolution (cross-correlation, as in PyTorch) by im2col and one matrix product.

    x: (N, C_in, H, W) -> (N, C_out, H_out, W_out)
    w: (C_out, C_in/groups, K_h, K_w);  b: optional (C_out,)
    stride, padding, dilation: int or (h, w);  groups: splits the channels into ``groups`` independent
    convolutions (``groups == C_in`` is a depthwise convolution).
    ``H_out = floor((H + 2·padding - dilation·(K_h - 1) - 1) / stride) + 1`` (``counting.conv_output_size``).

    Steps: (1) cut out every window, ``(N, C_in, H_out, W_out, K_h, K_w)`` (a view); (2) copy them into
    a matrix ``cols`` with one column of ``C_in/groups·K_h·K_w`` numbers per output pixel (im2col);
    (3) one matmul (batched over images and groups) with ``w`` seen as
    ``(groups, C_out/groups, C_in/groups·K_h·K_w)``. A K×K convolution is a 1×1 convolution on ``cols``.
    As in :func:`pointwise_conv`, maps under 512 output pixels put the batch side by side in ``cols``
    so that each GEMM is wide enough to run fast.
    """
    x = _array("x", x, "(N, C, H, W)")
    w = _array("w", w, "(C_out, C_in/groups, K_h, K_w)")
    groups = positive_int("groups", groups)
    n, c_in = x.shape[:2]
    c_out, c_per_group, kh, kw = w.shape
    divisible("in_channels", c_in, groups)
    divisible("out_channels", c_out, groups)
    if c_per_group * groups != c_in:
        raise ValueError(
            f"w.shape[1]={c_per_group} must equal in_channels/groups = {c_in}/{groups} = {c_in // groups} "
            f"(w has shape {w.shape}, x has shape {x.shape})"
        )
    b = _bias(b, c_out)

    win = _windows(x, (kh, kw), stride, padding, dilation)  # (N, C_in, H_out, W_out, K_h, K_w), a view
    h_out, w_out = win.shape[2:4]
    k = c_per_group * kh * kw  # numbers under one window of one group
    win = win.reshape(n, groups, c_per_group, h_out, w_out, kh, kw)
    w_mat = w.reshape(groups, c_out // groups, k)  # one (C_out/G, C_in/G·K_h·K_w) matrix per group
    y: np.ndarray  # (N, C_out, H_out, W_out) from either branch
    if h_out * w_out >= _FOLD_BATCH_BELOW:  # one GEMM per image (and group), output already NCHW
        cols = win.transpose(0, 1, 2, 5, 6, 3, 4).reshape(n, groups, k, h_out * w_out)  # im2col: the big copy
        y = np.matmul(w_mat, cols).reshape(n, c_out, h_out, w_out)  # (G, ., k) @ (N, G, k, L) -> (N, G, ., L)
    else:  # small maps: the whole batch side by side in one wide GEMM per group
        cols = win.transpose(1, 2, 5, 6, 0, 3, 4).reshape(groups, k, n * h_out * w_out)  # im2col
        y = np.matmul(w_mat, cols)  # (G, C_out/G, N·H_out·W_out)
        y = np.ascontiguousarray(y.reshape(c_out, n, h_out, w_out).transpose(1, 0, 2, 3))
    if b is not None:
        y += b.reshape(1, c_out, 1, 1)
    return y


def depthwise_conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
) -> np.ndarray:
    """Depthwise convolution: channel ``c`` of the output filters channel ``c`` of the input only.

    x: (N, C, H, W) -> (N, C, H_out, W_out)
    w: (C, 1, K_h, K_w), the weight of ``nn.Conv2d(C, C, K, groups=C)``;  b: optional (C,)

    ``y[n, c, i, j] = sum_{p, q} window[n, c, i, j, p, q] * w[c, 0, p, q]``: one einsum over the window
    view. No matrix product mixes channels, so each input number is used only K_h·K_w times: the
    layer is cheap in MACs but limited by memory traffic, not by arithmetic.
    """
    x = _array("x", x, "(N, C, H, W)")
    w = _array("w", w, "(C, 1, K_h, K_w)")
    channels = x.shape[1]
    if w.shape[1] != 1 or w.shape[0] != channels:
        raise ValueError(f"w must have shape (C, 1, K_h, K_w) with C = in_channels = {channels}, got {w.shape}")
    b = _bias(b, channels)
    win = _windows(x, w.shape[2:], stride, padding, dilation)  # (N, C, H_out, W_out, K_h, K_w)
    y = np.einsum("nchwpq,cpq->nchw", win, w[:, 0], optimize=True)
    if b is not None:
        y += b.reshape(1, channels, 1, 1)
    return y


def depthwise_separable_conv2d(
    x: np.ndarray,
    w_depthwise: np.ndarray,
    w_pointwise: np.ndarray,
    b_depthwise: np.ndarray | None = None,
    b_pointwise: np.ndarray | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
) -> np.ndarray:
    """Depthwise K×K convolution followed by a pointwise 1×1 convolution (MobileNet's block, no BN/ReLU).

    x: (N, C_in, H, W) -> (N, C_out, H_out, W_out)
    w_depthwise: (C_in, 1, K_h, K_w);  w_pointwise: (C_out, C_in) or (C_out, C_in, 1, 1)
    The depthwise step filters space, the pointwise step mixes channels:
    ``C_in·K·K + C_in·C_out`` MACs per pixel instead of ``C_in·K·K·C_out``.
    """
    try:
        y = depthwise_conv2d(x, w_depthwise, b_depthwise, stride=stride, padding=padding)
    except (TypeError, ValueError) as err:  # say which step (and so which weight) is wrong
        raise type(err)(f"depthwise step (w_depthwise, b_depthwise): {err}") from None
    try:
        return pointwise_conv(y, w_pointwise, b_pointwise)
    except (TypeError, ValueError) as err:
        raise type(err)(f"pointwise step (w_pointwise, b_pointwise): {err}") from None


# ---------------------------------------------------------------------------------------------
# Backward pass of a 1×1 convolution
# ---------------------------------------------------------------------------------------------
def pointwise_conv_backward(
    x: np.ndarray, w: np.ndarray, grad_out: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``y = pointwise_conv(x, w, b)`` given ``grad_out = dL/dy``: two matrix products and a sum.

    With each image viewed as a matrix, X: (C_in, H·W) and dY: (C_out, H·W), the forward pass is Y = W·X + b, so

    * ``grad_x``: dX = Wᵀ · dY per image                (C_in, C_out) @ (C_out, H·W)
    * ``grad_w``: dW = Σ_images dY · Xᵀ                 (C_out, H·W) @ (H·W, C_in), summed over the batch
    * ``grad_b``: db = Σ over images and pixels of dY   (C_out,)

    Each product has as many multiply-adds as the forward pass (N·H·W·C_in·C_out), which is why a
    backward pass costs about twice the forward one.

    x: (N, C_in, H, W);  w: (C_out, C_in) or (C_out, C_in, 1, 1);  grad_out: (N, C_out, H, W)
    Returns (grad_x (N, C_in, H, W), grad_w with the shape of ``w``, grad_b (C_out,)).
    """
    x = _array("x", x, "(N, C, H, W)")
    if not isinstance(w, np.ndarray):
        raise TypeError(f"w must be a numpy.ndarray (C_out, C_in) or (C_out, C_in, 1, 1), got {type(w).__name__}")
    w_shape = w.shape
    if w.ndim == 4 and w.shape[2:] == (1, 1):
        w = w.reshape(w.shape[:2])
    if w.ndim != 2:
        raise ValueError(f"w must have shape (C_out, C_in) or (C_out, C_in, 1, 1), got {w_shape}")
    w = _array("w", w, "(C_out, C_in)", ndim=2)
    grad_out = _array("grad_out", grad_out, "(N, C_out, H, W)")
    n, c_in, h, wd = x.shape
    c_out = w.shape[0]
    if w.shape[1] != c_in:
        raise ValueError(f"w.shape[1]={w.shape[1]} must equal in_channels={c_in} (x has shape {x.shape})")
    if grad_out.shape != (n, c_out, h, wd):
        raise ValueError(
            f"grad_out must have the output's shape (N, C_out, H, W) = {(n, c_out, h, wd)}, got {grad_out.shape}"
        )
    x3 = x.reshape(n, c_in, h * wd)  # (N, C_in, H·W)
    dy3 = grad_out.reshape(n, c_out, h * wd)  # (N, C_out, H·W)
    grad_x = np.matmul(w.T, dy3).reshape(n, c_in, h, wd)  # Wᵀ · dY, per image
    grad_w = np.matmul(dy3, x3.transpose(0, 2, 1)).sum(axis=0)  # Σ_n dY · Xᵀ: (C_out, C_in)
    grad_b = dy3.sum(axis=(0, 2))
    return grad_x, grad_w.reshape(w_shape), grad_b
