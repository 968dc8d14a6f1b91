"""The server's long-lived objects, kept out of the cyclic garbage collector's full scans.

A full collection (Python's oldest generation) walks every container object the
process holds: the imported modules, the cached incidents, stages and maps. In the
app's process that walk takes 0.15–0.2 s, and it falls on whichever rerun happens to
cross the collector's threshold: a filter change that takes 0.4 s on most clicks took
0.6 s on one in five.

After the first complete run of the page, what the process holds is what it will keep
(modules, the store's incidents, the first stages); :func:`freeze_long_lived` collects
the garbage there is and then moves every surviving object out of the collector's
generations (:func:`gc.freeze`). Later collections walk only what later runs made. It
happens once per process: objects frozen are still freed when nothing refers to them,
but a reference cycle among them would never be collected, so freezing again on every
run would let such cycles pile up.

May import: the standard library only.
"""

from __future__ import annotations

import gc
import logging
import threading

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_frozen = False


def freeze_long_lived() -> bool:
    """Collect the garbage, then freeze what survives; once per process.

    Returns
    -------
    bool
        Whether this call froze the heap (``False`` when an earlier call already had).
    """
    global _frozen
    with _lock:
        if _frozen:
            return False
        gc.collect()
        gc.freeze()
        _frozen = True
    logger.info("froze %d long-lived objects out of the collector's scans", gc.get_freeze_count())
    return True
