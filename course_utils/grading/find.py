"""Finding submissions: no symbolic link is followed, files are size-capped before they are parsed, names are
unique, and feedback file names are safe for any submission name."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

__all__ = ["find_submissions", "read_submission", "safe_file_name", "lesson_of", "NOTEBOOK_CAP", "Refused"]

NOTEBOOK_CAP = 20_000_000  # bytes: a larger submission is refused unread


class Refused(Exception):
    """A submission that is not read, with the reason."""


def _walk(root: Path) -> list[Path]:
    """Every ``.ipynb`` under ``root`` and every symbolic link met (reported, never followed)."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        for d in list(dirs):
            if d == ".ipynb_checkpoints":
                dirs.remove(d)
            elif (here / d).is_symlink():
                found.append(here / d)  # refused when read: a link to a folder
        found += [here / f for f in files if f.endswith(".ipynb") or (here / f).is_symlink()]
    return sorted(found)


def find_submissions(paths: Iterable[str | Path]) -> list[tuple[str, Path]]:
    """``(name, path)`` for every ``.ipynb`` given or found (recursively) under a given folder, and for every
    symbolic link met inside a folder (refused when read). Links are never followed."""
    found: list[tuple[str, Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir() and not path.is_symlink():
            for nb in _walk(path):
                relative = nb.relative_to(path)
                if len(relative.parts) == 1:  # `grade alice/ bob/`: the folder names the student
                    relative = Path(path.resolve().name) / relative
                stem = relative.with_suffix("") if relative.suffix == ".ipynb" else relative
                found.append((stem.as_posix().replace("/", "__"), nb))
        elif path.exists() or path.is_symlink():
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
            name = f"{path.parent.absolute().name}__{name}"
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}-{n}"
        seen.add(candidate)
        unique.append((candidate, path))
    return unique


def read_submission(path: Path, cap: int = NOTEBOOK_CAP) -> bytes:
    """The file's bytes, opened without following a symbolic link; ``Refused`` with the reason otherwise."""
    if path.is_symlink():
        raise Refused(f"{path.name} is a symbolic link (to {os.readlink(path)}): links are not followed")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise Refused(f"could not read the submission: {err.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f"{path.name} is not a regular file")
        if info.st_size > cap:
            raise Refused(f"the file is {info.st_size:,} bytes, over the {cap:,}-byte limit: not read")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > cap:
                raise Refused(f"the file grew over the {cap:,}-byte limit while read")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as err:
        raise Refused(f"could not read the submission: {err.strerror}") from None
    finally:
        os.close(fd)


def safe_file_name(name: str) -> str:
    """A file name for ``name``: letters, digits, ``._-`` only; a short hash of the exact name is added
    whenever characters were replaced, so two different names never share a file."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:120] or "submission"
    if safe != name:
        safe += "-" + hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return safe


def lesson_of(name: str, text: str) -> str:
    match = re.search(r"(?<!\d)(\d\d)_[A-Za-z]", Path(name).name)
    if match:
        return match.group(1)
    found = sorted(set(re.findall(r"checks\.ex(\d\d)_", text)))
    return found[0] if len(found) == 1 else ""
