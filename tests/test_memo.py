"""The bounded content caches shared by the analysis (geo.memo)."""

from __future__ import annotations

import threading

from shapely.geometry import Point, box

from geo.memo import BoundedCache, geometry_digest


def test_the_least_recently_used_value_goes_first():
    cache: BoundedCache[int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    made = []
    assert cache.get_or_make("c", lambda: made.append(1) or 9) == 3 and not made
    assert cache.get_or_make("d", lambda: made.append(1) or 4) == 4 and made == [1]
    assert len(cache) == 2
    cache.clear()
    assert len(cache) == 0


def test_threads_sharing_a_cache_keep_it_bounded():
    cache: BoundedCache[int] = BoundedCache(5)

    def work(offset: int) -> None:
        for k in range(500):
            cache.get_or_make((offset, k % 7), lambda k=k: k + 1)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 5


def test_the_digest_follows_the_geometries_their_order_crs_and_codes():
    shapes = [box(0, 0, 1, 1), Point(2, 3), None]
    key = geometry_digest(shapes, "EPSG:4326", extra=["LBN", "SYR"])
    assert key == geometry_digest(list(shapes), "EPSG:4326", extra=["LBN", "SYR"])
    assert key != geometry_digest(shapes[::-1], "EPSG:4326", extra=["LBN", "SYR"])
    assert key != geometry_digest(shapes, "EPSG:32637", extra=["LBN", "SYR"])
    assert key != geometry_digest(shapes, "EPSG:4326", extra=["SYR", "LBN"])
    assert key != geometry_digest([box(0, 0, 1, 1.000001), Point(2, 3), None], "EPSG:4326",
                                  extra=["LBN", "SYR"])  # fmt: skip
    assert geometry_digest([None]) != geometry_digest([])
