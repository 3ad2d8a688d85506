"""Staged help for every exercise of lessons 00–10: ``checks.hint(name)`` gives one level per call.

Level 1 is a nudge (where to look), level 2 the idea (how to go about it), level 3 the formula or the code shape
(close to the answer). The stubs in ``exercises/`` state only the task; the help is here, for learners who ask.
``DIFFICULTY`` rates each exercise ★ (counting) to ★★★ (judging a design, or an implementation with a trap).
"""

from __future__ import annotations

__all__ = ["HINTS", "DIFFICULTY"]

HINTS: dict[str, tuple[str, str, str]] = {
    "ex00_conv_output_shape": (
        "draw one row of the input with its padding on both sides, and count where a window of kernel_size pixels "
        "can start when it moves by stride",
        "padding adds pixels on BOTH sides; the first window starts at 0, the last one must still fit; the division "
        "by the stride rounds down (a partial step is no window)",
        "H_out = (H + 2·padding − kernel_size) // stride + 1, the same for W; N stays, C becomes out_channels",
    ),
    "ex00_conv_cost": (
        "separate the two questions: how many numbers does the layer store, and how many multiplies does it do "
        "for each output number?",
        "the weights are (C_out, C_in, K, K); each output pixel of each output channel reads one C_in·K·K window; "
        "the output size depends on stride and padding",
        "params = C_in·K²·C_out (+ C_out if bias); MACs = H_out·W_out·C_in·K²·C_out with "
        "H_out = (size + 2·padding − K) // stride + 1 (a MAC is one multiply-add, not two FLOPs)",
    ),
    "ex00_conv2d": (
        "write the formula for a single output number out[o, i, j] first, then ask which axes it sums over",
        "sliding_window_view(x, (K, K), axis=(1, 2)) gives every window as (C_in, H_out, W_out, K, K); one einsum "
        "contracts it with w over c, u, v; the kernel is not flipped",
        "np.einsum('chwuv,ocuv->ohw', windows, w) + b[:, None, None]",
    ),
    "ex01_reshape_bug": (
        "try the buggy line on a tiny x whose values say where they sit, e.g. x = np.arange(2 * 3).reshape(1, 2, 3) "
        "(2 channels, 3 pixels): which numbers land in one row of x.reshape(-1, 2)?",
        "a row must hold ONE pixel's C_in channel values, and in an (N, C_in, *spatial) array those lie a whole "
        "channel plane apart: move the channel axis last (whatever the number of spatial axes), then reshape, "
        "multiply and add the bias, then undo the two steps in reverse order",
        "n, c_in, *spatial = x.shape; rows = np.moveaxis(x, 1, -1).reshape(-1, c_in); out = rows @ w.T + b; "
        "return np.moveaxis(out.reshape(n, *spatial, -1), -1, 1)",
    ),
    "ex01_linear_to_conv1x1": (
        "a 1×1 conv's weight is a Linear weight with two extra unit axes: which ones, and where?",
        "build a NEW nn.Conv2d(in_features, out_features, 1, bias=...) and copy the Linear's numbers into it under "
        "torch.no_grad(); leave the Linear itself unchanged",
        "conv.weight.copy_(linear.weight[:, :, None, None]); conv.bias.copy_(linear.bias) when linear.bias is not None",
    ),
    "ex01_pointwise_vs_dense": (
        "how many inputs and outputs does each layer connect, and how many biases does each have?",
        "the 1×1 conv shares one C_out × C_in matrix over all pixels; the dense layer connects every input number to "
        "every output number; the ratio is a true division",
        "pointwise = C_in·C_out + C_out; dense = (C_in·H·W)·(C_out·H·W) + C_out·H·W; ratio = dense / pointwise",
    ),
    "ex02_channel_pca": (
        "PCA here works on pixels, not images: what are the samples, and what are the features?",
        "gather the N·H·W channel vectors as rows (channels last), subtract their mean, and take the SVD: the right "
        "singular vectors are the principal directions, already ordered by variance",
        "pixels = x.transpose(0, 2, 3, 1).reshape(-1, C); mean = pixels.mean(0); "
        "_, _, vt = np.linalg.svd(pixels - mean, full_matrices=False); components = vt[:k]",
    ),
    "ex02_pca_encoder": (
        "write a pixel's k coefficients as an affine map W·v + b: what are W and b?",
        "components @ (v − mean) = components @ v − components @ mean: the weight is the components, the bias is "
        "constant; a 1×1 conv with k outputs applies it to every pixel",
        "weight = components[:, :, None, None]; bias = −(components @ mean), both as float32 tensors copied into "
        "nn.Conv2d(C, k, 1)",
    ),
    "ex02_signal_kept": (
        "do what exercise 1 does (inside this function): which directions does PCA keep for a given k, and how "
        "much of a unit vector lies in the space they span?",
        "the top-k components are orthonormal rows; the squared length of the signal's projection on their span is "
        "the sum of its squared dot products with them; normalise the signal first and centre the pixels",
        "s = signal / ‖signal‖; components = (rows of Vt of the centred (N·H·W, C) pixels)[:k]; "
        "return float(np.sum((components @ s) ** 2))",
    ),
    "ex03_inception_params": (
        "list the convolutions of the four branches first (there are six), with their input and output channels",
        "the 3×3 and 5×5 convs read the REDUCED maps; the pool has no parameters but its 1×1 projection has; every "
        "conv has a bias",
        "sum over the six convs of C_in·K²·C_out + C_out: 1×1 in→ch1x1, 1×1 in→reduce3, 3×3 reduce3→ch3x3, "
        "1×1 in→reduce5, 5×5 reduce5→ch5x5, 1×1 in→pool_proj",
    ),
    "ex03_inception_module": (
        "every branch must keep H and W, or the four outputs cannot be concatenated",
        "one nn.Sequential per branch (conv → ReLU, or 1×1 conv → ReLU → K×K conv → ReLU); forward concatenates the "
        "four outputs on dim=1 in the order 1×1, 3×3, 5×5, pool",
        "padding=1 for the 3×3, padding=2 for the 5×5, nn.MaxPool2d(3, stride=1, padding=1) before the pool "
        "projection; self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj",
    ),
    "ex03_break_even_reduce": (
        "write both costs for a reduction of r channels, then ask for which r the reduced one is smaller; what "
        "happens to the map size?",
        "reduced = S²·C_in·r + S²·r·25·C5 = S²·r·(C_in + 25·C5); direct = S²·25·C_in·C5. Both keep the map, so S² "
        "cancels: r < 25·C_in·C5 / (C_in + 25·C5). 'Fewer' is strict, and r is a whole number of channels (0 when "
        "even 1 is too many)",
        "return (25 * in_channels * ch5x5 - 1) // (in_channels + 25 * ch5x5)  # the largest r with r·D < N",
    ),
    "ex03_inception_macs": (
        "compare the buggy count with the module's four branches, one conv at a time: which convs does it "
        "count, and with which kernel?",
        "the 3×3 and 5×5 convs read the REDUCED maps, and the reduce convs cost MACs too; a 5×5 kernel has 25 "
        "weights per channel pair; every conv keeps size × size",
        "size²·(C·c1 + C·r3 + 9·r3·c3 + C·r5 + 25·r5·c5 + C·pp)",
    ),
    "ex04_bottleneck_macs": (
        "which layers run at the input size, and which at the output size, when stride = 2?",
        "the first 1×1 carries the stride, so the 3×3 and the last 1×1 work on the smaller map; a projection "
        "shortcut exists only when stride ≠ 1 or in ≠ out, and it has the stride too",
        "s = (size − 1) // stride + 1; MACs = s²·C_in·mid + s²·9·mid² + s²·mid·out, plus s²·C_in·out for a "
        "projection shortcut",
    ),
    "ex04_bottleneck_block": (
        "first get the main path's shapes right, then ask when x itself can be added to it",
        "conv → BN → ReLU twice, conv → BN, then add the shortcut and apply the last ReLU; the shortcut must "
        "produce the main path's shape, which the identity does only at stride 1 with equal widths",
        "shortcut = nn.Sequential(nn.Conv2d(in, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out)) if "
        "stride != 1 or in != out else nn.Identity(); return torch.relu(main + self.shortcut(x))",
    ),
    "ex04_shortcut_bug": (
        "take conv2_x's first block, 64 → 256 at stride 1: what shape does x have, what shape does the main path "
        "give, and what does the buggy code add to it?",
        "x can be added as it is only when the main path keeps its shape: the same channel count AND stride 1; in "
        "every other case a learned 1×1 projection carrying the stride brings x to the main path's shape",
        "nn.Identity() if stride == 1 and in_channels == out_channels else nn.Sequential(nn.Conv2d(in_channels, "
        "out_channels, 1, stride=stride, bias=False), nn.BatchNorm2d(out_channels))",
    ),
    "ex05_fc_weight_to_conv": (
        "in which order did nn.Flatten lay out the (C, K, K) map? The conv kernel must use the same order",
        "a row-major flatten of (C, K, K) is undone by a reshape to (C, K, K) with the same axis order; a "
        "channels-last order would need a permute",
        "weight.reshape(out_features, in_channels, kernel_size, kernel_size) (a new tensor; do not change weight)",
    ),
    "ex05_score_map_coverage": (
        "draw one axis of the image as a line of `height` pixels and lay the windows on it: where does the first one "
        "start, how far apart are their starts, and where does the last one that still fits end?",
        "count the whole steps of `stride` that fit in what is left after the first window, plus that first "
        "window; the last window then ends at its start plus `window`, and every row after it is in no window "
        "(do the same for the columns)",
        "H_out = (height − window) // stride + 1; rows left = height − (stride·(H_out − 1) + window), which is "
        "(height − window) % stride; the same for the width",
    ),
    "ex05_receptive_field": (
        "walk the layers from the input and keep three numbers: how wide one cell's view is, how far apart "
        "neighbouring cells are (in input pixels), and where the first cell's view starts",
        "a K×K layer widens the view by K − 1 of ITS input's cells, and each of those cells is `jump` input pixels "
        "apart; its stride then multiplies the jump for the layers after it; its padding moves the start outward",
        "start from (field, jump, start) = (1, 1, 0); per layer: start −= padding·jump; field += (K − 1)·jump; "
        "jump *= stride",
    ),
    "ex05_keras_fc_to_conv": (
        "write the flat index of (c, h, w) in each order: PyTorch's (C, H, W) and the channels-last (H, W, C); "
        "the buggy line assumes the first",
        "undo the channels-last flatten first (a reshape to the axes in the order they were flattened), then move "
        "the channel axis to where PyTorch's conv weight has it",
        "weight.reshape(out_features, kernel_size, kernel_size, in_channels).permute(0, 3, 1, 2)",
    ),
    "ex06_grouped_conv_cost": (
        "what does one kernel of a grouped conv see: all the input channels, or some of them?",
        "each of the C_out kernels covers C_in / groups input channels; check that groups divides both channel counts "
        "before counting, and raise ValueError naming the values otherwise",
        "weights = C_out·(C_in // groups)·K²; params = weights (+ C_out if bias); MACs = size²·weights",
    ),
    "ex06_depthwise_separable": (
        "which of the two convs mixes channels, and which one filters each channel alone?",
        "the depthwise conv keeps in_channels and gives every channel its own K×K filter (groups = in_channels), "
        "with padding that keeps H and W; then a 1×1 conv maps to out_channels",
        "self.depthwise = nn.Conv2d(C_in, C_in, K, padding=K // 2, groups=C_in, bias=False); "
        "self.pointwise = nn.Conv2d(C_in, C_out, 1, bias=False); forward: pointwise(depthwise(x))",
    ),
    "ex06_separable_cost_ratio": (
        "write both designs' MACs per output pixel; the map size cancels",
        "depthwise costs M·K² per pixel, pointwise M·N, the standard conv M·N·K²; divide (a true division: // gives "
        "0 for every useful case)",
        "ratio = (M·K² + M·N) / (M·N·K²) = 1/N + 1/K², with N = out_channels",
    ),
    "ex06_channel_shuffle": (
        "write the channel order for C = 6 and groups = 2 by hand: [0 1 2 | 3 4 5] must become [0 3 1 4 2 5]",
        "view the channel axis as a grid with `groups` rows, transpose the grid, flatten it back; batch and space "
        "are untouched",
        "x.reshape(N, groups, C // groups, H, W).transpose(1, 2).reshape(N, C, H, W)",
    ),
    "ex06_kernel_depth_bug": (
        "evaluate the buggy count and nn.Conv2d's own count (the sum of its parameters' numel) on the lesson's "
        "12 → 24 example with groups=3, then on 96 → 96: where do they differ, and where not?",
        "each kernel of a grouped conv reads only its group's input channels, so its depth is in_channels / groups, "
        "whatever out_channels is; the buggy depth out_channels / groups equals it exactly when the widths are "
        "equal, so a test that catches it needs c_in ≠ c_out, both divisible by groups",
        "params = out_channels·(in_channels // groups)·K² (+ out_channels if bias); a test case such as "
        "(groups, 2·groups)",
    ),
    "ex07_lateral_merge": (
        "the two maps differ in channels AND in size: which operation fixes each?",
        "the 1×1 lateral conv brings the fine map to the pyramid's channels; upsampling brings the coarse map to the "
        "fine map's exact (H, W) (odd sizes too); then add",
        "lateral_conv(fine) + F.interpolate(coarse, size=fine.shape[-2:], mode='nearest')",
    ),
    "ex07_top_down": (
        "which level can be computed first without any other: the finest or the coarsest?",
        "start from the coarsest level's lateral and walk towards the finer ones, each time adding the upsampled "
        "MERGED map of the level above; return the list fine → coarse, and do not reorder the inputs in place",
        "merged[-1] = laterals[-1](features[-1]); merged[i] = laterals[i](features[i]) + "
        "F.interpolate(merged[i + 1], size=features[i].shape[-2:], mode='nearest')",
    ),
    "ex07_heaviest_lateral": (
        "lesson 07 found each ResNet-50 lateral costing half the one below it: which two numbers made that so, and "
        "do they still hold for these widths?",
        "a lateral's MACs grow with its input channels AND with its map's area; work out each level's map from the "
        "image (ceil(H / stride), ceil(W / stride)), cost every level, then pick the largest (the first on a tie) "
        "and divide by the total",
        "macs_i = ceil(H / s_i) · ceil(W / s_i) · C_i · out_channels; level = the first i with the largest macs_i; "
        "share = macs_level / sum(macs_i)",
    ),
    "ex08_batch_to_be_compute_bound": (
        "write the layer's FLOPs and its bytes as functions of the batch size N: which of its three tensors does "
        "not grow with N?",
        "the input and the output grow with N, the weights are read once per batch; so the intensity rises with N, "
        "but only towards a limit: each pixel's FLOPs over the bytes of its own input and output. If that limit is "
        "below the ridge, no batch will do (None); otherwise find the first N whose intensity reaches the ridge "
        "(a loop over N, or solve the inequality for N)",
        "intensity(N) = 2·N·H·W·C_in·C_out / (4·(N·H·W·(C_in + C_out) + C_in·C_out)); ridge = peak_gflops / "
        "bandwidth_gbs; limit = C_in·C_out / (2·(C_in + C_out)); if limit ≤ ridge: None (equal: no finite N), else "
        "N = max(1, ceil(2·ridge·C_in·C_out / (H·W·(C_in·C_out − 2·ridge·(C_in + C_out)))))",
    ),
    "ex08_roofline": (
        "a roofline has two roofs: which one is lower at this intensity?",
        "the memory roof rises with intensity (bandwidth × intensity), the compute roof is flat; the attainable "
        "rate is the lower one; exactly at the ridge counts as compute-bound",
        "memory = bandwidth_gbs · intensity; {'attainable': min(peak_gflops, memory), "
        "'bound': 'memory' if memory < peak_gflops else 'compute'}",
    ),
    "ex08_predict_speedup": (
        "count first (the MAC ratio), then ask for each regime what sets the time: the MACs, the bytes moved, or the "
        "fixed cost of every call",
        "the MAC ratio is 9·C_out / (9 + C_out), whatever C_in, size and batch; tiny layers (well under a million "
        "MACs) are dominated by the fixed cost of each call (the separable design makes two); otherwise the depthwise "
        "part moves about as many bytes as the 1×1 conv with C_out times fewer FLOPs: memory-bound. Compared with the "
        "1×1 conv's compute time it costs about 4·ridge / C_out (ridge ≈ 10–20 FLOPs per byte, lesson 08 section 2)",
        "ratio = 9 * out / (9 + out); if 9 * N * S² * in * out < 1e6: {'faster': 'standard', 'speedup': 'well below'}; "
        "else kept = 1 / (1 + 4 * RIDGE / out): 'close' if kept >= 0.6 else 'well below', 'faster': 'separable'",
    ),
    "ex09_build_at_budget": (
        "the members of a family differ only in width: which widths are allowed, and which way do the MACs move "
        "as the width grows?",
        "the MACs grow with the width, so walk the allowed widths from the narrowest up, count each member's MACs "
        "for ONE image, and stop at the first one over the budget; the answer is the last one that fitted",
        "width = 8, 12, 16, …: model = families.build(family, width, in_channels, 10, stem_stride, stem_pool); keep it "
        "while profile(model, (1, in_channels, image_size, image_size)).total_macs <= mac_budget; None if 8 is over",
    ),
    "ex09_pareto_front": (
        "a row leaves the front only when another row beats it: what does 'beats' mean with two criteria?",
        "compare each row with every other row: it is dominated when one is no dearer AND no less accurate AND "
        "strictly better in at least one of the two; identical rows do not dominate each other; keep the table's order",
        "[r['name'] for r in rows if not any(o['macs'] <= r['macs'] and o['accuracy'] >= r['accuracy'] and "
        "(o['macs'] < r['macs'] or o['accuracy'] > r['accuracy']) for o in rows)]",
    ),
    "ex09_predict_accuracy_per_mac": (
        "accuracy per MAC is a quotient: between the two designs, which differs by the larger factor on digits, "
        "the accuracy or the MACs?",
        "on digits every family reaches about the same test accuracy (a few points apart, lesson 09 section 5) while "
        "the MACs differ several-fold: the accuracy ratio is close to 1, so the MAC ratio decides",
        "winner = the design with fewer MACs; ratio = max(macs_a, macs_b) / min(macs_a, macs_b)",
    ),
    "ex10_inverted_residual": (
        "three stages: widen, filter each channel on its own, narrow again; then ask when x may be added",
        "hidden = round(in · expand_ratio); 1×1 expand + BN + ReLU6 (left out when expand_ratio is 1); 3×3 depthwise "
        "(groups = hidden, the block's stride) + BN + ReLU6; 1×1 project + BN with NO activation; register them in "
        "the order they run",
        "body = nn.Sequential(Conv2d(in, hidden, 1, bias=False), BatchNorm2d(hidden), ReLU6(), Conv2d(hidden, hidden, "
        "3, stride, 1, groups=hidden, bias=False), BatchNorm2d(hidden), ReLU6(), Conv2d(hidden, out, 1, bias=False), "
        "BatchNorm2d(out)); forward: x + body(x) if stride == 1 and in == out else body(x)",
    ),
    "ex10_squeeze_excitation": (
        "the block turns the whole map into ONE weight per channel, then rescales: what shape has that weight?",
        "squeeze: the mean over H and W, (N, C, 1, 1); excite: C → C/r → C with biases, ReLU between and a sigmoid "
        "at the end; multiply x by it; the count is two weight matrices plus two bias vectors; check r divides C first",
        "s = x.mean(dim=(2, 3), keepdim=True); return x * sigmoid(fc2(relu(fc1(s)))); "
        "param_count = 2·C·(C // r) + C // r + C",
    ),
    "ex10_pointwise_backward": (
        "per image a 1×1 conv is the matrix product Y = W·X + b with X of shape (C_in, H·W): what are the gradients "
        "of a matrix product?",
        "dX = Wᵀ·dY for each image; dW adds dY·Xᵀ over the images; db adds dY over the images and the pixels; "
        "reshape to (N, C, H·W) first and back to the input's shape at the end",
        "X = x.reshape(N, C_in, -1); dY = grad_out.reshape(N, C_out, -1); grad_x = (w.T @ dY).reshape(x.shape); "
        "grad_w = np.einsum('nop,nip->oi', dY, X); grad_b = dY.sum(axis=(0, 2))",
    ),
}

DIFFICULTY: dict[str, int] = {
    "ex00_conv_output_shape": 1,
    "ex00_conv_cost": 1,
    "ex00_conv2d": 2,
    "ex01_reshape_bug": 2,
    "ex01_linear_to_conv1x1": 2,
    "ex01_pointwise_vs_dense": 1,
    "ex02_channel_pca": 2,
    "ex02_pca_encoder": 3,
    "ex02_signal_kept": 3,
    "ex03_inception_params": 1,
    "ex03_inception_module": 2,
    "ex03_break_even_reduce": 3,
    "ex03_inception_macs": 3,
    "ex04_bottleneck_macs": 2,
    "ex04_bottleneck_block": 3,
    "ex04_shortcut_bug": 2,
    "ex05_fc_weight_to_conv": 2,
    "ex05_score_map_coverage": 1,
    "ex05_receptive_field": 2,
    "ex05_keras_fc_to_conv": 3,
    "ex06_grouped_conv_cost": 2,
    "ex06_depthwise_separable": 2,
    "ex06_separable_cost_ratio": 1,
    "ex06_channel_shuffle": 2,
    "ex06_kernel_depth_bug": 3,
    "ex07_lateral_merge": 2,
    "ex07_top_down": 3,
    "ex07_heaviest_lateral": 2,
    "ex08_batch_to_be_compute_bound": 2,
    "ex08_roofline": 1,
    "ex08_predict_speedup": 3,
    "ex09_build_at_budget": 2,
    "ex09_pareto_front": 2,
    "ex09_predict_accuracy_per_mac": 3,
    "ex10_inverted_residual": 3,
    "ex10_squeeze_excitation": 2,
    "ex10_pointwise_backward": 3,
}
