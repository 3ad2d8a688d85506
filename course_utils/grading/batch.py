"""Grading one submission, and a batch that survives anything (see the package docstring)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import stat
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from types import FrameType
from typing import Any

import nbformat

from .build import build_grading_package
from .find import Refused, find_submissions, lesson_of, read_submission
from .gradebook import feedback_dir, load_state, save_state, write_feedback, write_gradebook
from .guard import hash_snapshot, hash_tree, package_dir, restore_tree, snapshot_tree
from .judge import kernel_snippet, read_results
from .kernel import Kernel, SandboxSpec
from .results import ExerciseResult, SubmissionResult
from .sandbox import Limits, ProcessCap, check_sandbox, is_running, remove_stale_process_caps

__all__ = [
    "grade_submission",
    "grade",
    "Terminated",
    "DEFAULT_TIMEOUT",
    "DEFAULT_BUDGET",
    "DEFAULT_OUTPUT_CAP",
    "NO_SANDBOX_WARNING",
    "WORK_ROOT_PREFIX",
    "remove_stale_work_roots",
]

DEFAULT_TIMEOUT = 60
DEFAULT_BUDGET = 600  # seconds of wall-clock time per submission, all cells and grading cases together
DEFAULT_OUTPUT_CAP = 2_000_000  # bytes of kernel messages per submission
NO_SANDBOX_WARNING = (
    "WARNING: graded with --no-sandbox: each submission ran with the grader's own rights (files, network, "
    "environment); only the package guard and the checks in the grader's process protected this gradebook"
)
_INSTALLED_REASON = "modified the installed course_utils package (restored from a snapshot); scored zero"


def _no_sandbox_env(pkg: Path) -> dict[str, str]:
    from ..families import SHARED_RUNS_ENV  # a folder of trainings one submission could write and the next read

    return {
        **{k: v for k, v in os.environ.items() if k != SHARED_RUNS_ENV},
        "PYTHONPATH": os.pathsep.join([str(pkg.parent), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
    }


def _score(
    kernel: Kernel, exercises: Sequence[Any], result: SubmissionResult, io_dir: Path, seed: int, timeout: int
) -> None:
    """Send each exercise's hidden cases into the kernel and judge what comes back, here."""
    import torch

    from ..checks._framework import encode, judge_all

    for exercise, res in zip(exercises, result.exercises, strict=False):
        cases = exercise.cases(seed=(seed + zlib.crc32(exercise.name.encode())) % (2**63))
        in_path = io_dir / f"{secrets.token_hex(16)}.pt"
        out_path = io_dir / f"{secrets.token_hex(16)}.pt"
        torch.save([encode(c.data) for c in cases], in_path)
        status = kernel.run_code(kernel_snippet(exercise.adapter, exercise.target, in_path, out_path), timeout)
        in_path.unlink(missing_ok=True)
        context = f": {'; '.join(kernel.notes[:2])}" if kernel.notes else ""
        if status != "ok":
            res.reason = {
                "timeout": "timed out on the grading cases",
                "dead": "the kernel died while running your code on the grading cases",
                "budget": f"not graded: over the time budget of {kernel.budget:g} s",
            }.get(status, f"not graded: {kernel.notes[-1] if kernel.notes else 'no kernel'}")
            continue
        results, problem = read_results(out_path, len(cases))
        out_path.unlink(missing_ok=True)
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


def grade_submission(
    name: str,
    path: str | Path,
    *,
    timeout: int = DEFAULT_TIMEOUT,
    budget: float = DEFAULT_BUDGET,
    seed: int | None = None,
    output_cap: int = DEFAULT_OUTPUT_CAP,
    sandbox: bool = True,
    grading_build: str | Path | None = None,
    limits: Limits | None = None,
    work_root: str | Path | None = None,
    package_snapshot: dict[str, bytes] | None = None,
    installed_dir: str | Path | None = None,
) -> SubmissionResult:
    """Grade one submitted notebook in a fresh (sandboxed) kernel; see the package docstring."""
    from .. import checks

    path = Path(path)
    result = SubmissionResult(name=name, path=str(path), started=time.time())
    try:
        raw = read_submission(path)
    except Refused as why:
        result.error = str(why)
        return result
    text = raw.decode("utf-8", errors="replace")
    result.lesson = lesson_of(path.name, text)
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
    installed = Path(installed_dir) if installed_dir else package_dir()
    tmp = Path(tempfile.mkdtemp(prefix="s-", dir=work_root))  # short: IPC socket paths stay under 108 bytes
    cap: ProcessCap | None = None
    try:
        io_dir = tmp / "io"
        io_dir.mkdir(mode=0o700)
        if sandbox:
            build = Path(grading_build) if grading_build else build_grading_package(installed, tmp / "build")
            limits = limits or Limits()
            cap = ProcessCap(limits.processes)
            spec: SandboxSpec | None = SandboxSpec(io_dir, build, limits, cap)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            workdir = io_dir
        else:
            snapshot = package_snapshot if package_snapshot is not None else snapshot_tree(installed)
            installed_before = hash_tree(installed)
            workdir, pkg = tmp / "work", tmp / "pkg" / "course_utils"
            workdir.mkdir()
            (workdir / path.name).write_bytes(raw)
            restore_tree(pkg, snapshot)
            copy_hash = hash_snapshot(snapshot)
            spec, env = None, _no_sandbox_env(pkg)
        kernel = Kernel(nb, workdir, env, timeout, output_cap, budget=budget, sandbox=spec)
        try:
            kernel.start()
            kernel.run_notebook()
            _score(kernel, exercises, result, io_dir, rng_seed, timeout)
        except Exception as err:  # the grader must survive anything a submission does
            result.notes.append(f"grading stopped: {type(err).__name__}: {str(err)[:300]}")
            for res in result.exercises:
                if res.points == 0 and not res.reason:
                    res.reason = f"not graded ({type(err).__name__}); re-grade this submission"
        finally:
            kernel.stop()
        result.notes = kernel.notes + result.notes
        if not sandbox:
            if not pkg.is_dir() or hash_tree(pkg) != copy_hash:
                result.zero_all("modified the course_utils package (its copy was restored); scored zero")
            installed_after = hash_tree(installed)
            if installed_after != installed_before and installed_after != hash_snapshot(snapshot):
                result.installed_changed = True
    finally:
        if cap is not None:
            cap.close()
        shutil.rmtree(tmp, ignore_errors=True)
    result.finished = time.time()
    return result


# ---------------------------------------------------------------------------------------------
# A batch
# ---------------------------------------------------------------------------------------------
def _quiet_asyncio() -> None:
    # nbclient leaves an output-polling task behind after a timed-out cell; asyncio would print its Empty()
    import logging

    logging.getLogger("asyncio").setLevel(logging.CRITICAL)


def _die_with_parent() -> None:
    """Linux: this worker gets SIGKILL when the grader dies, even by SIGKILL (its kernels then die with it)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent's clean-up still kills its workers
        pass


def _worker_init() -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it kills the workers)
    _quiet_asyncio()


def _job(args: tuple[str, str, dict[str, Any]]) -> SubmissionResult:
    name, path, kwargs = args
    return grade_submission(name, path, **kwargs)


class Terminated(BaseException):
    """SIGTERM, turned into an exception so that every ``finally`` (temp folders, workers) runs."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated(f"signal {signum}")


WORK_ROOT_PREFIX = "course-grade-"


def _work_root() -> Path:
    """The batch's temporary folder ``course-grade-<grader pid>-XXXX`` (hidden inputs live here; the grader removes
    it on any exit it survives, and the next batch removes it after a SIGKILL). Its path must be short: the
    kernel's IPC sockets are made inside it and a socket path has at most 107 bytes."""
    prefix = f"{WORK_ROOT_PREFIX}{os.getpid()}-"
    root = Path(tempfile.mkdtemp(prefix=prefix))
    if len(str(root)) > 80:  # + '/s-XXXXXXXX/io/k-NNNNN'
        root.rmdir()
        root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    return root


def remove_stale_work_roots() -> list[Path]:
    """Remove the temporary folders of graders that were killed with no chance to clean up (SIGKILL, power loss);
    return them. Only this user's real folders ``course-grade-<pid>-*`` whose grader ``pid`` is gone are removed:
    a live batch's folder is left alone, and a link or someone else's folder is never followed."""
    removed: list[Path] = []
    for parent in sorted({Path(tempfile.gettempdir()), Path("/tmp")}):  # noqa: S108 - where _work_root falls back
        for path in sorted(parent.glob(f"{WORK_ROOT_PREFIX}*")):
            try:
                pid = int(path.name[len(WORK_ROOT_PREFIX) :].split("-")[0])
                info = path.lstat()
            except (ValueError, OSError):
                continue
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or is_running(pid):
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _kill_pool(pool: ProcessPoolExecutor) -> None:
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=10)


def grade(
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    timeout: int = DEFAULT_TIMEOUT,
    budget: float = DEFAULT_BUDGET,
    jobs: int = 1,
    seed: int | None = None,
    output_cap: int = DEFAULT_OUTPUT_CAP,
    sandbox: bool = True,
    limits: Limits | None = None,
    resume: bool = False,
    installed_dir: str | Path | None = None,
    log: Callable[[str], Any] = print,
) -> list[SubmissionResult]:
    """Grade every submission under ``paths``; write the CSV gradebook ``out`` and the feedback folder as the
    batch goes. ``SandboxUnavailable`` (naming what to install) unless a sandbox works or ``sandbox=False``."""
    if sandbox:
        check_sandbox()
        remove_stale_process_caps()  # left by a grader or worker that was killed before it could clean up
    remove_stale_work_roots()  # hidden inputs of a grader killed by SIGKILL are not left lying about
    header = "" if sandbox else NO_SANDBOX_WARNING
    if not sandbox:
        log(NO_SANDBOX_WARNING)
    _quiet_asyncio()
    submissions = find_submissions(paths)
    installed = Path(installed_dir) if installed_dir else package_dir()
    results: dict[str, SubmissionResult] = {}
    previous = load_state(out) if resume else {}
    todo_all = []
    for name, path in submissions:
        if name in previous and previous[name].path == str(path):
            results[name] = previous[name]
        else:
            todo_all.append((name, path))
    if resume and results:
        log(f"resuming: {len(results)} already graded, {len(todo_all)} to grade")
    on_main = threading.current_thread() is threading.main_thread()
    old_term = signal.signal(signal.SIGTERM, _on_sigterm) if on_main else None
    work_root = _work_root()
    lock = threading.Lock()

    def ordered() -> list[SubmissionResult]:
        return [results[name] for name, _ in submissions if name in results]

    def record(res: SubmissionResult) -> None:
        with lock:
            results[res.name] = res
            if res.installed_changed:  # restore at once, so submissions that start later see the intact package
                restore_tree(installed, snapshot)
            done = ordered()
            write_gradebook(done, out, header)
            write_feedback([res], feedback_dir(out), header)
            save_state(done, out)
        try:
            log(f"graded {res.name}: {res.total:g}/{res.max_points:g}" + (f" ({res.error})" if res.error else ""))
        except OSError:  # e.g. stdout piped into a closed reader: grading goes on
            pass

    try:
        snapshot = snapshot_tree(installed)
        kwargs: dict[str, Any] = dict(
            timeout=timeout, budget=budget, seed=seed, output_cap=output_cap, sandbox=sandbox, limits=limits
        )
        if sandbox:
            kwargs["grading_build"] = build_grading_package(installed, work_root / "build")
        else:
            kwargs.update(package_snapshot=snapshot, installed_dir=installed)
        kwargs["work_root"] = work_root

        def safely(name: str, path: Path) -> SubmissionResult:
            try:
                return grade_submission(name, path, **kwargs)
            except Exception as err:
                return SubmissionResult(name, str(path), error=f"the grader failed on it ({type(err).__name__})")

        def grade_alone(name: str, path: Path) -> SubmissionResult:
            res = safely(name, path)
            if res.installed_changed:
                restore_tree(installed, snapshot)
                res.zero_all(_INSTALLED_REASON)
                res.installed_changed = False
            return res

        suspects: set[str] = set()
        if jobs <= 1 or len(todo_all) <= 1:
            for name, path in todo_all:
                record(grade_alone(name, path))
        else:
            todo, attempts = list(todo_all), {name: 0 for name, _ in todo_all}
            while todo:
                pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_worker_init)
                try:
                    futures: dict[Future[SubmissionResult], tuple[str, Path]] = {
                        pool.submit(_job, (name, str(path), kwargs)): (name, path) for name, path in todo
                    }
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
                                why = f"the grading process died twice ({type(err).__name__}); scored zero"
                                record(SubmissionResult(name, str(path), error=why))
                            continue
                        record(res)
                finally:
                    _kill_pool(pool)
            for flagged in [r for r in results.values() if r.installed_changed]:
                suspects.update(
                    r.name for r in results.values() if r.started <= flagged.finished and r.finished >= flagged.started
                )
        if not sandbox and (suspects or hash_tree(installed) != hash_snapshot(snapshot)):
            restore_tree(installed, snapshot)
            for name, path in todo_all:
                if name in suspects:
                    record(grade_alone(name, path))
        final = ordered()
        write_gradebook(final, out, header)
        write_feedback(final, feedback_dir(out), header)
        save_state(final, out)
        return final
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
        if sandbox:
            remove_stale_process_caps()  # the groups of workers that were killed mid-submission
        if on_main and old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
