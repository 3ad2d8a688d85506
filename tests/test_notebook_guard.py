"""Every notebook starts with the import guard, and the guard says what to do when course_utils is missing.

A learner who opens a notebook in a kernel without the course's package (another Python, a hosted
JupyterHub before `pip install -e .`) must read "course_utils is not installed: ... run `make lab` (or
`pip install -e .`)", not a ModuleNotFoundError traceback. The first code cell of every notebook is run
in a fresh interpreter where ``course_utils`` cannot be imported: once as plain Python (``python -I``)
and once in IPython, the shell Jupyter's kernel runs cells in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("notebooks", "solutions", "exercises") for p in (ROOT / folder).glob("*.ipynb"))
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]

# The guard every notebook opens with (HELPERS_READ_FIRST.md, "Notebook conventions").
GUARD = """try:
    import course_utils  # the course's companion package
except ModuleNotFoundError:
    raise SystemExit("course_utils is not installed: from the course folder run `make lab` "
                     "(or `pip install -e .`), then restart the kernel.") from None
"""
MESSAGE = "course_utils is not installed: from the course folder run `make lab` (or `pip install -e .`), then restart the kernel."

# Makes `import course_utils` fail as it does where the package is not installed, whatever the venv
# holds (the editable install puts a finder on sys.meta_path and a path entry in site-packages).
BLOCK_COURSE_UTILS = """
import os, sys
class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name == "course_utils" or name.startswith("course_utils."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NotInstalled())
sys.path[:] = [p for p in sys.path if p and not os.path.exists(os.path.join(p, "course_utils", "__init__.py"))]
"""

# Runs each cell in IPython's InteractiveShell and reports what the learner would read, as JSON.
IPYTHON_RUNNER = (
    BLOCK_COURSE_UTILS
    + """
import contextlib, io, json, warnings
from IPython.core.interactiveshell import InteractiveShell
warnings.simplefilter("ignore")  # IPython's "To exit: use 'exit'" hint on SystemExit
shell = InteractiveShell.instance(colors="nocolor")
report = []
for source in json.load(sys.stdin):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        result = shell.run_cell(source)
    report.append({"error": type(result.error_in_exec).__name__, "shown": out.getvalue()})
print(json.dumps(report))
"""
)


def first_code_cell(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            return cell.source
    raise AssertionError(f"{path.name} has no code cell")


def run_without_course_utils(source: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Execute a cell's source (IPython magics turned into Python) in ``python -I`` without course_utils."""
    python = TransformerManager().transform_cell(source)
    script = BLOCK_COURSE_UTILS + f"\nexec(compile({python!r}, '<first cell>', 'exec'))\n"
    return subprocess.run([sys.executable, "-I", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=60)


def assert_clear_install_message(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, f"expected SystemExit(1), got {result.returncode}: {result.stderr[-500:]}"
    assert result.stderr.strip() == MESSAGE, f"unexpected message: {result.stderr[-800:]!r}"
    assert result.stdout == ""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_code_cell_starts_with_the_guard(path: Path) -> None:
    source = first_code_cell(path)
    assert source.startswith(GUARD), (
        f"{path.relative_to(ROOT)}: the first code cell must start with the import guard:\n{GUARD}\n"
        f"it starts with:\n{source[:300]}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_guard_prints_the_install_message_without_course_utils(path: Path, tmp_path: Path) -> None:
    result = run_without_course_utils(first_code_cell(path), cwd=tmp_path)
    assert "Traceback" not in result.stderr, f"a traceback instead of the install message:\n{result.stderr[-800:]}"
    assert_clear_install_message(result)


@pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks yet")
def test_guard_in_ipython_shows_only_the_install_message(tmp_path: Path) -> None:
    sources = [first_code_cell(path) for path in NOTEBOOKS]
    done = subprocess.run(
        [sys.executable, "-I", "-c", IPYTHON_RUNNER],
        input=json.dumps(sources),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for name, cell in zip(IDS, json.loads(done.stdout.splitlines()[-1]), strict=False):
        assert cell["error"] == "SystemExit", f"{name}: {cell}"
        assert f"SystemExit: {MESSAGE}" in cell["shown"], f"{name} shows:\n{cell['shown']}"
        assert "ImportError" not in cell["shown"] and "ModuleNotFoundError" not in cell["shown"], cell["shown"]


# The harness itself: it must really hide course_utils, and tell a bare import from the guard.
def test_harness_blocks_course_utils(tmp_path: Path) -> None:
    bare = run_without_course_utils("import course_utils\n", cwd=tmp_path)
    assert bare.returncode == 1 and "ModuleNotFoundError: No module named 'course_utils'" in bare.stderr
    with pytest.raises(AssertionError):
        assert_clear_install_message(bare)


def test_guard_passes_where_course_utils_is_installed(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", GUARD], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert_clear_install_message(run_without_course_utils(GUARD, cwd=tmp_path))
