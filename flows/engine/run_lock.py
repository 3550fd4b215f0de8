"""One run at a time holds a run folder: an exclusive lock on `<folder>/.spikefab.lock`, which holds
the holder's process id. The lock is the kernel's (flock), so it ends with its process however that
process ends: a lock file left behind by a killed run is stale and is simply taken over. The holder
removes the file when it is done; a process that locked a file just removed (its inode no longer the
path's) tries again, so two runs never both hold the folder."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = ".spikefab.lock"


class RunFolderLocked(RuntimeError):
    """Another process holds the run folder."""


class RunFolderLock:
    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> "RunFolderLock":
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
                os.close(fd)
                raise RunFolderLocked(f"{self.path.parent} is in use by another spikefab run (process {holder}): "
                                      "wait for it to finish, or give another --out") from None
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the holder removed it as we locked it: lock the new one
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
