"""The gradebook (CSV), one Markdown feedback file per submission, and the state ``--resume`` reads: every file
written atomically (a temporary file in the same folder, then ``os.replace``), after every graded submission."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .find import safe_file_name
from .results import SubmissionResult

__all__ = ["write_gradebook", "write_feedback", "feedback_dir", "state_path", "load_state", "save_state"]


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def feedback_dir(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.stem + ".feedback")


def state_path(out: str | Path) -> Path:
    """Where the full results of a batch are kept for ``--resume`` (beside the gradebook)."""
    out = Path(out)
    return out.with_name(f".{out.stem}.state.json")


def write_gradebook(results: Sequence[SubmissionResult], out: str | Path, header_note: str = "") -> None:
    """CSV: submission, lesson, one column per exercise (points), total, max, reasons. A ``header_note`` (the
    --no-sandbox warning) becomes a first line starting with ``#``."""
    names: list[str] = []
    for r in results:
        for e in r.exercises:
            if e.name not in names:
                names.append(e.name)
    buffer = io.StringIO()
    if header_note:
        buffer.write(f"# {header_note}\n")
    writer = csv.writer(buffer)
    writer.writerow(["submission", "lesson", *names, "total", "max", "reasons"])
    for r in results:
        points = {e.name: e.points for e in r.exercises}
        reasons = [r.error] if r.error else [f"{e.name}: {e.reason}" for e in r.exercises if e.reason]
        writer.writerow(
            [
                r.name,
                r.lesson,
                *[f"{points[n]:g}" if n in points else "" for n in names],
                f"{r.total:g}",
                f"{r.max_points:g}",
                " | ".join(reasons),
            ]
        )
    _atomic_write(Path(out), buffer.getvalue())


def feedback_text(r: SubmissionResult, header_note: str = "") -> str:
    lines = [f"# Feedback: {r.name}", ""]
    if header_note:
        lines += [f"> {header_note}", ""]
    lines += [f"**Score: {r.total:g} / {r.max_points:g}**" + (f" (lesson {r.lesson})" if r.lesson else ""), ""]
    if r.error:
        lines += [f"> {r.error}", ""]
    for e in r.exercises:
        lines += [f"## {e.name}: {e.points:g} / {e.max_points:g}", ""]
        if e.feedback:
            lines += ["```", e.feedback, "```", ""]
            if e.reason and e.reason not in e.feedback:
                lines += [e.reason, ""]
        elif e.reason:
            lines += [e.reason, ""]
    if r.notes:
        lines += ["## While running your notebook", ""] + [f"- {n}" for n in r.notes] + [""]
    lines += ["Hidden cases were drawn fresh for this grading run; they are named by what they test.", ""]
    return "\n".join(lines)


def write_feedback(results: Sequence[SubmissionResult], folder: str | Path, header_note: str = "") -> None:
    """One Markdown file per submission (``safe_file_name(name).md``): score, verdicts, what happened."""
    for r in results:
        _atomic_write(Path(folder) / f"{safe_file_name(r.name)}.md", feedback_text(r, header_note))


def save_state(results: Sequence[SubmissionResult], out: str | Path) -> None:
    _atomic_write(state_path(out), json.dumps([r.to_json() for r in results]))


def load_state(out: str | Path) -> dict[str, SubmissionResult]:
    """The results a previous (possibly killed) run of this gradebook kept, by submission name."""
    path = state_path(out)
    if not path.is_file():
        return {}
    try:
        return {d["name"]: SubmissionResult.from_json(d) for d in json.loads(path.read_text(encoding="utf-8"))}
    except (ValueError, KeyError, TypeError):
        return {}
