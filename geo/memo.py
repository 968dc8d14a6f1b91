"""Small caches of values made from layers the analysis meets again and again.

The app asks for the same sector layout, lattice and countries on every click; what is
made from them (the side of Syria, the zones' overlaps with the hexagons, the published
zones) is kept by their content (:func:`geometry_digest`), never by an object's
identity, so a changed layer is made anew. The caches are bounded and shared by the
app's sessions, which run in threads of their own.

May import: numpy, shapely.
"""

from __future__ import annotations

import collections
import hashlib
import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

import numpy as np
import shapely

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """A thread-safe mapping keeping the ``kept`` values used most recently.

    Parameters
    ----------
    kept
        How many values to keep; the least recently used goes first.
    """

    def __init__(self, kept: int) -> None:
        self._kept = int(kept)
        self._values: collections.OrderedDict[Hashable, V] = collections.OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key: Hashable) -> V | None:
        """Return the value kept for ``key``, or ``None``."""
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        """Keep ``value`` for ``key``, letting the least recently used values go."""
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self._kept:
                self._values.popitem(last=False)

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """Return the value kept for ``key``, made by ``make()`` and kept if there is none.

        ``make`` runs outside the lock: two threads asking at once may both make it.
        """
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._values.clear()


def geometry_digest(shapes: Any, crs: Any = None, extra: Iterable[str] = ()) -> bytes:
    """Return a digest of geometries' content: their WKB, in order, the CRS and ``extra``.

    Parameters
    ----------
    shapes
        Geometries (an array, a GeoSeries' values); a missing one counts as such.
    crs
        Their CRS (any object whose ``str`` names it), or ``None``.
    extra
        Texts that belong to the key (e.g. the codes of the features).
    """
    digest = hashlib.blake2b(digest_size=16)
    for wkb in shapely.to_wkb(np.asarray(shapes, dtype=object)):
        data = b"" if wkb is None else wkb
        digest.update(len(data).to_bytes(8, "little") + data)  # lengths: no two sequences alike
    digest.update(b"crs:" + str(crs).encode())
    for text in extra:
        digest.update(b"\0" + str(text).encode())
    return digest.digest()
