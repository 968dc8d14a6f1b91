"""Locks of a store file: one writer at a time, across threads and processes.

A write to a GeoPackage store takes a thread lock (Streamlit serves sessions from
threads) and a file lock beside the store (``<store>.lock``, for other processes).
Both are re-entrant and there is one pair per lock file in a process: creating a
store and seeding it take the same lock twice without waiting on themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geo.errors import StoreError

#: Seconds to wait for another writer before giving up.
LOCK_TIMEOUT_S = 120.0

_LOCKS: dict[str, tuple[threading.RLock, object]] = {}
_LOCKS_GUARD = threading.Lock()


def lock_path_of(path: Path) -> Path:
    """Return the lock file of the store at ``path`` (``<store>.lock`` beside it)."""
    return path.with_name(path.name + ".lock")


def _locks(path: Path, lock_path: Path) -> tuple[threading.RLock, object]:
    """Return the thread lock and the (re-entrant) file lock of a store, one pair per lock file.

    One pair per process: a second FileLock object on the same file is a second open
    file, whose ``flock`` waits for the first even in the same thread (a self-deadlock
    until the timeout). Keyed and created by the absolute lock path, so every spelling
    of the store's path (relative, through a symbolic link) shares the pair, and a
    later ``chdir`` cannot send a relative lock path to another file.
    """
    from filelock import FileLock

    key = str(lock_path.resolve())
    with _LOCKS_GUARD:
        if key not in _LOCKS:
            _LOCKS[key] = (threading.RLock(), FileLock(key, timeout=LOCK_TIMEOUT_S))
        return _LOCKS[key]


@contextmanager
def write_lock(path: Path, lock_path: Path) -> Iterator[None]:
    """Hold the store's thread and file locks (waiting up to :data:`LOCK_TIMEOUT_S`).

    Raises
    ------
    StoreError
        Another process held the file lock for the whole wait.
    """
    from filelock import Timeout

    thread_lock, file_lock = _locks(path, lock_path)
    with thread_lock:
        try:
            # poll every 5 ms (filelock's default, 50 ms, idles four writers in turn)
            held = file_lock.acquire(poll_interval=0.005)
        except Timeout:  # only the wait for the lock: a Timeout from the body is not ours
            raise StoreError(
                f"incident store {path} is busy: another process held its lock "
                f"{lock_path} for {LOCK_TIMEOUT_S:g} s; try again once its upload "
                "has finished (the lock is released when that process ends)"
            ) from None
        with held:
            yield


def thread_lock(path: Path, lock_path: Path) -> threading.RLock:
    """Return the store's thread lock alone (a read that must not overlap a write here)."""
    return _locks(path, lock_path)[0]
