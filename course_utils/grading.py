"""Classroom grading: ``python -m course_utils grade PATH... --out gradebook.csv [--timeout S] [--jobs N]``.

What the grader guarantees (and where the usual autograders fall short)
-----------------------------------------------------------------------
* **Submissions are read-only.** Each file is read once into memory and copied into a fresh temporary
  directory; the kernel runs with that directory as its working directory.
* **A fresh kernel per submission**, per-cell timeouts, errors allowed, and a cap on stored output, so a
  submission that raises, loops forever, prints megabytes, deletes files or kills its kernel is graded
  ("timed out in cell 4", "kernel died in cell 6") and never stops the batch. A dead or hung kernel is
  restarted and the notebook replayed without the offending cell, so the other exercises still count.
* **Hidden cases drawn at grade time** (a fresh seed per submission, in the grader's own process). The
  inputs are sent into the still-running kernel, which applies the learner's function/class with a
  self-contained adapter and writes the returned values to a file with an unguessable name; the grader reads
  them back with ``torch.load(weights_only=True)`` (nothing is ever unpickled) and computes the verdict
  with its own reference code. Nothing the submission prints is trusted, so redefining or monkeypatching
  the checkers in the notebook, or printing a fake "✅", gains nothing.
* **The package stays intact.** The kernel imports ``course_utils`` from a private copy (hashed before and
  after: an edited copy scores zero); the installed package is hashed too, restored from a snapshot if it
  changed, and the submission responsible (found by re-grading suspects one at a time) scores zero.
* **Parallel**: ``--jobs N`` grades N submissions at once, each in its own process and kernel.

Scoring: an exercise earns ``points × (hidden cases passed / hidden cases)``. Visible cases guide the learner
but do not score: they are printed in the notebook, so they could be hard-coded.

Output: one CSV row per submission (points per exercise, total, max, reasons) and one Markdown feedback
file per submission in ``<gradebook>.feedback/``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import secrets
import subprocess
import tempfile
import time
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import nbformat

__all__ = [
    "ExerciseResult",
    "SubmissionResult",
    "find_submissions",
    "grade_submission",
    "grade",
    "write_gradebook",
    "write_feedback",
    "snapshot_tree",
    "hash_tree",
    "restore_tree",
]

DEFAULT_TIMEOUT = 60
DEFAULT_OUTPUT_CAP = 2_000_000  # bytes of stored cell output per submission
RESULT_FILE_CAP = 64_000_000  # bytes: a results file larger than this is refused unread
_MAX_RESTARTS = 3
_START_ATTEMPTS = 3
_INSTALLED_REASON = "modified the installed course_utils package (restored from a snapshot); scored zero"


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
@dataclass
class ExerciseResult:
    name: str
    points: float
    max_points: float
    reason: str = ""  # empty when full marks
    feedback: str = ""  # the verdict text for the learner


@dataclass
class SubmissionResult:
    name: str
    path: str
    lesson: str = ""
    exercises: list[ExerciseResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # execution events: errors, timeouts, deaths
    error: str = ""  # whole-submission failure (invalid notebook, package edited, ...)
    installed_changed: bool = False
    started: float = 0.0  # wall-clock window of the run (time.time()), to find who ran alongside whom
    finished: float = 0.0

    @property
    def total(self) -> float:
        return round(sum(e.points for e in self.exercises), 2)

    @property
    def max_points(self) -> float:
        return round(sum(e.max_points for e in self.exercises), 2)

    def zero_all(self, reason: str) -> None:
        self.error = reason
        for e in self.exercises:
            e.points, e.reason = 0.0, reason


# ---------------------------------------------------------------------------------------------
# Package snapshots
# ---------------------------------------------------------------------------------------------
def _tree_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def snapshot_tree(root: str | Path) -> dict[str, bytes]:
    """Every file under ``root`` (``__pycache__`` excluded) by relative path."""
    root = Path(root)
    snapshot = {}
    for p in _tree_files(root):
        try:
            snapshot[p.relative_to(root).as_posix()] = p.read_bytes()
        except OSError:  # removed or made unreadable while we walked: it counts as missing
            continue
    return snapshot


def hash_tree(root: str | Path) -> str:
    """SHA-256 over the relative paths and contents of the files under ``root`` (``__pycache__`` excluded)."""
    return _hash_snapshot(snapshot_tree(root))


def _hash_snapshot(snapshot: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for rel in sorted(snapshot):
        digest.update(rel.encode() + b"\0" + snapshot[rel] + b"\0")
    return digest.hexdigest()


def restore_tree(root: str | Path, snapshot: dict[str, bytes]) -> None:
    """Make ``root`` hold exactly the snapshot's files again (extra files removed, changed files rewritten)."""
    root = Path(root)
    for p in _tree_files(root):
        if p.relative_to(root).as_posix() not in snapshot:
            p.unlink()
    for rel, data in snapshot.items():
        target = root / rel
        if not target.is_file() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def _package_dir() -> Path:
    import course_utils

    return Path(course_utils.__file__).resolve().parent


# ---------------------------------------------------------------------------------------------
# Finding submissions and their lesson
# ---------------------------------------------------------------------------------------------
def find_submissions(paths: Iterable[str | Path]) -> list[tuple[str, Path]]:
    """``(name, path)`` for every ``.ipynb`` given or found (recursively) under a given folder."""
    found: list[tuple[str, Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for nb in sorted(path.rglob("*.ipynb")):
                if ".ipynb_checkpoints" in nb.parts:
                    continue
                relative = nb.relative_to(path)
                if len(relative.parts) == 1:  # `grade alice/ bob/`: the folder names the student
                    relative = Path(path.resolve().name) / relative
                found.append((relative.with_suffix("").as_posix().replace("/", "__"), nb))
        elif path.exists():
            found.append((path.stem, path))
        else:
            raise FileNotFoundError(f"submission path {path} does not exist")
    counts: dict[str, int] = {}
    for name, _ in found:
        counts[name] = counts.get(name, 0) + 1
    unique: list[tuple[str, Path]] = []
    seen: set[str] = set()
    for name, path in found:
        if counts[name] > 1:  # the same file name from several folders: prefix the folder
            name = f"{path.parent.resolve().name}__{name}"
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}-{n}"
        seen.add(candidate)
        unique.append((candidate, path))
    return unique


def _lesson_of(name: str, text: str) -> str:
    match = re.search(r"(?<!\d)(\d\d)_[A-Za-z]", Path(name).name)
    if match:
        return match.group(1)
    found = sorted(set(re.findall(r"checks\.ex(\d\d)_", text)))
    return found[0] if len(found) == 1 else ""


# ---------------------------------------------------------------------------------------------
# Running one submission's kernel
# ---------------------------------------------------------------------------------------------
def _make_client_class():
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        """NotebookClient that stops storing outputs once ``cap`` bytes have been received."""

        def output(self, outs, msg, display_id, cell_index):  # type: ignore[override]
            size = len(json.dumps(msg.get("content", {}), default=str))
            self._received = getattr(self, "_received", 0) + size
            if self._received > self._cap:
                if not getattr(self, "_capped", False):
                    self._capped = True
                    outs.append(
                        nbformat.v4.new_output(
                            "stream", name="stderr", text=f"[grader: output beyond {self._cap:,} bytes dropped]\n"
                        )
                    )
                return None
            return super().output(outs, msg, display_id, cell_index)

    return CappedClient


class _Kernel:
    """A kernel running one submission's cells, restartable (replaying the cells that did not misbehave)."""

    def __init__(self, nb: nbformat.NotebookNode, workdir: Path, env: dict[str, str], timeout: int, output_cap: int):
        self.nb = nb
        self.workdir = workdir
        self.env = env
        self.timeout = timeout
        self.client = _make_client_class()(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            record_timing=False,
            startup_timeout=120,
            resources={"metadata": {"path": str(workdir)}},
        )
        self.client._cap = output_cap
        self.bad_cells: set[int] = set()
        self.done: list[int] = []
        self.notes: list[str] = []
        self.restarts = 0
        self.alive = False

    # -- lifecycle --
    def start(self) -> None:
        """Start a fresh kernel. Nothing of the submission has run yet, so a failure here is the machine's
        (e.g. two kernels starting at once racing for ports): retry a few times before giving up."""
        for attempt in range(_START_ATTEMPTS):
            try:
                self.client.create_kernel_manager()
                self.client.start_new_kernel(
                    env=self.env, cwd=str(self.workdir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                self.client.start_new_kernel_client()
                self.alive = True
                return
            except Exception:
                self.stop()
                if attempt == _START_ATTEMPTS - 1:
                    raise
                time.sleep(1 + attempt)

    def stop(self) -> None:
        try:
            if self.client.km is not None:
                self.client.shutdown_kernel = "immediate"
                self.client._cleanup_kernel()
        except Exception:  # noqa: S110 - shutting down a kernel that may already be dead; nothing to report
            pass
        self.alive = False

    def _restart_and_replay(self) -> bool:
        """Fresh kernel, re-running the cells that ran fine so far; False when out of restarts."""
        self.stop()
        if self.restarts >= _MAX_RESTARTS:
            return False
        self.restarts += 1
        self.start()
        for index in list(self.done):
            if self._execute(index, replay=True) != "ok":
                self.done.remove(index)
                return self._restart_and_replay()
        return True

    # -- execution --
    def _execute(self, index: int, replay: bool = False) -> str:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        cell = self.nb.cells[index]
        try:
            self.client.execute_cell(cell, index, store_history=False)
        except CellTimeoutError:
            self.bad_cells.add(index)
            if not replay:
                self.notes.append(f"timed out in cell {index + 1} ({self.timeout} s limit)")
            return "timeout"
        except DeadKernelError:
            self.bad_cells.add(index)
            if not replay:
                self.notes.append(f"kernel died in cell {index + 1}")
            return "dead"
        return "ok"

    def _run_extra_cell(self, source: str, timeout: int) -> None:
        """Execute grader code as a temporary last cell with its own timeout (nbclient's errors propagate)."""
        cell = nbformat.v4.new_code_cell(source)
        self.nb.cells.append(cell)
        saved = self.client.timeout
        self.client.timeout = timeout
        try:
            self.client.execute_cell(cell, len(self.nb.cells) - 1, store_history=False)
        finally:
            self.client.timeout = saved
            if self.nb.cells and self.nb.cells[-1] is cell:
                self.nb.cells.pop()

    def _recover_after_timeout(self) -> bool:
        """Interrupt the kernel; if it does not answer a trivial cell promptly, restart it."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
        from nbclient.util import run_sync

        try:
            run_sync(self.client.km.interrupt_kernel)()
            self._run_extra_cell("pass", timeout=10)
            return True
        except (CellTimeoutError, DeadKernelError, RuntimeError):
            return self._restart_and_replay()

    def run_notebook(self) -> None:
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            status = self._execute(index)
            if status == "ok":
                self.done.append(index)
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "error":
                        self.notes.append(f"cell {index + 1} raised {out.get('ename')}: {str(out.get('evalue'))[:200]}")
                continue
            recovered = self._recover_after_timeout() if status == "timeout" else self._restart_and_replay()
            if not recovered:
                self.notes.append(f"gave up after {self.restarts} kernel restarts: cells from {index + 2} on not run")
                return

    def run_code(self, source: str, timeout: int) -> str:
        """Execute grader code in the kernel: 'ok', 'timeout', 'dead' (the kernel is then restarted) or 'gone'
        (no kernel left: the notebook was given up on)."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if not self.alive:
            return "gone"
        try:
            self._run_extra_cell(source, timeout)
            return "ok"
        except CellTimeoutError:
            self._recover_after_timeout()
            return "timeout"
        except DeadKernelError:
            self._restart_and_replay()
            return "dead"


# ---------------------------------------------------------------------------------------------
# Grading one submission
# ---------------------------------------------------------------------------------------------
def _kernel_snippet(adapter: str, target: str, in_path: Path, out_path: Path) -> str:
    from .checks._framework import CODEC_SOURCE

    code = CODEC_SOURCE + "\n" + adapter
    return (
        "def __course_utils_grade():\n"
        "    ns = {}\n"
        f"    exec(compile({code!r}, '<grader>', 'exec'), ns)\n"
        f"    ns['grade_io'](ns['adapter'], globals().get({target!r}), {str(in_path)!r}, {str(out_path)!r})\n"
        "__course_utils_grade()\n"
        "del __course_utils_grade\n"
    )


def _read_results(out_path: Path, n_cases: int) -> tuple[list[dict[str, Any]] | None, str]:
    import torch

    from .checks._framework import decode

    if not out_path.is_file():
        return None, "no results came back from the kernel"
    if out_path.stat().st_size > RESULT_FILE_CAP:
        return None, "the returned values are too large"
    try:
        payload = torch.load(out_path, weights_only=True, map_location="cpu")
    except Exception as err:
        return None, f"the returned values could not be read ({type(err).__name__})"
    if isinstance(payload, dict) and payload.get("missing") is True:
        return None, "missing"
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, list) or len(results) != n_cases:
        return None, "malformed results"
    clean = []
    for r in results:
        if isinstance(r, dict) and "value" in r:
            clean.append({"value": decode(r["value"])})
        elif isinstance(r, dict) and "error" in r:
            clean.append({"error": str(r["error"])[:300], "not_implemented": r.get("not_implemented") is True})
        else:
            return None, "malformed results"
    return clean, ""


def grade_submission(
    name: str,
    path: str | Path,
    *,
    timeout: int = DEFAULT_TIMEOUT,
    seed: int | None = None,
    output_cap: int = DEFAULT_OUTPUT_CAP,
    package_snapshot: dict[str, bytes] | None = None,
    installed_dir: str | Path | None = None,
) -> SubmissionResult:
    """Grade one submitted notebook in a fresh kernel on a temporary copy (see the module docstring)."""
    import torch

    from . import checks
    from .checks._framework import encode, judge_all

    path = Path(path)
    installed = Path(installed_dir) if installed_dir else _package_dir()
    snapshot = package_snapshot if package_snapshot is not None else snapshot_tree(installed)
    installed_before = hash_tree(installed)
    result = SubmissionResult(name=name, path=str(path), started=time.time())
    try:
        raw = path.read_bytes()
    except OSError as err:
        result.error = f"could not read the submission: {err}"
        return result
    text = raw.decode("utf-8", errors="replace")
    result.lesson = _lesson_of(path.name, text)
    exercises = checks.exercises_for_lesson(result.lesson) if result.lesson else []
    result.exercises = [ExerciseResult(e.name, 0.0, float(e.points)) for e in exercises]
    if not exercises:
        result.error = "cannot tell which lesson this is (name it NN_topic.ipynb as handed out)"
        return result
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except Exception as err:
        result.zero_all(f"not a valid notebook: {str(err).splitlines()[0][:160] if str(err) else type(err).__name__}")
        return result

    rng_seed = seed if seed is not None else secrets.randbits(63)
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        tmp_path = Path(tmp)
        work, pkg, io_dir = tmp_path / "work", tmp_path / "pkg" / "course_utils", tmp_path / secrets.token_hex(8)
        work.mkdir()
        io_dir.mkdir()
        (work / path.name).write_bytes(raw)
        restore_tree(pkg, snapshot)
        copy_hash = _hash_snapshot(snapshot)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(pkg.parent), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLBACKEND": "Agg",
        }
        kernel = _Kernel(nb, work, env, timeout, output_cap)
        try:
            kernel.start()
            kernel.run_notebook()
            for exercise, res in zip(exercises, result.exercises, strict=False):
                cases = exercise.cases(seed=(rng_seed + zlib.crc32(exercise.name.encode())) % (2**63))
                in_path = io_dir / f"{secrets.token_hex(16)}.pt"
                out_path = io_dir / f"{secrets.token_hex(16)}.pt"
                torch.save([encode(c.data) for c in cases], in_path)
                status = kernel.run_code(_kernel_snippet(exercise.adapter, exercise.target, in_path, out_path), timeout)
                context = f": {'; '.join(kernel.notes[:2])}" if kernel.notes else ""
                if status != "ok":
                    res.reason = {
                        "timeout": "timed out on the grading cases",
                        "dead": "the kernel died while running your code on the grading cases",
                    }.get(status, f"not graded: {kernel.notes[-1] if kernel.notes else 'no kernel'}")
                    continue
                results, problem = _read_results(out_path, len(cases))
                if results is None:
                    res.reason = f"`{exercise.target}` is not defined{context}" if problem == "missing" else problem
                    continue
                verdict = judge_all(exercise, cases, results)
                res.points = round(exercise.points * verdict.hidden_fraction, 2)
                res.feedback = verdict.text
                if verdict.status == "not_attempted":  # a stub is never run on the hidden cases
                    res.reason = "not attempted"
                    continue
                hidden_passed = round(verdict.hidden_fraction * verdict.hidden_total)
                res.feedback += f"\n(scored on the hidden cases: {hidden_passed} of {verdict.hidden_total} pass)"
                if verdict.status == "fail":
                    case, failure = verdict.failures[0]
                    kind = "hidden" if case.hidden else "visible"
                    res.reason = f"{kind} case '{case.label}' failed: {failure.what}"
        except Exception as err:  # the grader must survive anything a submission does
            result.notes.append(f"grading stopped: {type(err).__name__}: {err}")
            for res in result.exercises:
                if res.points == 0 and not res.reason:
                    res.reason = f"not graded ({type(err).__name__}: {err}); re-grade this submission"
        finally:
            kernel.stop()
        result.notes = kernel.notes + result.notes
        if not pkg.is_dir() or hash_tree(pkg) != copy_hash:
            result.zero_all("modified the course_utils package (its copy was restored); scored zero")
    installed_after = hash_tree(installed)
    # Changed while this ran and not (by then) restored: a grader restoring another's change is not a suspect.
    if installed_after != installed_before and installed_after != _hash_snapshot(snapshot):
        result.installed_changed = True
    result.finished = time.time()
    return result


# ---------------------------------------------------------------------------------------------
# A batch
# ---------------------------------------------------------------------------------------------
def _quiet_asyncio() -> None:
    # nbclient leaves an output-polling task behind after a timed-out cell; asyncio would print its Empty()
    import logging

    logging.getLogger("asyncio").setLevel(logging.CRITICAL)


def _job(args: tuple) -> SubmissionResult:
    name, path, kwargs = args
    _quiet_asyncio()
    return grade_submission(name, path, **kwargs)


def grade(
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    timeout: int = DEFAULT_TIMEOUT,
    jobs: int = 1,
    seed: int | None = None,
    output_cap: int = DEFAULT_OUTPUT_CAP,
    installed_dir: str | Path | None = None,
    log: Any = print,
) -> list[SubmissionResult]:
    """Grade every submission under ``paths``; write the CSV gradebook ``out`` and the feedback folder."""
    _quiet_asyncio()
    submissions = find_submissions(paths)
    installed = Path(installed_dir) if installed_dir else _package_dir()
    snapshot = snapshot_tree(installed)
    kwargs = dict(timeout=timeout, seed=seed, output_cap=output_cap, package_snapshot=snapshot, installed_dir=installed)
    results: dict[str, SubmissionResult] = {}

    def record(res: SubmissionResult) -> None:
        results[res.name] = res
        if res.installed_changed:  # restore at once, so submissions that start later see the intact package
            restore_tree(installed, snapshot)
        try:
            log(f"graded {res.name}: {res.total:g}/{res.max_points:g}" + (f" ({res.error})" if res.error else ""))
        except OSError:  # e.g. stdout piped into a closed reader: grading goes on
            pass

    def grade_alone(name: str, path: Path) -> SubmissionResult:
        """Grade with nothing else running: a change of the installed package is then this submission's."""
        res = grade_submission(name, path, **kwargs)
        if res.installed_changed:
            restore_tree(installed, snapshot)
            res.zero_all(_INSTALLED_REASON)
            res.installed_changed = False
        return res

    suspects: set[str] = set()
    if jobs <= 1 or len(submissions) <= 1:
        for name, path in submissions:
            record(grade_alone(name, path))
    else:
        todo, attempts = list(submissions), {name: 0 for name, _ in submissions}
        while todo:
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"))
            futures = {pool.submit(_job, (name, str(path), kwargs)): (name, path) for name, path in todo}
            todo = []
            for future in as_completed(futures):
                name, path = futures[future]
                try:
                    res = future.result()
                except Exception as err:  # the worker process died: retry once in a fresh pool
                    attempts[name] += 1
                    if attempts[name] < 2:
                        todo.append((name, path))
                    else:
                        record(
                            SubmissionResult(name, str(path), error=f"the grading process died ({type(err).__name__})")
                        )
                    continue
                record(res)
            pool.shutdown(wait=True, cancel_futures=True)
        # The package changed while a flagged submission ran: whoever changed it ran at the same time (the culprit
        # may itself have ended after the restore, seeing an intact package), so every overlapping run is a suspect.
        for flagged in [r for r in results.values() if r.installed_changed]:
            suspects.update(
                r.name for r in results.values() if r.started <= flagged.finished and r.finished >= flagged.started
            )
    # Re-grade the suspects one at a time: alone, a change of the installed package is attributable.
    if suspects or hash_tree(installed) != _hash_snapshot(snapshot):
        restore_tree(installed, snapshot)
        for name, path in submissions:
            if name in suspects:
                record(grade_alone(name, path))
    ordered = [results[name] for name, _ in submissions]
    write_gradebook(ordered, out)
    write_feedback(ordered, feedback_dir(out))
    return ordered


def feedback_dir(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.stem + ".feedback")


def write_gradebook(results: Sequence[SubmissionResult], out: str | Path) -> None:
    """CSV: submission, lesson, one column per exercise (points), total, max, reasons."""
    names: list[str] = []
    for r in results:
        for e in r.exercises:
            if e.name not in names:
                names.append(e.name)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
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


def write_feedback(results: Sequence[SubmissionResult], folder: str | Path) -> None:
    """One Markdown file per submission: score, each exercise's verdict, what happened while running."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for r in results:
        lines = [
            f"# Feedback: {r.name}",
            "",
            f"**Score: {r.total:g} / {r.max_points:g}**" + (f" (lesson {r.lesson})" if r.lesson else ""),
            "",
        ]
        if r.error:
            lines += [f"> {r.error}", ""]
        for e in r.exercises:
            lines += [f"## {e.name}: {e.points:g} / {e.max_points:g}", ""]
            if e.feedback:
                lines += ["```", e.feedback, "```", ""]
            elif e.reason:
                lines += [e.reason, ""]
        if r.notes:
            lines += ["## While running your notebook", ""] + [f"- {n}" for n in r.notes] + [""]
        lines += ["Hidden cases were drawn fresh for this grading run; they are named by what they test.", ""]
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", r.name)
        (folder / f"{safe}.md").write_text("\n".join(lines), encoding="utf-8")
