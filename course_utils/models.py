"""Paper-sized networks, built layer by layer from the papers' tables.

* ``vgg16``        Simonyan & Zisserman 2015 (ICLR), configuration D (Table 1)
* ``fc_to_conv``   VGG's classifier rewritten as a 7×7 conv and two 1×1 convs with the same weights
* ``googlenet``    Szegedy et al. 2015 (CVPR), "Going deeper with convolutions", Table 1 (no auxiliary heads)
* ``resnet18`` … ``resnet152``  He et al. 2016 (CVPR), Table 1, with BatchNorm
* ``mobilenet_v1`` Howard et al. 2017, Table 1, with a width multiplier
* ``mobilenet_v2`` Sandler et al. 2018, Table 2, with a width multiplier
* ``se_resnet50``  Hu et al. 2018, ResNet-50 with squeeze-and-excitation in every bottleneck
* ``convnext_tiny`` Liu et al. 2022, ConvNeXt-T
* ``alexnet``      Krizhevsky, Sutskever & Hinton 2012, with (``groups=2``) and without its two-GPU groups
* ``resnext50_32x4d`` Xie et al. 2017, Table 1, cardinality 32, 4 channels per path

The builders match the papers layer for layer, so ``counting.profile(model, (1, 3, 224, 224))`` reproduces
the papers' parameter and multiply-add figures (the tests compare them). Models are randomly initialised:
no weights are downloaded. Build on the ``meta`` device when only shapes and counts matter::

    with torch.device("meta"):
        model = resnet50()
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Literal

import torch
from torch import nn

from ._validate import positive_int
from .blocks import (
    BasicBlock,
    Bottleneck,
    ConvNeXtBlock,
    DepthwiseSeparable,
    InceptionModule,
    InvertedResidual,
    LayerNorm2d,
    SEBottleneck,
)

__all__ = [
    "VGG",
    "vgg16",
    "fc_to_conv",
    "GoogLeNet",
    "googlenet",
    "ResNet",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "MobileNetV1",
    "mobilenet_v1",
    "MobileNetV2",
    "mobilenet_v2",
    "se_resnet50",
    "ConvNeXt",
    "convnext_tiny",
    "AlexNet",
    "alexnet",
    "ResNeXtBottleneck",
    "ResNeXt",
    "resnext50_32x4d",
]


# ---------------------------------------------------------------------------------------------
# VGG-16
# ---------------------------------------------------------------------------------------------
# Configuration D of Table 1: output channels of each 3×3 conv, "M" for a 2×2 max-pool with stride 2.
VGG16_CONFIG: tuple[int | Literal["M"], ...]
VGG16_CONFIG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


class VGG(nn.Module):
    """VGG: ``features`` (3×3 convs and max-pools), ``flatten``, ``classifier`` (three fully connected layers).

    There is no adaptive pooling: the first Linear expects 512·7·7 inputs, so the network takes exactly
    224×224 images, as in the paper. ``fc_to_conv`` lifts that restriction.

    x: (N, 3, 224, 224) -> logits (N, num_classes)
    """

    def __init__(self, features: nn.Sequential, num_classes: int):
        super().__init__()
        self.features = features
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        if tuple(x.shape[1:]) != (512, 7, 7):
            raise ValueError(
                f"VGG's classifier expects features of shape (N, 512, 7, 7), i.e. 224×224 input images; "
                f"the features have shape {tuple(x.shape)}. Use fc_to_conv(model) for other sizes."
            )
        return self.classifier(self.flatten(x))


def vgg16(num_classes: int = 1000) -> VGG:
    """VGG-16 (configuration D): 13 3×3 convs (padding 1) with ReLU, 5 max-pools, 3 FC layers.

    138,357,544 parameters for 1000 classes (paper Table 2: "138 M").
    x: (N, 3, 224, 224) -> (N, num_classes)
    """
    num_classes = positive_int("num_classes", num_classes)
    layers: list[nn.Module] = []
    in_channels = 3
    for v in VGG16_CONFIG:
        if v == "M":
            layers.append(nn.MaxPool2d(2, stride=2))
        else:
            layers += [nn.Conv2d(in_channels, v, 3, padding=1), nn.ReLU()]
            in_channels = v
    return VGG(nn.Sequential(*layers), num_classes)


def fc_to_conv(vgg: VGG) -> nn.Sequential:
    """A fully convolutional copy of ``vgg`` (as in OverFeat and FCN): same weights, any input size ≥ 224.

    Each Linear becomes a convolution that computes the same dot products:

    * ``fc6``: Linear(512·7·7, 4096) -> Conv2d(512, 4096, 7). ``nn.Flatten`` turns the (512, 7, 7) map
      into a vector in (C, H, W) order: entry ``c*49 + h*7 + w`` is channel c at row h, column w. So the
      weight matrix (4096, 512·7·7) reshaped to (4096, 512, 7, 7) is exactly the conv kernel that looks
      at the same input number with the same weight.
    * ``fc7``: Linear(4096, 4096) -> Conv2d(4096, 4096, 1) and ``fc8``: Linear(4096, classes) -> 1×1 conv:
      on a 1×1 map a 1×1 conv *is* a fully connected layer.

    On a 224×224 image the output is the original logits as (N, classes, 1, 1); on a larger image the
    7×7 conv slides, giving a map of class scores: 384×384 -> 12×12 features -> a 6×6 score map.
    The original model is not modified (its features are deep-copied).

    vgg: a model built by ``vgg16``. Returns nn.Sequential: (N, 3, H, W) -> (N, classes, H//32 - 6, W//32 - 6).
    """
    if not isinstance(vgg, VGG):
        raise TypeError(f"fc_to_conv expects a VGG built by vgg16(), got {type(vgg).__name__}")
    fcs = [m for m in vgg.classifier if isinstance(m, nn.Linear)]
    if (
        len(fcs) != 3
        or fcs[0].in_features != 512 * 7 * 7
        or fcs[1].in_features != fcs[0].out_features
        or fcs[2].in_features != fcs[1].out_features
    ):
        raise ValueError(
            "fc_to_conv expects vgg.classifier to hold vgg16()'s three Linear layers "
            "(512·7·7 -> 4096 -> 4096 -> num_classes)"
        )
    fc6, fc7, fc8 = fcs
    return nn.Sequential(
        OrderedDict(
            features=copy.deepcopy(vgg.features),
            fc6=_linear_as_conv(fc6, 512, 7),
            relu6=nn.ReLU(),
            drop6=nn.Dropout(0.5),
            fc7=_linear_as_conv(fc7, fc7.in_features, 1),
            relu7=nn.ReLU(),
            drop7=nn.Dropout(0.5),
            fc8=_linear_as_conv(fc8, fc8.in_features, 1),
        )
    )


def _linear_as_conv(fc: nn.Linear, in_channels: int, kernel_size: int) -> nn.Conv2d:
    """A Conv2d(in_channels, fc.out_features, kernel_size) holding a copy of ``fc``'s weights and bias."""
    # Built on the meta device and then given uninitialised storage: a random init of fc6's 102 M weights
    # would cost a second and be overwritten at once.
    has_bias = fc.bias is not None  # nn.Linear(bias=False) has none to copy
    conv = nn.Conv2d(in_channels, fc.out_features, kernel_size, bias=has_bias, device="meta", dtype=fc.weight.dtype)
    conv = conv.to_empty(device=fc.weight.device)
    with torch.no_grad():
        conv.weight.copy_(fc.weight.reshape(conv.weight.shape))  # (out, C*K*K) -> (out, C, K, K)
        if conv.bias is not None:
            conv.bias.copy_(fc.bias)
    return conv


# ---------------------------------------------------------------------------------------------
# GoogLeNet
# ---------------------------------------------------------------------------------------------
# Table 1 of Szegedy et al. 2015: #1×1, #3×3 reduce, #3×3, #5×5 reduce, #5×5, pool proj.
GOOGLENET_INCEPTION = OrderedDict(
    inception3a=(64, 96, 128, 16, 32, 32),
    inception3b=(128, 128, 192, 32, 96, 64),
    inception4a=(192, 96, 208, 16, 48, 64),
    inception4b=(160, 112, 224, 24, 64, 64),
    inception4c=(128, 128, 256, 24, 64, 64),
    inception4d=(112, 144, 288, 32, 64, 64),
    inception4e=(256, 160, 320, 32, 128, 128),
    inception5a=(256, 160, 320, 32, 128, 128),
    inception5b=(384, 192, 384, 48, 128, 128),
)


class GoogLeNet(nn.Sequential):
    """GoogLeNet as in Table 1 of Szegedy et al. 2015, without the auxiliary classifiers and without BN.

    Spatial sizes 224 -> 112 (conv1) -> 56 (pool1) -> 28 (pool2) -> 14 (pool3) -> 7 (pool4) -> 1 (avgpool).
    The stride-2 max-pools use ``ceil_mode=True`` (as in the original Caffe model) so that the sizes are
    those of the table. LocalResponseNorm uses the Caffe model's size 5, alpha 1e-4, beta 0.75.

    x: (N, 3, 224, 224) -> logits (N, num_classes)
    """

    def __init__(self, num_classes: int = 1000):
        num_classes = positive_int("num_classes", num_classes)
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv1=nn.Conv2d(3, 64, 7, stride=2, padding=3),
            relu1=nn.ReLU(),
            pool1=nn.MaxPool2d(3, stride=2, ceil_mode=True),
            norm1=nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75),
            conv2_reduce=nn.Conv2d(64, 64, 1),
            relu2_reduce=nn.ReLU(),
            conv2=nn.Conv2d(64, 192, 3, padding=1),
            relu2=nn.ReLU(),
            norm2=nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75),
            pool2=nn.MaxPool2d(3, stride=2, ceil_mode=True),
        )
        in_channels = 192
        for name, widths in GOOGLENET_INCEPTION.items():
            pool = {"inception4a": "pool3", "inception5a": "pool4"}.get(name)  # max-pools between stages
            if pool:
                layers[pool] = nn.MaxPool2d(3, stride=2, ceil_mode=True)
            layers[name] = inception = InceptionModule(in_channels, *widths)
            in_channels = inception.out_channels
        layers.update(
            avgpool=nn.AvgPool2d(7, stride=1),
            flatten=nn.Flatten(),
            dropout=nn.Dropout(0.4),
            fc=nn.Linear(in_channels, num_classes),
        )
        super().__init__(layers)


def googlenet(num_classes: int = 1000) -> GoogLeNet:
    """GoogLeNet (Szegedy et al. 2015, Table 1). x: (N, 3, 224, 224) -> (N, num_classes)."""
    return GoogLeNet(num_classes)


# ---------------------------------------------------------------------------------------------
# ResNet
# ---------------------------------------------------------------------------------------------
class ResNet(nn.Sequential):
    """ResNet as in Table 1 of He et al. 2016, with BN after every conv.

    Stem: ``conv1`` 7×7/2 (64, bias=False), ``bn1``, ``relu``, ``maxpool`` 3×3/2 (padding 1): 224 -> 56.
    Then ``layer1`` .. ``layer4`` with 64, 128, 256, 512 base widths; the first block of layer2..layer4
    has stride 2 (56 -> 28 -> 14 -> 7). Then global ``avgpool``, ``flatten``, ``fc``.

    block: ``"basic"`` (BasicBlock, out = width) or ``"bottleneck"`` (Bottleneck, out = 4 * width).
    layers: number of blocks in each of the four stages, e.g. (3, 4, 6, 3) for ResNet-50.
    stride_on: where a Bottleneck downsamples, ``"1x1"`` (paper, v1) or ``"3x3"`` (torchvision, v1.5).
    x: (N, 3, H, W) -> logits (N, num_classes)
    """

    def __init__(self, block: str, layers: tuple[int, int, int, int], num_classes: int = 1000, stride_on: str = "1x1"):
        num_classes = positive_int("num_classes", num_classes)
        if block not in ("basic", "bottleneck"):
            raise ValueError(f"block={block!r} must be 'basic' or 'bottleneck'")
        if stride_on not in ("1x1", "3x3"):
            raise ValueError(f"stride_on={stride_on!r} must be '1x1' (ResNet paper, v1) or '3x3' (torchvision, v1.5)")
        expansion = 1 if block == "basic" else 4
        stages: OrderedDict[str, nn.Module] = OrderedDict(
            conv1=nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
            bn1=nn.BatchNorm2d(64),
            relu=nn.ReLU(),
            maxpool=nn.MaxPool2d(3, stride=2, padding=1),
        )
        in_channels = 64
        for i, (width, count) in enumerate(zip((64, 128, 256, 512), layers, strict=False)):
            out_channels = width * expansion
            blocks: list[nn.Module] = []
            for j in range(count):
                stride = 2 if (i > 0 and j == 0) else 1
                if block == "basic":
                    blocks.append(BasicBlock(in_channels, out_channels, stride))
                else:
                    blocks.append(Bottleneck(in_channels, width, out_channels, stride, stride_on))
                in_channels = out_channels
            stages[f"layer{i + 1}"] = nn.Sequential(*blocks)
        stages.update(avgpool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(), fc=nn.Linear(in_channels, num_classes))
        super().__init__(stages)


def resnet18(num_classes: int = 1000, stride_on: str = "1x1") -> ResNet:
    """ResNet-18: BasicBlocks [2, 2, 2, 2]. ``stride_on`` is accepted for a uniform API (no Bottleneck here)."""
    return ResNet("basic", (2, 2, 2, 2), num_classes, stride_on)


def resnet34(num_classes: int = 1000, stride_on: str = "1x1") -> ResNet:
    """ResNet-34: BasicBlocks [3, 4, 6, 3]. ``stride_on`` is accepted for a uniform API (no Bottleneck here)."""
    return ResNet("basic", (3, 4, 6, 3), num_classes, stride_on)


def resnet50(num_classes: int = 1000, stride_on: str = "1x1") -> ResNet:
    """ResNet-50: Bottlenecks [3, 4, 6, 3]."""
    return ResNet("bottleneck", (3, 4, 6, 3), num_classes, stride_on)


def resnet101(num_classes: int = 1000, stride_on: str = "1x1") -> ResNet:
    """ResNet-101: Bottlenecks [3, 4, 23, 3]."""
    return ResNet("bottleneck", (3, 4, 23, 3), num_classes, stride_on)


def resnet152(num_classes: int = 1000, stride_on: str = "1x1") -> ResNet:
    """ResNet-152: Bottlenecks [3, 8, 36, 3]."""
    return ResNet("bottleneck", (3, 8, 36, 3), num_classes, stride_on)


# ---------------------------------------------------------------------------------------------
# MobileNet v1
# ---------------------------------------------------------------------------------------------
# Table 1 of Howard et al. 2017: (output channels, stride) of the 13 depthwise separable blocks.
# The table prints "Conv dw / s2" for the 13th depthwise conv, but its input and output are both 7×7:
# that stride is a typo, every implementation (and the 7×7 average pool that follows) uses stride 1.
MOBILENET_V1_BLOCKS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)


class MobileNetV1(nn.Sequential):
    """MobileNet v1 (Howard et al. 2017, Table 1).

    ``conv1`` 3×3/2 (32 × α channels, bias=False), ``bn1``, ``relu1``; ``block1`` .. ``block13``
    (DepthwiseSeparable with the table's widths × α and strides); ``avgpool`` 7×7; ``flatten``; ``fc``.
    Widths are ``round(width × α)``, exact for the paper's α = 1, 0.75, 0.5, 0.25.

    x: (N, 3, 224, 224) -> logits (N, num_classes)
    """

    def __init__(self, width_multiplier: float = 1.0, num_classes: int = 1000):
        num_classes = positive_int("num_classes", num_classes)
        if isinstance(width_multiplier, bool) or not isinstance(width_multiplier, (int, float)):
            raise TypeError(f"width_multiplier must be a number in (0, 1], got {width_multiplier!r}")
        if not 0 < width_multiplier <= 1:
            raise ValueError(f"width_multiplier={width_multiplier} must be in (0, 1] (the paper's α)")

        def scaled(channels: int) -> int:
            c = round(channels * width_multiplier)
            if c < 1:
                raise ValueError(
                    f"width_multiplier={width_multiplier} scales {channels} channels to {c}: every width must stay >= 1"
                )
            return c

        in_channels = scaled(32)
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv1=nn.Conv2d(3, in_channels, 3, stride=2, padding=1, bias=False),
            bn1=nn.BatchNorm2d(in_channels),
            relu1=nn.ReLU(),
        )
        for i, (channels, stride) in enumerate(MOBILENET_V1_BLOCKS, start=1):
            layers[f"block{i}"] = DepthwiseSeparable(in_channels, scaled(channels), stride=stride)
            in_channels = scaled(channels)
        layers.update(avgpool=nn.AvgPool2d(7), flatten=nn.Flatten(), fc=nn.Linear(in_channels, num_classes))
        super().__init__(layers)


def mobilenet_v1(width_multiplier: float = 1.0, num_classes: int = 1000) -> MobileNetV1:
    """MobileNet v1 with width multiplier α (Howard et al. 2017). x: (N, 3, 224, 224) -> (N, num_classes)."""
    return MobileNetV1(width_multiplier, num_classes)


# ---------------------------------------------------------------------------------------------
# MobileNetV2
# ---------------------------------------------------------------------------------------------
# Table 2 of Sandler et al. 2018: (expansion t, output channels c, repeats n, stride s of the first repeat).
MOBILENET_V2_BLOCKS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def _make_divisible(channels: float, divisor: int = 8) -> int:
    """Round ``channels`` to the nearest multiple of ``divisor`` (never below 90 % of it, never below ``divisor``).

    The rule of the MobileNet reference code (and torchvision), used for width multipliers other than 1.
    """
    rounded = max(divisor, int(channels + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * channels else rounded


class MobileNetV2(nn.Sequential):
    """MobileNetV2 (Sandler et al. 2018, Table 2): inverted residuals with linear bottlenecks.

    ``conv1`` 3×3/2 (32 channels, BN, ReLU6); ``block1`` .. ``block17``: InvertedResidual with the table's
    (t, c, n, s); ``conv_last`` 1×1 to 1280 (BN, ReLU6); ``avgpool``; ``flatten``; ``dropout`` (0.2, as in
    torchvision); ``fc``. The table's last row, a 1×1 conv to k classes on the pooled 1×1 map, is the same
    dot products as the ``nn.Linear`` used here. With α ≠ 1 every width is α·c rounded to a multiple of 8;
    the last conv keeps 1280 channels for α < 1, as the paper says.

    x: (N, 3, H, W) -> logits (N, num_classes)
    """

    def __init__(self, width_multiplier: float = 1.0, num_classes: int = 1000):
        num_classes = positive_int("num_classes", num_classes)
        if isinstance(width_multiplier, bool) or not isinstance(width_multiplier, (int, float)):
            raise TypeError(f"width_multiplier must be a positive number, got {width_multiplier!r}")
        if not width_multiplier > 0:
            raise ValueError(f"width_multiplier={width_multiplier} must be > 0 (the paper's α, e.g. 0.35 to 1.4)")
        in_channels = _make_divisible(32 * width_multiplier)
        last_channels = _make_divisible(1280 * max(1.0, width_multiplier))
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            conv1=nn.Sequential(
                nn.Conv2d(3, in_channels, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(in_channels), nn.ReLU6()
            )
        )
        index = 1
        for t, c, n, s in MOBILENET_V2_BLOCKS:
            out_channels = _make_divisible(c * width_multiplier)
            for i in range(n):
                layers[f"block{index}"] = InvertedResidual(in_channels, out_channels, s if i == 0 else 1, t)
                in_channels, index = out_channels, index + 1
        layers.update(
            conv_last=nn.Sequential(
                nn.Conv2d(in_channels, last_channels, 1, bias=False), nn.BatchNorm2d(last_channels), nn.ReLU6()
            ),
            avgpool=nn.AdaptiveAvgPool2d(1),
            flatten=nn.Flatten(),
            dropout=nn.Dropout(0.2),
            fc=nn.Linear(last_channels, num_classes),
        )
        super().__init__(layers)


def mobilenet_v2(width_multiplier: float = 1.0, num_classes: int = 1000) -> MobileNetV2:
    """MobileNetV2 with width multiplier α (Sandler et al. 2018). x: (N, 3, 224, 224) -> (N, num_classes)."""
    return MobileNetV2(width_multiplier, num_classes)


# ---------------------------------------------------------------------------------------------
# SE-ResNet-50
# ---------------------------------------------------------------------------------------------
def se_resnet50(num_classes: int = 1000, reduction: int = 16, stride_on: str = "1x1") -> ResNet:
    """SE-ResNet-50 (Hu et al. 2018, Table 1): ResNet-50 with every Bottleneck replaced by an SEBottleneck
    of the same widths and stride. x: (N, 3, H, W) -> logits (N, num_classes)."""
    reduction = positive_int("reduction", reduction)
    model = resnet50(num_classes, stride_on)
    for name in ("layer1", "layer2", "layer3", "layer4"):
        layer = model.get_submodule(name)
        assert isinstance(layer, nn.Sequential)  # noqa: S101 - ResNet's stages are nn.Sequential
        for i, block in enumerate(layer):
            assert isinstance(block, Bottleneck)  # noqa: S101 - resnet50 is built from Bottlenecks
            stride = max(block.conv1.stride[0], block.conv2.stride[0])
            widths = (block.conv1.in_channels, block.conv1.out_channels, block.conv3.out_channels)
            layer[i] = SEBottleneck(*widths, stride, stride_on, reduction)
    return model


# ---------------------------------------------------------------------------------------------
# ConvNeXt
# ---------------------------------------------------------------------------------------------
class ConvNeXt(nn.Sequential):
    """ConvNeXt (Liu et al. 2022, Section 2 and Table 9), as in the authors' code and torchvision.

    ``stem``: 4×4 conv, stride 4 ("patchify", with bias) + LayerNorm2d; ``stage1`` .. ``stage4``: ``depths[i]``
    ConvNeXtBlocks of width ``dims[i]``; before stages 2-4 a ``downsample{i}``: LayerNorm2d + 2×2 conv,
    stride 2; then ``avgpool``, ``norm`` (LayerNorm2d), ``flatten``, ``fc``. Stochastic depth is a training
    regulariser with no parameters and is left out.

    x: (N, 3, H, W) -> logits (N, num_classes)
    """

    def __init__(
        self,
        depths: tuple[int, int, int, int] = (3, 3, 9, 3),
        dims: tuple[int, int, int, int] = (96, 192, 384, 768),
        num_classes: int = 1000,
    ):
        num_classes = positive_int("num_classes", num_classes)
        if len(depths) != 4 or len(dims) != 4:
            raise ValueError(f"depths={depths} and dims={dims} must each hold four stages")
        depths = tuple(positive_int(f"depths[{i}]", d) for i, d in enumerate(depths))  # type: ignore[assignment]
        dims = tuple(positive_int(f"dims[{i}]", d) for i, d in enumerate(dims))  # type: ignore[assignment]
        layers: OrderedDict[str, nn.Module] = OrderedDict(
            stem=nn.Sequential(nn.Conv2d(3, dims[0], 4, stride=4), LayerNorm2d(dims[0], eps=1e-6))
        )
        for i, (depth, dim) in enumerate(zip(depths, dims, strict=True)):
            if i > 0:
                layers[f"downsample{i + 1}"] = nn.Sequential(
                    LayerNorm2d(dims[i - 1], eps=1e-6), nn.Conv2d(dims[i - 1], dim, 2, stride=2)
                )
            layers[f"stage{i + 1}"] = nn.Sequential(*(ConvNeXtBlock(dim) for _ in range(depth)))
        layers.update(
            avgpool=nn.AdaptiveAvgPool2d(1),
            norm=LayerNorm2d(dims[-1], eps=1e-6),
            flatten=nn.Flatten(),
            fc=nn.Linear(dims[-1], num_classes),
        )
        super().__init__(layers)


def convnext_tiny(num_classes: int = 1000) -> ConvNeXt:
    """ConvNeXt-T: depths (3, 3, 9, 3), widths (96, 192, 384, 768). x: (N, 3, 224, 224) -> (N, num_classes)."""
    return ConvNeXt((3, 3, 9, 3), (96, 192, 384, 768), num_classes)


# ---------------------------------------------------------------------------------------------
# AlexNet, with and without its two-GPU groups
# ---------------------------------------------------------------------------------------------
class AlexNet(nn.Module):
    """AlexNet as in Krizhevsky, Sutskever & Hinton (2012), Figure 2: five convs, three FC layers.

    The network was split across two GPUs. conv1's 96 kernels (48 per GPU) still see all 3 input channels,
    and conv3 and the FC layers read from both GPUs; conv2, conv4 and conv5 read only the maps on their own
    GPU. That is a grouped convolution with ``groups=2``: each of their kernels has depth C_in/2 (48, 192,
    192 instead of 96, 384, 384). ``groups=1`` gives the same network with every conv dense.

    The input is 227×227: the paper's text says 224, but (224 − 11)/4 + 1 is not the 55×55 its figure
    shows, while (227 − 11)/4 + 1 = 55 is (Caffe's reference model uses 227 for this reason).

    x: (N, 3, 227, 227) -> features (N, 256, 6, 6) -> logits (N, num_classes)
    """

    def __init__(self, groups: int = 2, num_classes: int = 1000):
        super().__init__()
        groups = positive_int("groups", groups)
        if groups not in (1, 2):
            raise ValueError(f"groups={groups} must be 2 (the paper's two GPUs) or 1 (every conv dense)")
        num_classes = positive_int("num_classes", num_classes)
        self.groups = groups
        self.features = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(3, 96, 11, stride=4),
                relu1=nn.ReLU(),
                norm1=nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
                pool1=nn.MaxPool2d(3, stride=2),
                conv2=nn.Conv2d(96, 256, 5, padding=2, groups=groups),
                relu2=nn.ReLU(),
                norm2=nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
                pool2=nn.MaxPool2d(3, stride=2),
                conv3=nn.Conv2d(256, 384, 3, padding=1),
                relu3=nn.ReLU(),
                conv4=nn.Conv2d(384, 384, 3, padding=1, groups=groups),
                relu4=nn.ReLU(),
                conv5=nn.Conv2d(384, 256, 3, padding=1, groups=groups),
                relu5=nn.ReLU(),
                pool5=nn.MaxPool2d(3, stride=2),
            )
        )
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(
            nn.Dropout(0.5),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        if tuple(x.shape[1:]) != (256, 6, 6):
            raise ValueError(
                f"AlexNet's classifier expects features of shape (N, 256, 6, 6), i.e. 227×227 input images; "
                f"the features have shape {tuple(x.shape)}"
            )
        logits: torch.Tensor = self.classifier(self.flatten(x))
        return logits


def alexnet(groups: int = 2, num_classes: int = 1000) -> AlexNet:
    """AlexNet (Krizhevsky et al. 2012); ``groups=2``: the paper's two-GPU split, ``groups=1``: all dense.

    60,965,224 parameters with groups (the paper: "60 million parameters"), 62,378,344 without.
    x: (N, 3, 227, 227) -> (N, num_classes)
    """
    return AlexNet(groups, num_classes)


# ---------------------------------------------------------------------------------------------
# ResNeXt
# ---------------------------------------------------------------------------------------------
class ResNeXtBottleneck(nn.Module):
    """ResNeXt's block (Xie et al. 2017, Figure 3c): 1×1 reduce, grouped 3×3, 1×1 expand, each + BN, shortcut.

    The 3×3 conv has ``groups=cardinality``: ``cardinality`` parallel paths of ``width // cardinality``
    channels each (32 paths of 4 channels in "32×4d"). The stride sits on the 3×3 conv, as in the paper and
    in torchvision. ``shortcut`` is an identity when the shapes match, else a 1×1 conv + BN projection.

    x: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(self, in_channels: int, width: int, out_channels: int, cardinality: int, stride: int = 1):
        super().__init__()
        in_channels = positive_int("in_channels", in_channels)
        width = positive_int("width", width)
        out_channels = positive_int("out_channels", out_channels)
        cardinality = positive_int("cardinality", cardinality)
        stride = positive_int("stride", stride)
        if width % cardinality:
            raise ValueError(f"cardinality={cardinality} must divide width={width}")
        self.cardinality = cardinality
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, groups=cardinality, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels)
            )
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        y: torch.Tensor = self.relu(out + self.shortcut(x))
        return y


class ResNeXt(nn.Sequential):
    """ResNeXt (Xie et al. 2017, Table 1): ResNet-50's layout with ``ResNeXtBottleneck`` blocks.

    Same stem and submodule names as ``ResNet`` (``conv1``, ``bn1``, ``relu``, ``maxpool``, ``layer1`` ..
    ``layer4``, ``avgpool``, ``flatten``, ``fc``). Stage i (base width 64·2^i) has bottleneck width
    ``64·2^i · bottleneck_width / 64 · cardinality`` and 4·64·2^i output channels.

    x: (N, 3, H, W) -> logits (N, num_classes)
    """

    def __init__(
        self,
        layers: tuple[int, int, int, int] = (3, 4, 6, 3),
        cardinality: int = 32,
        bottleneck_width: int = 4,
        num_classes: int = 1000,
    ):
        num_classes = positive_int("num_classes", num_classes)
        cardinality = positive_int("cardinality", cardinality)
        bottleneck_width = positive_int("bottleneck_width", bottleneck_width)
        stages: OrderedDict[str, nn.Module] = OrderedDict(
            conv1=nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
            bn1=nn.BatchNorm2d(64),
            relu=nn.ReLU(),
            maxpool=nn.MaxPool2d(3, stride=2, padding=1),
        )
        in_channels = 64
        for i, (base, count) in enumerate(zip((64, 128, 256, 512), layers, strict=True)):
            width = base * bottleneck_width // 64 * cardinality
            out_channels = 4 * base
            blocks = []
            for j in range(positive_int(f"layers[{i}]", count)):
                stride = 2 if (i > 0 and j == 0) else 1
                blocks.append(ResNeXtBottleneck(in_channels, width, out_channels, cardinality, stride))
                in_channels = out_channels
            stages[f"layer{i + 1}"] = nn.Sequential(*blocks)
        stages.update(avgpool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(), fc=nn.Linear(in_channels, num_classes))
        super().__init__(stages)


def resnext50_32x4d(num_classes: int = 1000) -> ResNeXt:
    """ResNeXt-50 (32×4d): cardinality 32, 4 channels per path in the first stage, blocks [3, 4, 6, 3].

    25,028,904 parameters (torchvision's documented ``num_params``; the paper's Table 1: 25.0 M).
    x: (N, 3, H, W) -> (N, num_classes)
    """
    return ResNeXt((3, 4, 6, 3), 32, 4, num_classes)
