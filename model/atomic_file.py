"""Writing a file whole or not at all: into a temporary file beside it, renamed over it when complete,
with the permissions the umask gives any new file (mkstemp alone would leave it 0600). numpy and the
standard library only: hw/, sim/ and flows/ all write through it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def write_atomically(path: str | os.PathLike, content: str | bytes | Callable[[BinaryIO], None]) -> Path:
    """Write `content` (text, bytes, or a function writing to the open binary file) to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(content):
                content(f)
            else:
                f.write(content.encode() if isinstance(content, str) else content)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
