"""One submission's kernel: started (in the sandbox, or plainly with ``--no-sandbox``), the notebook's cells run
with per-cell timeouts inside a wall-clock budget, every kernel message counted against the output cap, and
restarts that replay the cells which behaved."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat

from .sandbox import Limits, ProcessCap, sandbox_command

__all__ = ["Kernel", "SandboxSpec"]

_MAX_RESTARTS = 3
_START_ATTEMPTS = 3
MESSAGE_CAP = 80_000_000  # bytes: zmq drops the connection of a kernel that sends a larger message


class SandboxSpec:
    """Where a sandboxed kernel's shared I/O folder and grading build are, its limits and its process cap."""

    def __init__(self, io_dir: Path, package_dir: Path, limits: Limits, cap: ProcessCap | None = None) -> None:
        self.io_dir, self.package_dir, self.limits, self.cap = io_dir, package_dir, limits, cap


def _sandboxed_manager(spec: SandboxSpec) -> Any:
    import zmq
    import zmq.asyncio
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class SandboxedKernelManager(AsyncKernelManager):
        """Launches ipykernel inside bwrap; talks to it over IPC sockets in the shared I/O folder."""

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            command = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]
            return sandbox_command(
                command, io_dir=spec.io_dir, package_dir=spec.package_dir, limits=spec.limits, cap=spec.cap
            )

    context = zmq.asyncio.Context()
    context.setsockopt(zmq.MAXMSGSIZE, MESSAGE_CAP)
    km = SandboxedKernelManager(
        transport="ipc",
        ip=str(spec.io_dir / "k"),
        connection_file=str(spec.io_dir / "kernel.json"),
        context=context,
    )
    # Never read a kernelspec from disk (a planted ~/.local/share/jupyter/kernels/python3 would be used).
    km._kernel_spec = KernelSpec(argv=["python"], display_name="python3", language="python", interrupt_mode="message")
    return km


def _client_class() -> Any:
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        """Counts every iopub message against ``cap`` bytes; beyond it only status messages are processed."""

        _cap: int = 0
        _received: int = 0
        _capped: bool = False
        _spec: SandboxSpec | None = None

        def create_kernel_manager(self) -> Any:
            if self._spec is None:
                return super().create_kernel_manager()
            self.km = _sandboxed_manager(self._spec)
            return self.km

        def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
            if msg.get("msg_type") == "status":
                return super().process_message(msg, cell, cell_index)
            self._received += len(json.dumps(msg.get("content", {}), default=str)) + len(str(msg.get("metadata", "")))
            if self._received > self._cap:
                if not self._capped:
                    self._capped = True
                    text = f"[grader: output beyond {self._cap:,} bytes dropped]\n"
                    cell.setdefault("outputs", []).append(nbformat.v4.new_output("stream", name="stderr", text=text))
                return None
            return super().process_message(msg, cell, cell_index)

    return CappedClient


class Kernel:
    """A kernel running one submission's cells, restartable (replaying the cells that did not misbehave)."""

    def __init__(
        self,
        nb: nbformat.NotebookNode,
        workdir: Path,
        env: dict[str, str],
        timeout: int,
        output_cap: int,
        *,
        budget: float,
        sandbox: SandboxSpec | None,
    ) -> None:
        self.nb, self.workdir, self.env, self.timeout, self.sandbox = nb, workdir, env, timeout, sandbox
        self.deadline = time.monotonic() + budget
        self.budget = budget
        self.client = _client_class()(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            record_timing=False,
            startup_timeout=120,
            resources={"metadata": {"path": str(workdir)}},
        )
        self.client._cap = output_cap
        self.client._spec = sandbox
        self.bad_cells: set[int] = set()
        self.done: list[int] = []
        self.notes: list[str] = []
        self.restarts = 0
        self.alive = False
        self.over_budget = False

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    # -- lifecycle --
    def start(self) -> None:
        """Start a fresh kernel. Nothing of the submission has run yet, so a failure here is the machine's:
        retry a few times before giving up."""
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
        """Fresh kernel, re-running the cells that ran fine so far; False when out of restarts or time."""
        self.stop()
        if self.restarts >= _MAX_RESTARTS or self.remaining() <= 0:
            return False
        self.restarts += 1
        self.start()
        for index in list(self.done):
            if self._execute(index, replay=True) != "ok":
                self.done.remove(index)
                return self._restart_and_replay()
        return True

    # -- execution --
    def _cell_timeout(self) -> int:
        return max(1, min(self.timeout, int(self.remaining())))

    def _execute(self, index: int, replay: bool = False) -> str:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if self.remaining() <= 0:
            self.over_budget = True
            return "budget"
        cell = self.nb.cells[index]
        limit = self._cell_timeout()
        self.client.timeout = limit
        try:
            self.client.execute_cell(cell, index, store_history=False)
        except CellTimeoutError:
            self.bad_cells.add(index)
            if limit < self.timeout:  # cut short by the budget, not by the per-cell timeout
                self.over_budget = True
                return "budget"
            if not replay:
                self.notes.append(f"timed out in cell {index + 1} ({limit} s limit)")
            return "timeout"
        except DeadKernelError:
            self.bad_cells.add(index)
            if not replay:
                self.notes.append(f"kernel died in cell {index + 1}")
            return "dead"
        finally:
            self.client.timeout = self.timeout
        return "ok"

    def _run_extra_cell(self, source: str, timeout: int) -> None:
        """Execute grader code as a temporary last cell with its own timeout (nbclient's errors propagate)."""
        cell = nbformat.v4.new_code_cell(source)
        self.nb.cells.append(cell)
        self.client.timeout = timeout
        try:
            self.client.execute_cell(cell, len(self.nb.cells) - 1, store_history=False)
        finally:
            self.client.timeout = self.timeout
            if self.nb.cells and self.nb.cells[-1] is cell:
                self.nb.cells.pop()

    def _recover_after_timeout(self) -> bool:
        """Interrupt the kernel; if it does not answer a trivial cell promptly, restart it."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
        from nbclient.util import run_sync

        try:
            run_sync(self.client.km.interrupt_kernel)()
            self._run_extra_cell("pass", timeout=30)  # generous: on a loaded machine 10 s was seen to fall short
            return True
        except (CellTimeoutError, DeadKernelError, RuntimeError):
            return self._restart_and_replay()

    def _budget_note(self, index: int) -> None:
        self.over_budget = True
        self.notes.append(f"over the time budget of {self.budget:g} s: cells from {index + 1} on not run")

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
            if status == "budget" or self.remaining() <= 0:
                self._budget_note(index)
                if index in self.bad_cells:  # stopped mid-cell: interrupt it so the grading cases can run
                    self._recover_after_timeout()
                return
            recovered = self._recover_after_timeout() if status == "timeout" else self._restart_and_replay()
            if not recovered:
                if self.remaining() <= 0:
                    self._budget_note(index + 1)
                else:
                    self.notes.append(
                        f"gave up after {self.restarts} kernel restarts: cells from {index + 2} on not run"
                    )
                return

    def run_code(self, source: str, timeout: int) -> str:
        """Execute grader code in the kernel: 'ok', 'timeout', 'dead' (the kernel is then restarted) or 'gone'
        (no kernel left)."""
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        if not self.alive:
            return "gone"
        try:  # the budget bounds the notebook's own cells; each grading cell has the per-cell timeout
            self._run_extra_cell(source, timeout)
            return "ok"
        except CellTimeoutError:
            self._recover_after_timeout()
            return "timeout"
        except DeadKernelError:
            self._restart_and_replay()
            return "dead"
