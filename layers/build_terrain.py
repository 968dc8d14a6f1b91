"""Builder of ``terrain.tif``: the pvlib altitude grid clipped to the border region."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from layers import sources
from layers.build_common import RETRIEVED

logger = logging.getLogger(__name__)

#: Area of the terrain clip (lon/lat degrees): the border with more than 50 km around it.
TERRAIN_BBOX = (34.75, 32.75, 37.5, 35.25)
#: pvlib's global grid: 5 arc-minutes, origin at 180°W 90°N, 28 m steps from -450 m.
PVLIB_CELL_DEG = 1.0 / 12.0
PVLIB_STEP_M = 28
PVLIB_OFFSET_M = -450
PVLIB_NODATA = 255
TERRAIN_NODATA = -32768


def build_terrain(out: Path) -> dict[str, Any]:
    """Write ``terrain.tif``: the pvlib altitude grid clipped to the border region.

    Parameters
    ----------
    out
        The folder ``terrain.tif`` is written in (``data/`` for the committed build).

    Returns
    -------
    dict
        Its record for ``data/provenance.json``: the source grid, the rows and
        columns read, the decoding, the shape and the elevation range.
    """
    import numpy as np
    import rasterio
    from affine import Affine

    sources._require("pvlib", "pvlib")
    sources._require("h5py", "h5py (a pvlib dependency)")
    import h5py
    import pvlib

    h5_path = Path(pvlib.__file__).parent / "data" / "Altitude.h5"
    west, south, east, north = TERRAIN_BBOX
    col0 = round((west + 180.0) / PVLIB_CELL_DEG)
    col1 = round((east + 180.0) / PVLIB_CELL_DEG)
    row0 = round((90.0 - north) / PVLIB_CELL_DEG)
    row1 = round((90.0 - south) / PVLIB_CELL_DEG)
    with h5py.File(h5_path, "r") as h5:
        raw = np.asarray(h5["Altitude"][row0:row1, col0:col1])
    values = raw.astype(np.int16) * PVLIB_STEP_M + PVLIB_OFFSET_M
    values[raw == PVLIB_NODATA] = TERRAIN_NODATA
    transform = Affine(
        PVLIB_CELL_DEG,
        0.0,
        -180.0 + col0 * PVLIB_CELL_DEG,
        0.0,
        -PVLIB_CELL_DEG,
        90.0 - row0 * PVLIB_CELL_DEG,
    )
    path = out / "terrain.tif"
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "height": values.shape[0],
        "width": values.shape[1],
        "count": 1,
        "dtype": "int16",
        "crs": "EPSG:4326",
        "transform": transform,
        "nodata": TERRAIN_NODATA,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
        dst.update_tags(
            source="pvlib Altitude.h5",
            pvlib_version=sources.package_version("pvlib"),
            units="metres above sea level",
            vertical_step_m=str(PVLIB_STEP_M),
            cell="5 arc-minutes (about 7.7 km east-west by 9.3 km north-south at 34°N)",
        )
        dst.update_tags(1, units="m")
    logger.info("wrote %s (%d x %d cells)", path, values.shape[1], values.shape[0])
    valid = values[values != TERRAIN_NODATA]
    return {
        "file": "terrain.tif",
        "source": "pvlib Altitude.h5 (low-resolution global altitude map)",
        "package": "pvlib",
        "version": sources.package_version("pvlib"),
        "licence": "BSD-3-Clause (pvlib)",
        "retrieved": RETRIEVED,
        "steps": [
            f"read rows {row0}:{row1}, columns {col0}:{col1} of the 2160 x 4320 grid "
            "(5 arc-minute cells, origin 180°W 90°N)",
            f"decode: value * {PVLIB_STEP_M} + ({PVLIB_OFFSET_M}) metres; "
            f"{PVLIB_NODATA} -> nodata {TERRAIN_NODATA}",
            f"write a deflate-compressed int16 GeoTIFF in EPSG:4326 covering {TERRAIN_BBOX}",
        ],
        "precision": "coarse: cells of 5 arc-minutes (about 7.7 x 9.3 km), elevations in 28 m "
        "steps, errors of 100 m and more (pvlib's own warning); fit for mean elevation per "
        "sector, not for slope or line of sight",
        "shape": [int(values.shape[0]), int(values.shape[1])],
        "elevation_range_m": [int(valid.min()), int(valid.max())],
    }
