"""Companion package of the course on 1×1 (pointwise) convolutions.

One module per idea: ``counting`` (costs), ``reference`` (NumPy convolutions), ``blocks`` and ``models``
(PyTorch building blocks and paper-sized networks), ``pca``, ``data``, ``viz``, ``bench``, ``checks``
(exercise feedback) and ``grading`` (classroom grading). Import the one you need:

    from course_utils import counting
    from course_utils.counting import conv_params
"""

__version__ = "0.1.0"
