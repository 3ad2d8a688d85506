"""Argument checks shared by the public functions: each names the argument, its value and what is allowed."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TypeAlias

IntPair: TypeAlias = int | Sequence[int]


def positive_int(name: str, value: object) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < 1:
        raise ValueError(f"{name}={value} must be a positive integer (>= 1)")
    return int(value)


def non_negative_int(name: str, value: object) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < 0:
        raise ValueError(f"{name}={value} must be a non-negative integer (>= 0)")
    return int(value)


def pair(name: str, value: object, *, allow_zero: bool = False) -> tuple[int, int]:
    """Normalise an int or a 2-sequence of ints (PyTorch style) to ``(h, w)``."""
    check = non_negative_int if allow_zero else positive_int
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"{name}={value!r} must be an int or a pair (h, w) of ints")
        return check(f"{name}[0]", value[0]), check(f"{name}[1]", value[1])
    v = check(name, value)
    return v, v


def divisible(channels_name: str, channels: int, groups: int) -> None:
    """Raise unless ``groups`` divides ``channels`` (the grouped-conv divisibility rule)."""
    if channels % groups:
        raise ValueError(f"groups={groups} must divide {channels_name}={channels}")


def integer(name: str, value: object) -> int:
    """Return ``value`` as an int (any integer, e.g. a seed), or raise TypeError for bools and non-integers."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    return int(value)


def flag(name: str, value: object) -> bool:
    """Return ``value`` if it is exactly True or False, else raise TypeError."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def positive_number(name: str, value: object) -> float:
    """Return ``value`` if it is a real number > 0 (not a bool), else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name}={value!r} must be a positive number")
    return value


def finite_number(name: str, value: object) -> float:
    """Return ``value`` if it is a finite real number (not a bool), else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name}={value!r} must be a finite number")
    return value
