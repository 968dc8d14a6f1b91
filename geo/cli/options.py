"""Options shared by several commands, defined once.

The option names are an interface: other tools call them. Keep them exactly as
the issues state them.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from geo import settings

if TYPE_CHECKING:
    import geopandas as gpd

    from geo.analysis import AnalysisResult
    from geo.store import IncidentStore
    from layers.reference import ReferenceLayers


def parse_date(text: str) -> dt.date:
    """Parse an ISO 8601 calendar date (``YYYY-MM-DD``) for an option."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2025-03-16"
        ) from None


def parse_types(text: str) -> tuple[str, ...]:
    """Parse a comma-separated list of incident types for ``--types``."""
    types = tuple(t.strip().lower() for t in text.split(",") if t.strip())
    unknown = [t for t in types if t not in settings.INCIDENT_TYPES]
    if not types or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown incident type(s) {', '.join(unknown) or '(none given)'}; "
            f"allowed: {','.join(settings.INCIDENT_TYPES)}"
        )
    return types


def positive_float(text: str) -> float:
    """Parse a strictly positive number for an option."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive finite number")
    return value


def positive_int(text: str) -> int:
    """Parse a strictly positive whole number for an option."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def parse_weights(text: str) -> dict[str, float]:
    """Parse ``name=value,...`` for ``--weights``; names are priority criteria."""
    weights: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in settings.CRITERION_NAMES:
            raise argparse.ArgumentTypeError(
                f"{item!r} is not name=value with a known criterion; "
                f"criteria: {','.join(settings.CRITERION_NAMES)}"
            )
        try:
            weight = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"weight {value!r} of {name} is not a number"
            ) from None
        if not 0 <= weight < float("inf"):
            raise argparse.ArgumentTypeError(f"weight of {name} must be zero or positive")
        weights[name] = weight
    if not weights:
        raise argparse.ArgumentTypeError("give at least one name=value")
    return weights


def add_store_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--store PATH``."""
    parser.add_argument(
        "--store",
        metavar="PATH",
        help=f"incident store: a GeoPackage file or postgresql://user@host:5432/database "
        "(the password from PGPASSWORD, ~/.pgpass or a service file; a new database store "
        f"is empty) (default: ${settings.STORE_ENV_VAR}, "
        f"else {settings.DEFAULT_STORE_PATH.relative_to(settings.PROJECT_ROOT)}; "
        "created and seeded with the bundled sample on first use)",
    )


def add_filter_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--store``, ``--since``, ``--until`` and ``--types``."""
    add_store_option(parser)
    parser.add_argument(
        "--since",
        type=parse_date,
        metavar="DATE",
        help="keep incidents on or after this date (YYYY-MM-DD)",
    )
    parser.add_argument(
        "--until",
        type=parse_date,
        metavar="DATE",
        help="keep incidents on or before this date (YYYY-MM-DD)",
    )
    parser.add_argument(
        "--types",
        type=parse_types,
        metavar="T,...",
        help=f"keep these incident types ({','.join(settings.INCIDENT_TYPES)})",
    )


def add_density_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--bandwidth-m``, ``--cell-m``, ``--kernel`` and ``--half-life-days``."""
    parser.add_argument(
        "--bandwidth-m",
        type=positive_float,
        metavar="M",
        help="kernel bandwidth in metres (default: Silverman's rule on the projected incidents)",
    )
    parser.add_argument(
        "--cell-m",
        type=positive_float,
        metavar="M",
        default=settings.DENSITY_CELL_M,
        help="grid cell size in metres (default: %(default)s)",
    )
    parser.add_argument(
        "--kernel",
        choices=("gaussian", "quartic"),
        default=settings.DENSITY_KERNEL,
        help="kernel shape (default: %(default)s)",
    )
    parser.add_argument(
        "--half-life-days",
        type=positive_float,
        metavar="D",
        help="recency half-life in days (default: no decay)",
    )


def add_analysis_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``analyze`` (and ``report``) except ``--format``."""
    add_filter_options(parser)
    parser.add_argument(
        "--sector-km",
        type=positive_float,
        default=settings.SECTOR_KM,
        metavar="KM",
        help="sector length along the border (default: %(default)s)",
    )
    parser.add_argument(
        "--corridor-km",
        type=positive_float,
        default=settings.CORRIDOR_KM,
        metavar="KM",
        help="corridor half-width on each side of the border (default: %(default)s)",
    )
    parser.add_argument(
        "--weights",
        type=parse_weights,
        metavar="name=value,...",
        help="override criterion weights; criteria: " + ",".join(settings.CRITERION_NAMES),
    )
    parser.add_argument(
        "--top-k",
        type=positive_int,
        default=settings.TOP_K,
        metavar="K",
        help="k of the top-k probability (default: %(default)s)",
    )
    add_density_options(parser)


def add_ranking_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--terrain``, ``--normalisation``, ``--draws`` and ``--seed`` (analyze, report)."""
    parser.add_argument(
        "--terrain",
        metavar="PATH",
        help="elevation GeoTIFF (metres, any CRS) instead of the bundled coarse DEM",
    )
    parser.add_argument(
        "--normalisation",
        choices=("minmax", "rank"),
        default=settings.PRIORITY_NORMALISATION,
        help="how criteria are scaled to 0–1 before weighting (default: %(default)s)",
    )
    parser.add_argument(
        "--draws",
        type=positive_int,
        default=settings.SENSITIVITY_DRAWS,
        metavar="N",
        help="Monte Carlo draws of the weights (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=settings.SENSITIVITY_SEED,
        metavar="N",
        help="seed of the draws, for a reproducible result (default: %(default)s)",
    )


def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """Parse ``SINCE..UNTIL`` for ``--compare-to``."""
    from geo.change import parse_period as parse
    from geo.errors import ConfigurationError

    try:
        return parse(text)
    except ConfigurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_compare_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--compare-to SINCE..UNTIL`` (analyze, report)."""
    parser.add_argument(
        "--compare-to",
        type=parse_period,
        metavar="SINCE..UNTIL",
        help="also rank the sectors on this earlier period and show, for every sector, "
        "its rank and score in both, the rank change, the new incidents by type, and "
        "whether it moved beyond its rank interval (flagged)",
    )


def output_file(path: str | Path) -> Path:
    """Return ``--out`` as a path whose folder exists, or raise a one-line error.

    Parameters
    ----------
    path
        The file the command will write.
    """
    from geo.errors import ConfigurationError

    out = Path(path)
    if not out.parent.is_dir():
        raise ConfigurationError(
            f"--out {str(out)!r}: folder {str(out.parent)!r} does not exist; create it first"
        )
    return out


def load_reference() -> ReferenceLayers:
    """Return the bundled reference layers, loaded once by the command and passed down."""
    from layers.reference import ReferenceLayers

    return ReferenceLayers.bundled()


def open_selected_store(args: argparse.Namespace, *, create: bool | None = None) -> IncidentStore:
    """Open the store ``--store`` names (else ``$BORDERMON_STORE``, else the default), once.

    The default store is created and seeded with the bundled sample on first use; an
    explicit ``--store`` must exist unless ``create`` (:func:`geo.ingest.open_seeded_store`).

    Parameters
    ----------
    args
        The parsed options (``args.store``).
    create
        Create a missing explicit store, empty.
    """
    from geo.ingest import open_seeded_store

    return open_seeded_store(args.store, create=create)


def load_selected_incidents(store: IncidentStore, args: argparse.Namespace) -> gpd.GeoDataFrame:
    """Return the incidents of ``store`` that the filter options select."""
    return store.read(since=args.since, until=args.until, types=args.types)


def publish_ranking(store: IncidentStore, result: AnalysisResult) -> None:
    """Publish the ranked sectors where GIS tools read the store (PostGIS: ``ranked_sectors``).

    A file store publishes nothing. Saying so on standard error keeps standard output
    the command's own; a store that refuses (a read-only login) is a warning, not a
    failure of the analysis.

    Parameters
    ----------
    store
        The store the incidents were read from.
    result
        The analysis.
    """
    import sys

    from geo.errors import StoreError
    from geo.exports import sectors_frame

    try:
        table = store.publish_ranking(sectors_frame(result), parameters=result.parameters.to_dict())
    except StoreError as exc:
        message = " ".join(str(exc).split())
        print(f"warning: the ranking was not published in the store: {message}", file=sys.stderr)
        return
    if table:
        print(f"ranked sectors published as table {table} of {store.location}", file=sys.stderr)
