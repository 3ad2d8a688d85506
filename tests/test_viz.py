"""Tests of course_utils.viz: the figures draw what they are given, label it, and reject bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_utils import viz
from course_utils.counting import format_count


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_style_keeps_figures_small():
    assert viz.RC["figure.dpi"] <= 100 and viz.RC["savefig.dpi"] <= 100
    with viz.style():
        assert plt.rcParams["figure.dpi"] == viz.RC["figure.dpi"]
        fig = plt.figure()
    assert fig.dpi <= 100


def test_cost_bars_draws_heights_and_human_labels():
    ax = viz.cost_bars(["3×3 conv", "1×1 conv"], [1_234_567, 137_174], title="MACs per layer")
    assert [p.get_height() for p in ax.patches] == [1_234_567, 137_174]
    texts = [t.get_text() for t in ax.texts]
    assert texts == [format_count(1_234_567), format_count(137_174)] == ["1.23 M", "137.17 K"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["3×3 conv", "1×1 conv"]
    assert ax.get_ylabel() == "MACs" and ax.get_title() == "MACs per layer"


def test_cost_bars_on_given_axes_and_log_scale():
    fig, axes = plt.subplots(1, 2)
    ax = viz.cost_bars(["a", "b"], torch.tensor([10.0, 1e6]), ylabel="params", ax=axes[1], log=True)
    assert ax is axes[1] and ax.get_yscale() == "log" and ax.get_ylabel() == "params"


def test_feature_map_grid_layout_and_titles():
    maps = torch.rand(5, 6, 7)
    fig = viz.feature_map_grid(maps, titles=list("abcde"), ncols=3)
    axes = fig.axes
    assert len(axes) == 6  # 2 rows × 3 columns, the last one blank
    images = [ax.images[0].get_array() for ax in axes if ax.images]
    assert len(images) == 5
    np.testing.assert_allclose(np.asarray(images[2]), maps[2].numpy())
    assert [ax.get_title() for ax in axes[:5]] == list("abcde")
    assert len(viz.feature_map_grid(maps[None]).axes) == 5  # a batch of one is accepted


def test_subspace_angles_plot_grouped_bars():
    ax = viz.subspace_angles_plot(np.array([[0.5, 10.0, 30.0], [60.0, 80.0, 90.0]]), ["AE", "task"])
    heights = sorted(round(p.get_height(), 3) for p in ax.patches)
    assert heights == [0.5, 10.0, 30.0, 60.0, 80.0, 90.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["AE", "task"]
    assert sorted(t.get_text() for t in ax.texts) == sorted(["0°", "10°", "30°", "60°", "80°", "90°"])


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: viz.cost_bars("ab", [1, 2]), TypeError, "labels must be a sequence of strings"),
        (lambda: viz.cost_bars(["a"], [1, 2]), ValueError, "same length, got 1 labels and 2 values"),
        (lambda: viz.cost_bars([], []), ValueError, "values must not be empty"),
        (lambda: viz.cost_bars(["a"], [-1]), ValueError, "finite and >= 0"),
        (lambda: viz.cost_bars(["a", "b"], [0, 1], log=True), ValueError, "log=True needs positive values"),
        (lambda: viz.cost_bars(["a"], ["x"]), TypeError, "values must be numbers"),
        (lambda: viz.feature_map_grid(np.zeros((2, 2, 3, 3))), ValueError, r"maps must have shape \(C, H, W\)"),
        (lambda: viz.feature_map_grid(np.zeros((2, 3, 3)), titles=["a"]), ValueError, "titles must be a sequence of 2"),
        (lambda: viz.feature_map_grid(np.zeros((2, 3, 3)), ncols=0), ValueError, "ncols=0"),
        (lambda: viz.subspace_angles_plot([100.0]), ValueError, r"within \[0, 90\]"),
        (lambda: viz.subspace_angles_plot([[1.0], [2.0]], ["a"]), ValueError, "labels must be a sequence of 2"),
    ],
)
def test_bad_inputs_are_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_channel_heatmap_draws_the_matrix_and_group_lines():
    block_diagonal = torch.block_diag(*[torch.ones(4, 4)] * 3)
    ax = viz.channel_heatmap(block_diagonal, groups=3, title="groups=3")
    image = ax.get_images()[0].get_array()
    assert image.shape == (12, 12) and np.array_equal(np.asarray(image), block_diagonal.numpy())
    assert len(ax.lines) == 2 * (3 - 1)  # one horizontal and one vertical line between neighbouring groups
    assert ax.get_title() == "groups=3"
    plt.close("all")


@pytest.mark.parametrize(
    "matrix,groups,match",
    [
        (np.ones((12, 12)), 5, "groups=5 must divide"),
        (np.ones(12), None, "shape \\(rows, cols\\)"),
        (np.full((2, 2), np.nan), None, "finite"),
        (np.ones((4, 4)), 0, "positive int"),
    ],
)
def test_channel_heatmap_rejects_bad_input(matrix, groups, match):
    with pytest.raises(ValueError, match=match):
        viz.channel_heatmap(matrix, groups=groups)


# ---------------------------------------------------------------------------------------------
# Architecture diagrams: the labels come from the module they draw
# ---------------------------------------------------------------------------------------------
def _texts(ax) -> str:
    return "\n".join(t.get_text() for t in ax.texts)


def test_inception_diagram_reads_the_widths_of_the_module():
    from course_utils import blocks

    ax = viz.inception_diagram(blocks.InceptionModule(192, 64, 96, 128, 16, 32, 32), size=28)
    text = _texts(ax)
    for label in ("input  192×28×28", "1×1 conv → 96", "3×3 conv → 128", "5×5 conv → 32", "3×3 max-pool"):
        assert label in text
    assert "64 + 128 + 32 + 32 = 256×28×28" in text
    other = _texts(viz.inception_diagram(blocks.InceptionModule(256, 128, 128, 192, 32, 96, 64)))
    assert "128 + 192 + 96 + 64 = 480" in other
    with pytest.raises(TypeError, match="InceptionModule"):
        viz.inception_diagram(torch.nn.Conv2d(3, 3, 1))


def test_residual_block_diagram_shows_the_shortcut():
    from course_utils import blocks

    basic = _texts(viz.residual_block_diagram(blocks.BasicBlock(64, 64), size=56))
    assert "identity" in basic and basic.count("3×3 conv → 64") == 2 and "output  64×56×56" in basic
    down = _texts(viz.residual_block_diagram(blocks.Bottleneck(256, 128, 512, stride=2), size=56))
    assert "1×1 conv → 128, stride 2" in down and "1×1 conv → 512\nstride 2 + BN" in down
    assert "output  512×28×28" in down
    with pytest.raises(TypeError, match="residual block"):
        viz.residual_block_diagram(torch.nn.Conv2d(3, 3, 1))


def test_fc_as_conv_diagram_checks_the_pair():
    fc, conv = torch.nn.Linear(8 * 3 * 3, 5), torch.nn.Conv2d(8, 5, 3)
    text = _texts(viz.fc_as_conv_diagram(fc, conv))
    assert "fc weight (5, 72)" in text and "kernel o: 3×3, 8 deep" in text
    with pytest.raises(ValueError, match="does not hold the weights"):
        viz.fc_as_conv_diagram(fc, torch.nn.Conv2d(8, 5, 2))


def test_receptive_fields_diagram_draws_crop_and_field_per_cell():
    image = np.zeros((3, 64, 64))
    ax = viz.receptive_fields_diagram(image, [(0, 0), (1, 1)], stride=8, field=40, start=-10, crop=24)
    rects = [p for p in ax.patches]
    assert len(rects) == 4  # crop and field per cell
    crop, field = rects[0], rects[1]
    assert (crop.get_width(), crop.get_x()) == (24, 0)
    assert field.get_x() == 0 and field.get_width() == 30  # clipped at the left edge: -10 … 29
    with pytest.raises(ValueError, match="stride=0"):
        viz.receptive_fields_diagram(image, [(0, 0)], stride=0, field=40, start=-10, crop=24)


def test_fpn_diagram_labels_laterals_and_shapes():
    from course_utils import blocks

    fpn = blocks.FPN([256, 512], out_channels=64)
    text = _texts(viz.fpn_diagram(fpn, [(1, 256, 16, 16), (1, 512, 8, 8)]))
    assert "512 → 64" in text and "C3  512×8×8" in text and "P2\n64×16×16" in text
    with pytest.raises(ValueError, match=r"input_shapes\[1\]"):
        viz.fpn_diagram(fpn, [(1, 256, 16, 16), (1, 500, 8, 8)])
