"""Reading, executing and normalising the course's notebooks (nbformat + nbclient, no hand-written runner).

Every stored notebook is kept in one canonical form so diffs stay readable and JupyterLab opens it with a
ready kernel: ``python3`` kernelspec, no execution timestamps, no widget state, nbformat 4.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

__all__ = ["KERNELSPEC", "LANGUAGE_INFO", "read", "normalize", "write", "execute"]

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# Fixed, not copied from the kernel: executed and unexecuted notebooks then carry identical metadata
# (so build-exercises writes the same bytes whether or not the solutions were run first).
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}
_KEEP_CELL_METADATA = ("tags", "nbgrader", "jupyter", "editable", "deletable")


def read(path: str | Path) -> nbformat.NotebookNode:
    """Read and validate a notebook; raise ``ValueError`` naming the file if it is not a valid notebook."""
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as err:  # nbformat raises several unrelated types for broken JSON/schema
        raise ValueError(f"{path} is not a valid Jupyter notebook: {err}") from err
    return nb


def normalize(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Canonical metadata: python3 kernelspec, fixed language_info, no timestamps/widget state, stable cell ids."""
    nb.metadata = nbformat.NotebookNode(kernelspec=dict(KERNELSPEC), language_info=dict(LANGUAGE_INFO))
    for i, cell in enumerate(nb.cells):
        cell.metadata = nbformat.NotebookNode({k: v for k, v in cell.metadata.items() if k in _KEEP_CELL_METADATA})
        cell.id = cell.get("id") or f"cell-{i:03d}"
    return nb


def _merge_streams(outputs: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    """Join each run of consecutive ``stream`` outputs with the same name (stdout, stderr) into one output."""
    merged: list[nbformat.NotebookNode] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and output.output_type == "stream"
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            previous.text = "".join(previous.text) + "".join(output.text)
        else:
            merged.append(output)
    return merged


def write(nb: nbformat.NotebookNode, path: str | Path) -> None:
    """Write ``nb`` in canonical form (normalised, validated, trailing newline)."""
    nb = normalize(nb)
    nbformat.validate(nb)
    nbformat.write(nb, str(path))


def execute(
    path: str | Path,
    *,
    timeout: int = 600,
    allow_errors: bool = False,
    save: bool = True,
) -> nbformat.NotebookNode:
    """Execute a notebook top to bottom in a fresh ``python3`` kernel, in the notebook's own folder.

    With ``save=True`` the executed notebook is written back in canonical form (what lessons store), each run of
    consecutive stream outputs merged into one, so a re-run stores the same structure whatever the flush timing.
    """
    path = Path(path)
    nb = read(path)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    client.execute()
    for cell in nb.cells:  # how a cell's printing splits into outputs depends on when the kernel flushed
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(cell.outputs)
    if save:
        write(nb, path)
    return nb
