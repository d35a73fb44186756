"""One writer per data directory across processes: an fcntl lock on `DATA_DIR/write.lock`.

Chroma's embedded store, the SQLite registry and the BM25 files are each safe for one writer at a
time but not for two interleaved `add`s (each would rebuild BM25 from its own view, and both would
decide "added" for the same file). The kernel drops an fcntl lock when its process dies, even by
SIGKILL, so a held lock always means a live writer and a crashed one never blocks the next.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import StoreError


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class WriterLock:
    """A re-entrant inter-process lock; `notify` gets one line when another process holds it."""

    def __init__(self, path: Path, notify: Callable[[str], None] | None = None):
        self.path = path
        self.notify = notify or _stderr
        self._fd: int | None = None
        self._depth = 0  # callers serialise threads with their own lock; this counts re-entry

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot open the writer lock {self.path}: {exc.strerror}") from exc

    def holder(self) -> str:
        """The pid recorded by the current (or last) holder, or '?'."""
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def try_acquire(self) -> bool:
        """Take the lock without waiting; False when another process holds it."""
        if self._depth:
            self._depth += 1
            return True
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._took(fd)
        return True

    def acquire(self) -> None:
        if self.try_acquire():
            return
        self.notify(f"another rag process (pid {self.holder()}) is writing to {self.path.parent}; "
                     "waiting for it to finish...")
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._took(fd)

    def _took(self, fd: int) -> None:
        self._fd, self._depth = fd, 1
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # the pid is only for the waiting message (a full disk must not stop the lock)

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()
