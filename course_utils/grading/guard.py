"""Package snapshots, used with ``--no-sandbox`` only (in the sandbox the package is not reachable at all)."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["snapshot_tree", "hash_tree", "restore_tree", "hash_snapshot", "package_dir"]


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


def hash_snapshot(snapshot: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for rel in sorted(snapshot):
        digest.update(rel.encode() + b"\0" + snapshot[rel] + b"\0")
    return digest.hexdigest()


def hash_tree(root: str | Path) -> str:
    """SHA-256 over the relative paths and contents of the files under ``root`` (``__pycache__`` excluded)."""
    return hash_snapshot(snapshot_tree(root))


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


def package_dir() -> Path:
    import course_utils

    return Path(course_utils.__file__).resolve().parent
