"""The building blocks of the course, as small ``nn.Module``s you can read in one sitting.

Every block is built from 1×1 convolutions plus a few ordinary layers:

* ``NiNBlock``           k×k conv followed by two 1×1 convs ("MLP conv", Lin et al. 2014)
* ``InceptionModule``    four parallel branches, 1×1 "reduce" convs before the 3×3 and 5×5 (Szegedy et al. 2015)
* ``BasicBlock``         two 3×3 convs plus a shortcut (He et al. 2016, ResNet-18/34)
* ``Bottleneck``         1×1 reduce, 3×3, 1×1 expand plus a shortcut (He et al. 2016, ResNet-50/101/152)
* ``DepthwiseSeparable`` depthwise k×k then pointwise 1×1 (Howard et al. 2017, MobileNet v1)
* ``channel_shuffle``    the permutation that lets grouped 1×1 convs mix groups (Zhang et al. 2018, ShuffleNet)
* ``FPN``                lateral 1×1 convs and a top-down pathway (Lin et al. 2017, Feature Pyramid Networks)
* ``InvertedResidual``   1×1 expand, 3×3 depthwise, linear 1×1 projection (Sandler et al. 2018, MobileNetV2)
* ``SqueezeExcitation``  a channel gate from two 1×1 convs on the pooled input (Hu et al. 2018); ``SEBottleneck``
* ``ConvNeXtBlock``      7×7 depthwise, LayerNorm, 1×1 expand ×4 as ``nn.Linear``, GELU, 1×1 (Liu et al. 2022)

Shapes use ``(N, C, H, W)``: batch, channels, height, width.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import divisible, non_negative_int, positive_int

__all__ = [
    "NiNBlock",
    "InceptionModule",
    "BasicBlock",
    "Bottleneck",
    "DepthwiseSeparable",
    "channel_shuffle",
    "ChannelShuffle",
    "FPN",
    "InvertedResidual",
    "SqueezeExcitation",
    "SEBottleneck",
    "LayerNorm2d",
    "ConvNeXtBlock",
]


def _check_nchw(name: str, x: object) -> torch.Tensor:
    """Raise unless ``x`` is a 4-d tensor ``(N, C, H, W)``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (N, C, H, W), got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got ndim={x.ndim} shape {tuple(x.shape)}")
    return x


def _conv_relu(
    in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0
) -> list[nn.Module]:
    """``[Conv2d, ReLU]``: the unit of the pre-BatchNorm networks (NiN, GoogLeNet)."""
    return [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding), nn.ReLU()]


# ---------------------------------------------------------------------------------------------
# Network in Network
# ---------------------------------------------------------------------------------------------
class NiNBlock(nn.Sequential):
    """k×k conv + ReLU, then two 1×1 convs + ReLU: a tiny MLP applied at every pixel (Lin et al. 2014).

    x: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out),
    H_out = floor((H + 2*padding - kernel_size) / stride) + 1 (the 1×1 convs keep the size).
    Submodules: ``conv``, ``relu``, ``mlp1``, ``relu1``, ``mlp2``, ``relu2``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0):
        in_channels = positive_int("in_channels", in_channels)
        out_channels = positive_int("out_channels", out_channels)
        kernel_size = positive_int("kernel_size", kernel_size)
        stride = positive_int("stride", stride)
        padding = non_negative_int("padding", padding)
        conv, relu = _conv_relu(in_channels, out_channels, kernel_size, stride, padding)
        mlp1, relu1 = _conv_relu(out_channels, out_channels, 1)
        mlp2, relu2 = _conv_relu(out_channels, out_channels, 1)
        super().__init__(OrderedDict(conv=conv, relu=relu, mlp1=mlp1, relu1=relu1, mlp2=mlp2, relu2=relu2))


# ---------------------------------------------------------------------------------------------
# Inception
# ---------------------------------------------------------------------------------------------
class InceptionModule(nn.Module):
    """GoogLeNet's Inception module with dimension reductions (Szegedy et al. 2015, Figure 2b).

    Four branches run on the same input and are concatenated along channels:

    * ``branch1x1``:   1×1 conv -> ``ch1x1``
    * ``branch3x3``:   1×1 conv -> ``ch3x3_reduce``, 3×3 conv (padding 1) -> ``ch3x3``
    * ``branch5x5``:   1×1 conv -> ``ch5x5_reduce``, 5×5 conv (padding 2) -> ``ch5x5``
    * ``branch_pool``: 3×3 max-pool (stride 1, padding 1), 1×1 conv -> ``pool_proj``

    Every conv is followed by a ReLU (no BatchNorm, as in the paper). The 1×1 "reduce" convs are what
    make the module affordable: they shrink the channels before the expensive 3×3 and 5×5 convs.

    x: (N, in_channels, H, W) -> (N, out_channels, H, W), out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj.
    """

    def __init__(
        self, in_channels: int, ch1x1: int, ch3x3_reduce: int, ch3x3: int, ch5x5_reduce: int, ch5x5: int, pool_proj: int
    ):
        super().__init__()
        args = dict(
            in_channels=in_channels,
            ch1x1=ch1x1,
            ch3x3_reduce=ch3x3_reduce,
            ch3x3=ch3x3,
            ch5x5_reduce=ch5x5_reduce,
            ch5x5=ch5x5,
            pool_proj=pool_proj,
        )
        for name, value in args.items():
            positive_int(name, value)
        self.in_channels = in_channels
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj
        self.branch1x1 = nn.Sequential(*_conv_relu(in_channels, ch1x1, 1))
        self.branch3x3 = nn.Sequential(
            *_conv_relu(in_channels, ch3x3_reduce, 1), *_conv_relu(ch3x3_reduce, ch3x3, 3, padding=1)
        )
        self.branch5x5 = nn.Sequential(
            *_conv_relu(in_channels, ch5x5_reduce, 1), *_conv_relu(ch5x5_reduce, ch5x5, 5, padding=2)
        )
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), *_conv_relu(in_channels, pool_proj, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1x1, self.branch3x3, self.branch5x5, self.branch_pool)
        return torch.cat([branch(x) for branch in branches], dim=1)


# ---------------------------------------------------------------------------------------------
# Residual blocks
# ---------------------------------------------------------------------------------------------
def _shortcut(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    """Identity when the shapes already match, else a 1×1 projection + BN (option B of the ResNet paper)."""
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
    )


class BasicBlock(nn.Module):
    """Two 3×3 conv + BN layers and a shortcut: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    The block of ResNet-18/34 (He et al. 2016, Figure 5 left). ``conv1`` carries the stride.
    ``shortcut`` is ``nn.Identity()`` when stride == 1 and in_channels == out_channels, otherwise a
    1×1 conv (stride ``stride``) + BN projection.

    x: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride)).
    """

    expansion = 1

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        in_channels = positive_int("in_channels", in_channels)
        out_channels = positive_int("out_channels", out_channels)
        stride = positive_int("stride", stride)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    """1×1 reduce, 3×3, 1×1 expand (each + BN) and a shortcut (He et al. 2016, Figure 5 right).

    ``conv1``: in_channels -> mid_channels (1×1), ``conv2``: mid_channels -> mid_channels (3×3, padding 1),
    ``conv3``: mid_channels -> out_channels (1×1). In ResNet-50/101/152, out_channels = 4 * mid_channels.

    ``stride_on`` says which conv downsamples when stride > 1:

    * ``"1x1"``: the first 1×1 conv, as in the ResNet paper (v1). Cheaper: the 3×3 runs on the small map,
      but the strided 1×1 simply skips 3 of every 4 input pixels.
    * ``"3x3"``: the 3×3 conv, as in torchvision ("ResNet v1.5"): about 0.25 G more MACs for ResNet-50 and
      slightly more accurate, since every input pixel is seen before downsampling.

    ``shortcut`` is ``nn.Identity()`` when stride == 1 and in_channels == out_channels, otherwise a
    1×1 conv (stride ``stride``) + BN projection.

    x: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int, stride: int = 1, stride_on: str = "1x1"):
        super().__init__()
        in_channels = positive_int("in_channels", in_channels)
        mid_channels = positive_int("mid_channels", mid_channels)
        out_channels = positive_int("out_channels", out_channels)
        stride = positive_int("stride", stride)
        if stride_on not in ("1x1", "3x3"):
            raise ValueError(f"stride_on={stride_on!r} must be '1x1' (ResNet paper, v1) or '3x3' (torchvision, v1.5)")
        stride1, stride2 = (stride, 1) if stride_on == "1x1" else (1, stride)
        self.conv1 = nn.Conv2d(in_channels, mid_channels, 1, stride=stride1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid_channels)
        self.conv2 = nn.Conv2d(mid_channels, mid_channels, 3, stride=stride2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        self.conv3 = nn.Conv2d(mid_channels, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.shortcut = _shortcut(in_channels, out_channels, stride)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + self.shortcut(x))


# ---------------------------------------------------------------------------------------------
# Depthwise separable convolution
# ---------------------------------------------------------------------------------------------
class DepthwiseSeparable(nn.Sequential):
    """MobileNet v1's layer pair (Howard et al. 2017, Figure 3 right).

    ``depthwise``: k×k conv with groups=in_channels (one filter per channel, padding k//2, carries the
    stride), BN, ReLU; then ``pointwise``: 1×1 conv in_channels -> out_channels, BN, ReLU. Both convs
    have bias=False because BN follows them.

    Cost per output pixel: in_channels*k*k (depthwise) + in_channels*out_channels (pointwise) MACs,
    against in_channels*k*k*out_channels for a full k×k conv.

    x: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out), H_out = floor((H - 1) / stride) + 1
    for odd kernel_size.
    Submodules: ``depthwise``, ``bn1``, ``relu1``, ``pointwise``, ``bn2``, ``relu2``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1):
        in_channels = positive_int("in_channels", in_channels)
        out_channels = positive_int("out_channels", out_channels)
        kernel_size = positive_int("kernel_size", kernel_size)
        stride = positive_int("stride", stride)
        super().__init__(
            OrderedDict(
                depthwise=nn.Conv2d(
                    in_channels, in_channels, kernel_size, stride, kernel_size // 2, groups=in_channels, bias=False
                ),
                bn1=nn.BatchNorm2d(in_channels),
                relu1=nn.ReLU(),
                pointwise=nn.Conv2d(in_channels, out_channels, 1, bias=False),
                bn2=nn.BatchNorm2d(out_channels),
                relu2=nn.ReLU(),
            )
        )


# ---------------------------------------------------------------------------------------------
# Channel shuffle
# ---------------------------------------------------------------------------------------------
def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave the channels of ``groups`` groups (ShuffleNet, Zhang et al. 2018, Figure 1).

    View the C channels as a (groups, C // groups) grid, transpose it, flatten it back: output channel
    ``j * groups + g`` is input channel ``g * (C // groups) + j``. With C = 6 and groups = 2 the order
    ``[0 1 2 | 3 4 5]`` becomes ``[0 3 1 4 2 5]``, so each group of a following grouped conv sees
    channels from every group. ``channel_shuffle(channel_shuffle(x, g), C // g)`` gives back ``x``.

    x: (N, C, H, W) -> (N, C, H, W); groups must divide C.
    """
    _check_nchw("x", x)
    groups = positive_int("groups", groups)
    n, c, h, w = x.shape
    divisible("channels C", c, groups)
    return x.reshape(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ChannelShuffle(nn.Module):
    """``channel_shuffle(x, groups)`` as a layer. x: (N, C, H, W) -> (N, C, H, W)."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = positive_int("groups", groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return channel_shuffle(x, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


# ---------------------------------------------------------------------------------------------
# Feature Pyramid Network
# ---------------------------------------------------------------------------------------------
class FPN(nn.Module):
    """Feature Pyramid Network head (Lin et al. 2017, Figure 3).

    Inputs are backbone maps C_i, finest first (e.g. ResNet's C2..C5 with 256, 512, 1024, 2048 channels).

    1. ``lateral[i]``: a 1×1 conv brings C_i to ``out_channels`` (the 1×1 conv as a channel adapter).
    2. Top-down: starting from the coarsest, each merged map is upsampled (nearest neighbour) to the
       next finer map's size and added to that level's lateral.
    3. ``smooth[i]``: a 3×3 conv (padding 1) on each merged map gives P_i.
    4. With ``extra_p6=True``, P6 = max-pool (kernel 1, stride 2) of the coarsest P, as in the paper.

    forward(features): list of (N, in_channels_list[i], H_i, W_i), fine -> coarse
                       -> list of (N, out_channels, H_i, W_i) (plus P6 of size ceil(H_last / 2)).
    """

    def __init__(self, in_channels_list: Sequence[int], out_channels: int = 256, extra_p6: bool = False):
        super().__init__()
        if not isinstance(in_channels_list, (list, tuple)) or not in_channels_list:
            raise TypeError(f"in_channels_list must be a non-empty list of ints, got {in_channels_list!r}")
        self.in_channels_list = [positive_int(f"in_channels_list[{i}]", c) for i, c in enumerate(in_channels_list)]
        self.out_channels = positive_int("out_channels", out_channels)
        self.lateral = nn.ModuleList(nn.Conv2d(c, out_channels, 1) for c in self.in_channels_list)
        self.smooth = nn.ModuleList(nn.Conv2d(out_channels, out_channels, 3, padding=1) for _ in self.in_channels_list)
        self.p6 = nn.MaxPool2d(kernel_size=1, stride=2) if extra_p6 else None

    def _check(self, features: Sequence[torch.Tensor]) -> None:
        expected = len(self.in_channels_list)
        if not isinstance(features, (list, tuple)):
            raise TypeError(f"FPN expects a list of {expected} feature maps, got {type(features).__name__}")
        if len(features) != expected:
            raise ValueError(
                f"FPN expects {expected} feature maps (one per entry of in_channels_list={self.in_channels_list}), "
                f"got {len(features)}"
            )
        for i, (x, c) in enumerate(zip(features, self.in_channels_list, strict=False)):
            _check_nchw(f"features[{i}]", x)
            if x.shape[1] != c:
                raise ValueError(f"features[{i}] has {x.shape[1]} channels, but in_channels_list[{i}]={c}")

    def forward(self, features: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        self._check(features)
        laterals = [conv(x) for conv, x in zip(self.lateral, features, strict=False)]
        merged = [laterals[-1]]
        for lateral in reversed(laterals[:-1]):
            top_down = F.interpolate(merged[0], size=lateral.shape[-2:], mode="nearest")
            merged.insert(0, lateral + top_down)
        outputs = [smooth(m) for smooth, m in zip(self.smooth, merged, strict=False)]
        if self.p6 is not None:
            outputs.append(self.p6(outputs[-1]))
        return outputs


# ---------------------------------------------------------------------------------------------
# MobileNetV2's inverted residual with a linear bottleneck
# ---------------------------------------------------------------------------------------------
def _conv_bn(
    in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1, relu6: bool = True
) -> nn.Sequential:
    """``Conv2d (bias=False, padding k//2) -> BatchNorm2d [-> ReLU6]``: MobileNetV2's unit."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_channels),
    ]
    if relu6:
        layers.append(nn.ReLU6())
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2's block (Sandler et al. 2018, Figure 3b and Table 1): expand, filter, project linearly.

    * ``expand``:    1×1 conv in_channels -> hidden = round(in_channels · expand_ratio), BN, ReLU6
      (left out when expand_ratio == 1, as in the paper's first bottleneck)
    * ``depthwise``: 3×3 depthwise conv on the hidden channels (carries the stride), BN, ReLU6
    * ``project``:   1×1 conv hidden -> out_channels, BN and **no** activation (the linear bottleneck)

    The shortcut is the identity and is added only when stride == 1 and in_channels == out_channels
    (``self.use_residual``); otherwise the block has no shortcut at all. The block is "inverted" because
    the shortcut joins the thin ends and the wide part sits in the middle, the reverse of ResNet's bottleneck.

    x: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, expand_ratio: float = 6):
        super().__init__()
        in_channels = positive_int("in_channels", in_channels)
        out_channels = positive_int("out_channels", out_channels)
        stride = positive_int("stride", stride)
        if isinstance(expand_ratio, bool) or not isinstance(expand_ratio, (int, float)):
            raise TypeError(f"expand_ratio must be a number >= 1, got {expand_ratio!r} ({type(expand_ratio).__name__})")
        if not expand_ratio >= 1:
            raise ValueError(
                f"expand_ratio={expand_ratio} must be >= 1: the block widens before the depthwise conv (the paper uses 6)"
            )
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.expand_ratio = expand_ratio
        self.hidden_channels = int(round(in_channels * expand_ratio))
        self.use_residual = stride == 1 and in_channels == out_channels
        hidden = self.hidden_channels
        self.expand = _conv_bn(in_channels, hidden, 1) if expand_ratio != 1 else nn.Identity()
        self.depthwise = _conv_bn(hidden, hidden, 3, stride=stride, groups=hidden)
        self.project = _conv_bn(hidden, out_channels, 1, relu6=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.project(self.depthwise(self.expand(x)))
        return x + out if self.use_residual else out

    def extra_repr(self) -> str:
        return f"expand_ratio={self.expand_ratio}, use_residual={self.use_residual}"


# ---------------------------------------------------------------------------------------------
# Squeeze-and-excitation
# ---------------------------------------------------------------------------------------------
class SqueezeExcitation(nn.Module):
    """Squeeze-and-excitation (Hu et al. 2018, Figure 3): a channel gate computed from the input itself.

    ``squeeze``: global average pool, (N, C, H, W) -> (N, C, 1, 1); ``fc1``: 1×1 conv C -> C/r (with bias),
    ReLU; ``fc2``: 1×1 conv C/r -> C (with bias); sigmoid gives one weight in (0, 1) per channel and image;
    the input is scaled channel by channel. Unlike a plain 1×1 conv, whose channel mixing is fixed after
    training, these weights depend on the input (:meth:`channel_weights`).

    Parameters: ``2·C²/r + C/r + C`` (two weight matrices and their biases), see :meth:`param_count`.
    x: (N, channels, H, W) -> (N, channels, H, W).
    """

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        channels = positive_int("channels", channels)
        reduction = positive_int("reduction", reduction)
        if channels % reduction:
            raise ValueError(f"reduction={reduction} must divide channels={channels}")
        self.channels, self.reduction = channels, reduction
        self.squeeze = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1)
        self.gate = nn.Sigmoid()

    @staticmethod
    def param_count(channels: int, reduction: int = 16) -> int:
        """``2·C²/r + C/r + C``: the parameters ``SqueezeExcitation(channels, reduction)`` holds."""
        channels = positive_int("channels", channels)
        reduction = positive_int("reduction", reduction)
        if channels % reduction:
            raise ValueError(f"reduction={reduction} must divide channels={channels}")
        hidden = channels // reduction
        return 2 * channels * hidden + hidden + channels

    def channel_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The per-image channel weights in (0, 1): (N, C, H, W) -> (N, C)."""
        _check_nchw("x", x)
        if x.shape[1] != self.channels:
            raise ValueError(f"x has {x.shape[1]} channels, but this block was built for channels={self.channels}")
        s = self.squeeze(x)
        weights: torch.Tensor = self.gate(self.fc2(self.relu(self.fc1(s))))
        return weights.flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.channel_weights(x)[:, :, None, None]

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction={self.reduction}"


class SEBottleneck(Bottleneck):
    """``Bottleneck`` with squeeze-and-excitation on the residual branch (Hu et al. 2018, Figure 3 right).

    ``se`` rescales the channels of ``bn3``'s output before the shortcut is added; everything else is
    :class:`Bottleneck`. x: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(
        self,
        in_channels: int,
        mid_channels: int,
        out_channels: int,
        stride: int = 1,
        stride_on: str = "1x1",
        reduction: int = 16,
    ):
        super().__init__(in_channels, mid_channels, out_channels, stride, stride_on)
        self.se = SqueezeExcitation(out_channels, reduction)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.se(self.bn3(self.conv3(out)))
        result: torch.Tensor = self.relu(out + self.shortcut(x))
        return result


# ---------------------------------------------------------------------------------------------
# ConvNeXt
# ---------------------------------------------------------------------------------------------
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of an NCHW map (each pixel's C numbers normalised on their own).

    x: (N, C, H, W) -> (N, C, H, W); the weight and bias have shape (C,), as ``nn.LayerNorm(C)``.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """ConvNeXt's block (Liu et al. 2022, Figure 4 right): 7×7 depthwise, LayerNorm, 1×1 ×4, GELU, 1×1.

    * ``dwconv``:  7×7 depthwise conv (padding 3, with bias) on NCHW
    * permute to channels-last (N, H, W, C); ``norm``: LayerNorm(C, eps=1e-6)
    * ``pwconv1``: ``nn.Linear(C, 4C)``, ``act``: GELU, ``pwconv2``: ``nn.Linear(4C, C)``: the two 1×1
      convolutions, written as Linear layers acting on each pixel's channel vector
    * ``layer_scale``: a learnable per-channel factor (initialised to ``layer_scale_init``), permute back,
      add the input

    :meth:`forward_conv` computes the same block with the 1×1 convolutions as ``F.conv2d`` on NCHW and the
    same parameters: the two forms differ only in memory layout.

    x: (N, dim, H, W) -> (N, dim, H, W).
    """

    def __init__(self, dim: int, layer_scale_init: float = 1e-6, kernel_size: int = 7, expansion: int = 4):
        super().__init__()
        self.dim = positive_int("dim", dim)
        kernel_size = positive_int("kernel_size", kernel_size)
        expansion = positive_int("expansion", expansion)
        if isinstance(layer_scale_init, bool) or not isinstance(layer_scale_init, (int, float)):
            raise TypeError(f"layer_scale_init must be a number, got {layer_scale_init!r}")
        self.dwconv = nn.Conv2d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, expansion * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(expansion * dim, dim)
        self.layer_scale = nn.Parameter(torch.full((dim,), float(layer_scale_init)))

    def _check(self, x: torch.Tensor) -> None:
        _check_nchw("x", x)
        if x.shape[1] != self.dim:
            raise ValueError(f"x has {x.shape[1]} channels, but this block was built for dim={self.dim}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        y: torch.Tensor = self.dwconv(x).permute(0, 2, 3, 1)  # (N, H, W, C): channels last
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        return x + (y * self.layer_scale).permute(0, 3, 1, 2)

    def forward_conv(self, x: torch.Tensor) -> torch.Tensor:
        """The same block in NCHW throughout: LayerNorm over dim 1, the Linear weights as 1×1 conv kernels."""
        self._check(x)
        y = self.dwconv(x)
        mean = y.mean(dim=1, keepdim=True)
        var = y.var(dim=1, keepdim=True, unbiased=False)
        y = (y - mean) / torch.sqrt(var + self.norm.eps)
        y = y * self.norm.weight[:, None, None] + self.norm.bias[:, None, None]
        y = F.conv2d(y, self.pwconv1.weight[:, :, None, None], self.pwconv1.bias)
        y = F.conv2d(self.act(y), self.pwconv2.weight[:, :, None, None], self.pwconv2.bias)
        return x + y * self.layer_scale[:, None, None]
