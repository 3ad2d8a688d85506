"""The one table of answers withheld while grading: exercise name → the package names that answer it.

The grading kernel imports a *grading build* of ``course_utils`` (:mod:`course_utils.grading.build`) in
which every name listed here raises ``WithheldWhileGrading`` ("not available while grading: write your
own"), so a notebook that delegates an exercise to the package scores 0 for it, with that reason.
Learners working on their own keep the full package.

To add a lesson's exercises, add one entry per exercise below (``tests/test_grading_build.py`` fails until
every exercise in ``course_utils.checks.all_exercises()`` has one). An exercise that no package name
answers gets ``Answers((), why_none="...")``: the reason is required.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Answers", "ANSWERS", "withheld_names"]


class Answers(NamedTuple):
    names: tuple[str, ...]  # fully qualified: "course_utils.blocks.InceptionModule"
    why_none: str = ""  # required when names is empty


_SIZE = ("course_utils.counting.conv_output_size", "course_utils.counting.conv_output_hw")
_COST = ("course_utils.counting.conv_params", "course_utils.counting.conv_macs")
# counting.profile is not withheld: exercise 09 asks learners to count with it, and it only counts a module the
# learner still has to build (the blocks that answer exercises are withheld), as torch's FlopCounterMode would.

ANSWERS: dict[str, Answers] = {
    # lesson 00
    "ex00_conv_output_shape": Answers(_SIZE),
    "ex00_conv_cost": Answers(_COST),
    "ex00_conv2d": Answers(("course_utils.reference.conv2d",)),
    # lesson 01
    "ex01_reshape_bug": Answers(("course_utils.reference.pointwise_conv",)),
    "ex01_linear_to_conv1x1": Answers(("course_utils.models._linear_as_conv",)),
    "ex01_pointwise_vs_dense": Answers((*_COST, "course_utils.counting.linear_params")),
    # lesson 02
    "ex02_channel_pca": Answers(("course_utils.pca.pca", "course_utils.pca.channel_vectors")),
    "ex02_pca_encoder": Answers(("course_utils.pca.pca", "course_utils.pca.project")),
    "ex02_signal_kept": Answers(("course_utils.pca.pca", "course_utils.pca.channel_vectors")),
    # lesson 03
    "ex03_inception_params": Answers((*_COST, "course_utils.counting.count_params")),
    "ex03_inception_macs": Answers(_COST),
    "ex03_inception_module": Answers(("course_utils.blocks.InceptionModule",)),
    "ex03_break_even_reduce": Answers(_COST),
    # lesson 04
    "ex04_bottleneck_macs": Answers(_COST),
    "ex04_bottleneck_block": Answers(("course_utils.blocks.Bottleneck", "course_utils.blocks.BasicBlock")),
    "ex04_shortcut_bug": Answers(
        ("course_utils.blocks._shortcut", "course_utils.blocks.Bottleneck", "course_utils.blocks.BasicBlock")
    ),
    # lesson 05
    "ex05_fc_weight_to_conv": Answers(("course_utils.models.fc_to_conv", "course_utils.models._linear_as_conv")),
    "ex05_score_map_coverage": Answers(_SIZE),
    "ex05_receptive_field": Answers(
        (), why_none="the package has no receptive-field walk: viz.receptive_fields_diagram only draws given numbers"
    ),
    "ex05_keras_fc_to_conv": Answers(
        (),
        why_none="no package function reads a channels-last flatten; models.fc_to_conv assumes PyTorch's order",
    ),
    # lesson 06
    "ex06_grouped_conv_cost": Answers(_COST),
    "ex06_depthwise_separable": Answers(
        ("course_utils.blocks.DepthwiseSeparable", "course_utils.reference.depthwise_separable_conv2d")
    ),
    "ex06_separable_cost_ratio": Answers(_COST),
    "ex06_channel_shuffle": Answers(("course_utils.blocks.channel_shuffle", "course_utils.blocks.ChannelShuffle")),
    "ex06_kernel_depth_bug": Answers(_COST),
    # lesson 07
    "ex07_lateral_merge": Answers(("course_utils.blocks.FPN",)),
    "ex07_top_down": Answers(("course_utils.blocks.FPN",)),
    "ex07_heaviest_lateral": Answers(_COST),
    # lesson 08
    "ex08_batch_to_be_compute_bound": Answers(
        ("course_utils.bench.conv_arithmetic_intensity", "course_utils.bench.conv_bytes")
    ),
    "ex08_roofline": Answers(("course_utils.bench.roofline_point",)),
    "ex08_predict_speedup": Answers(_COST),  # the MAC ratio; the prediction itself no package function makes
    # lesson 09
    "ex09_build_at_budget": Answers(
        (), why_none="no package function searches widths against a budget; families.build and profile are tools"
    ),
    "ex09_pareto_front": Answers(("course_utils.families.pareto_front",)),
    "ex09_predict_accuracy_per_mac": Answers(
        (), why_none="a prediction from two MAC counts; no package function makes it"
    ),
    # lesson 10
    "ex10_inverted_residual": Answers(
        ("course_utils.blocks.InvertedResidual", "course_utils.models.MobileNetV2", "course_utils.models.mobilenet_v2")
    ),
    "ex10_squeeze_excitation": Answers(
        (
            "course_utils.blocks.SqueezeExcitation",
            "course_utils.blocks.SEBottleneck",
            "course_utils.models.se_resnet50",
        )
    ),
    "ex10_pointwise_backward": Answers(("course_utils.reference.pointwise_conv_backward",)),
}


def withheld_names() -> dict[str, list[str]]:
    """Every withheld qualified name → the exercises it answers (sorted)."""
    by_name: dict[str, list[str]] = {}
    for exercise, answers in ANSWERS.items():
        for name in answers.names:
            by_name.setdefault(name, []).append(exercise)
    return {name: sorted(exercises) for name, exercises in sorted(by_name.items())}
