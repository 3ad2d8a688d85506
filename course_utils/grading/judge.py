"""The grader's side of the hidden cases: the code sent into the kernel, and the bounded reading of what
comes back (never unpickled, size-capped before it is read, bounded in what it can make the grader allocate)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["kernel_snippet", "read_results", "RESULT_FILE_CAP", "MAX_NODES"]

RESULT_FILE_CAP = 64_000_000  # bytes: a results file larger than this is refused unread
MAX_NODES = 100_000  # containers and scalars in the returned values
MAX_ELEMENTS = 50_000_000  # tensor elements in the returned values (views of one storage count each time)


def kernel_snippet(adapter: str, target: str, in_path: Path, out_path: Path) -> str:
    from ..checks._framework import CODEC_SOURCE

    code = CODEC_SOURCE + "\n" + adapter
    return (
        "def __course_utils_grade():\n"
        "    ns = {}\n"
        f"    exec(compile({code!r}, '<grader>', 'exec'), ns)\n"
        f"    ns['grade_io'](ns['adapter'], globals().get({target!r}), {str(in_path)!r}, {str(out_path)!r})\n"
        "__course_utils_grade()\n"
        "del __course_utils_grade\n"
    )


def _within_bounds(value: Any) -> bool:
    """Walk the loaded structure iteratively: at most MAX_NODES nodes and MAX_ELEMENTS tensor elements."""
    import torch

    stack, nodes, elements = [value], 0, 0
    while stack:
        item = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            return False
        if isinstance(item, torch.Tensor):
            elements += item.numel()
            if elements > MAX_ELEMENTS:
                return False
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return True


def read_results(out_path: Path, n_cases: int) -> tuple[list[dict[str, Any]] | None, str]:
    import torch

    from ..checks._framework import decode

    if out_path.is_symlink() or not out_path.is_file():
        return None, "no results came back from the kernel"
    if out_path.stat().st_size > RESULT_FILE_CAP:
        return None, "the returned values are too large"
    try:
        payload = torch.load(out_path, weights_only=True, map_location="cpu", mmap=False)
    except Exception as err:
        return None, f"the returned values could not be read ({type(err).__name__})"
    if not _within_bounds(payload):
        return None, "the returned values are too large"
    if isinstance(payload, dict) and payload.get("missing") is True:
        return None, "missing"
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, list) or len(results) != n_cases:
        return None, "malformed results"
    clean = []
    try:
        for r in results:
            if isinstance(r, dict) and "value" in r:
                clean.append({"value": decode(r["value"])})
            elif isinstance(r, dict) and "error" in r:
                clean.append({"error": str(r["error"])[:300], "not_implemented": r.get("not_implemented") is True})
            else:
                return None, "malformed results"
    except RecursionError:
        return None, "the returned values are nested too deeply"
    return clean, ""
