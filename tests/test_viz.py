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
