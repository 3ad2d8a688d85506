"""``python -m bench``: the course's stopwatch (run from the repository root, or ``make bench``).

Prints, for this machine, the GEMM ceiling, how close 1×1 convolutions (NumPy reference and PyTorch,
NCHW and channels_last) get to it, and how the NumPy reference ``conv2d`` and ``depthwise_conv2d``
compare with PyTorch. The helpers it uses live in ``course_utils.bench``.
"""
