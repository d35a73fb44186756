"""A watched folder: its files are added, changed files updated, and (only when asked)
deleted files removed from the library.

Change notification is watchfiles (inotify and friends, or polling); the folder walk and the
loaders are the same as `rag add FOLDER`, and the store decides added / updated / unchanged.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel

from rag.errors import InputError
from rag.ingest.files import wanted_in_folder
from rag.models import AddResult, ArticleSummary


class FolderChange(BaseModel):
    """What happened to one file of a watched folder."""

    path: str
    status: Literal["added", "updated", "unchanged", "failed", "removed"]
    article_id: str | None = None
    title: str | None = None
    reason: str | None = None


def _from_results(results: list[AddResult]) -> list[FolderChange]:
    return [FolderChange(**r.model_dump()) for r in results]


class Shelf(Protocol):
    """What a watched folder needs of the library it keeps in step (`rag.Library` is one)."""

    def add(self, paths: list[str | Path], progress=None, follow_symlinks: bool = False) -> list[AddResult]: ...

    def remove(self, article_id: str) -> ArticleSummary: ...

    def articles_from_files(self) -> list[tuple[str, str]]: ...


class FolderWatch:
    """Keeps a library in step with one folder."""

    def __init__(self, library: Shelf, folder: str | Path, *, sync_deletes: bool = False, follow_symlinks: bool = False):
        self.library = library
        self.root = Path(os.path.abspath(folder))
        if not self.root.is_dir():
            raise InputError(f"{folder} is not a folder")
        self.sync_deletes = sync_deletes
        self.follow_symlinks = follow_symlinks

    def sync(self) -> list[FolderChange]:
        """Add the whole folder (unchanged files stay unchanged) and, with sync_deletes, remove
        the articles of files that are gone."""
        changes = _from_results(self.library.add([self.root], follow_symlinks=self.follow_symlinks))
        if self.sync_deletes:
            changes += self._remove([path for _, path in self._file_articles() if not Path(path).exists()])
        return changes

    def _file_articles(self) -> list[tuple[str, str]]:
        """(article id, absolute path) of articles loaded from files in this folder."""
        out = []
        for article_id, location in self.library.articles_from_files():
            path = os.path.abspath(location)
            if Path(path).is_relative_to(self.root):
                out.append((article_id, path))
        return out

    def _remove(self, paths: list[str]) -> list[FolderChange]:
        gone = set(paths)
        changes = []
        for article_id, path in self._file_articles():
            if path in gone:
                summary = self.library.remove(article_id)
                changes.append(FolderChange(path=path, status="removed", article_id=article_id, title=summary.title))
        return changes

    def apply(self, paths: set[str]) -> list[FolderChange]:
        """Bring the library in step with these changed paths (added, modified or deleted)."""
        to_add, gone = [], []
        for raw in sorted(paths):
            path = Path(raw)
            if not path.exists():
                gone.append(os.path.abspath(raw))
            elif path.is_file() and wanted_in_folder(path, self.root):
                if path.is_symlink() and not self.follow_symlinks and not path.resolve().is_relative_to(self.root.resolve()):
                    continue  # never read through a link out of the folder unless asked
                to_add.append(path)
        changes = _from_results(self.library.add(to_add)) if to_add else []
        if self.sync_deletes and gone:
            changes += self._remove(gone)
        return changes

    def follow(self, stop_event: threading.Event | None = None, *, force_polling: bool | None = None,
               debounce_ms: int = 800, rescan_s: float = 60.0) -> Iterator[list[FolderChange]]:
        """Yield the initial sync, then the changes of each batch of file events until stopped.

        The watcher runs before the initial sync starts, so a file written while the folder is
        being read is not missed; after `rescan_s` seconds without events the whole folder is
        synced again, so a change the OS or the poller dropped is still caught up with."""
        import watchfiles

        # rust_timeout: an empty batch after each quiet second, which counts towards the rescan.
        events = watchfiles.watch(self.root, stop_event=stop_event, debounce=debounce_ms, raise_interrupt=False,
                                  force_polling=force_polling, watch_filter=None, yield_on_timeout=True,
                                  rust_timeout=1000)
        first = next(events, None)  # returns within a second, with the watcher running
        yield self.sync()
        if first:
            changes = self.apply({path for _, path in first})
            if changes:
                yield changes
        quiet = 0.0
        for batch in events:
            if batch:
                quiet = 0.0
                changes = self.apply({path for _, path in batch})
            else:
                quiet += 1.0
                if quiet < rescan_s:
                    continue
                quiet = 0.0
                changes = [c for c in self.sync() if c.status != "unchanged"]
            if changes:
                yield changes


class WatchThread:
    """Runs `FolderWatch.follow` in a daemon thread (for `rag ui --watch DIR`), keeping the
    latest changes and any error for display."""

    def __init__(self, watch: FolderWatch, keep: int = 20):
        from collections import deque

        self.watch = watch
        self.recent: deque[FolderChange] = deque(maxlen=keep)
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="folder-watch", daemon=True)

    def start(self) -> "WatchThread":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            for changes in self.watch.follow(self._stop):
                self.recent.extend(c for c in changes if c.status != "unchanged")
        except Exception as exc:  # shown in the UI; the app keeps running without the watch
            self.error = f"{type(exc).__name__}: {exc}"
