"""``python -m geo analyze``: rank the border sectors for demarcation.

Prints the ranked sectors with each criterion's contribution, the top-k
probability and rank interval under perturbed weights, and what the ranking
rests on (the minimum-evidence guard). ``--format table`` (default) is for
people; ``json`` and ``csv`` are for tools (the JSON shape is fixed by
issue 5: ``parameters`` and ``sectors``, ranked best first). A PostGIS store also
gets the ranking as its table ``ranked_sectors``, for QGIS
(:meth:`geo.store.IncidentStore.publish_ranking`).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap

from geo.cli.options import (
    add_analysis_options,
    add_compare_option,
    add_ranking_options,
    load_reference,
    load_selected_incidents,
    open_selected_store,
    positive_int,
    publish_ranking,
)

logger = logging.getLogger(__name__)

#: Output formats of ``--format``.
FORMATS = ("table", "json", "csv")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``analyze`` command."""
    parser = subparsers.add_parser(
        "analyze",
        help="rank the border sectors for demarcation, with each criterion's contribution",
        description="Cut the border into sectors numbered from the coast, measure each "
        "sector's criteria (incident density, hot spots, trend, crossings, exposure, "
        "disagreement of the border lines, terrain), rank the sectors by a weighted sum of "
        "the normalised criteria and show how stable the ranking is when the weights change.",
    )
    add_analysis_options(parser)
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="output: a table for people, or json or csv for tools (default: %(default)s)",
    )
    add_ranking_options(parser)
    add_compare_option(parser)
    parser.add_argument(
        "--limit",
        type=positive_int,
        metavar="N",
        help="with --format table, show only the first N sectors (default: all)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``python -m geo analyze``; return the exit code."""
    from geo.analysis import AnalysisParameters, run_analysis

    params = AnalysisParameters.from_args(args)
    if args.compare_to is not None:
        return _run_comparison(args, params)
    store = open_selected_store(args)
    incidents = load_selected_incidents(store, args)
    result = run_analysis(incidents, params, reference=load_reference())
    if args.format == "json":
        json.dump(result.to_json_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif args.format == "csv":
        from geo.exports import ranked_table

        ranked_table(result).to_csv(sys.stdout, index=False, lineterminator="\n")
    else:
        sys.stdout.write(format_table(result, limit=args.limit))
    sys.stdout.flush()
    publish_ranking(store, result)
    return 0


def _run_comparison(args: argparse.Namespace, params) -> int:
    """Run ``analyze --compare-to``: both periods, side by side."""
    from geo.change import compare_periods

    store = open_selected_store(args)
    incidents = store.read(types=args.types)  # each period filters its own dates
    comparison = compare_periods(
        incidents, params, then=args.compare_to, reference=load_reference()
    )
    if args.format == "json":
        data = comparison.now.to_json_dict()
        data["comparison"] = comparison.to_json_dict()
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif args.format == "csv":
        comparison.table.to_csv(sys.stdout, index=False, lineterminator="\n")
    else:
        sys.stdout.write(format_table(comparison.now, limit=args.limit))
        sys.stdout.write(format_comparison(comparison, limit=args.limit))
    sys.stdout.flush()
    publish_ranking(store, comparison.now)
    return 0


def format_comparison(comparison, *, limit: int | None = None) -> str:
    """Return the side-by-side ranks of two periods as text (flagged sectors first)."""
    import pandas as pd

    now, then = comparison.periods["now"], comparison.periods["then"]

    def span(pair) -> str:
        return f"{pair[0] or 'first incident'}..{pair[1] or 'last incident'}"

    table = comparison.table
    shown = pd.DataFrame(
        {
            "sector": table["sector_id"],
            "rank now": table["rank_now"],
            "then": table["rank_then"],
            "change": table["rank_change"].map(lambda v: "" if pd.isna(v) else f"{v:+d}"),
            "5–95% now": table["interval_now"],
            "then ": table["interval_then"],
            "top k": [
                "entered" if e else "left" if lft else ""
                for e, lft in zip(table["entered_top_k"], table["left_top_k"], strict=True)
            ],
            "flag": [
                "MOVED" if f else "displaced" if d else ""
                for f, d in zip(table["flagged"], table["displaced"], strict=True)
            ],
            "incidents then→now": [
                f"{j}→{k}"
                for j, k in zip(table["incidents_then"], table["incidents_now"], strict=True)
            ],
            "why (contribution change)": table["reasons"],
        }
    )
    flagged = int(table["flagged"].sum())
    lines = [
        "",
        f"Compared with {span(then)} (now {span(now)}): {flagged} sector(s) moved beyond "
        "their 5–95 % rank interval with their own incidents changed beyond chance (MOVED); "
        "'displaced': moved beyond the interval by others' change, its own incidents alike.",
        shown.head(limit).to_string(index=False) if limit else shown.to_string(index=False),
        "",
    ]
    return "\n".join(lines)


def format_table(result, *, limit: int | None = None) -> str:
    """Return the human-readable report of an analysis.

    Parameters
    ----------
    result
        A :class:`geo.analysis.AnalysisResult`.
    limit
        Show only the first ``limit`` sectors.
    """
    import pandas as pd

    from geo.analysis import sector_table

    wrap = textwrap.TextWrapper(width=100, subsequent_indent="  ")
    lines = [
        f"Border sectors of {result.parameters.sector_km:g} km, corridor ±"
        f"{result.parameters.corridor_km:g} km, numbered from the coast; "
        f"{len(result.incidents)} incident(s) selected, "
        f"{result.incidents_in_corridor} in the corridor.",
        "",
        *wrap.wrap(("EVIDENCE OK: " if result.evidence_ok else "LIMITED EVIDENCE: ")
                   + result.message),
        "",
        "Weights used: "
        + ", ".join(f"{k} {v:.2f}" for k, v in result.weights.items() if v > 0),
    ]  # fmt: skip
    if result.hotspots_message and not any("hotspot_share" in n for n in result.notes):
        lines += wrap.wrap(f"Hot spots: {result.hotspots_message}")
    lines += [line for note in result.notes for line in wrap.wrap(f"Note: {note}")]
    if result.sensitivity is not None:
        s = result.sensitivity
        lines.append(
            f"Sensitivity: {s.draws} Dirichlet draws (concentration {s.concentration:g}, "
            f"seed {s.seed}); p_top_k = probability of being in the top {s.top_k}; "
            f"rank interval {s.interval_percent[0]:g}–{s.interval_percent[1]:g} %."
        )
        changed = s.oat.loc[s.oat["top_k_changed"]]
        if len(changed):
            lines += wrap.wrap(
                "One at a time, the top "
                f"{s.top_k} changes when: "
                + "; ".join(f"{r.criterion} ×{r.factor:g}" for r in changed.itertuples(index=False))
            )
        else:
            lines.append(f"One at a time: no single weight change moves the top {s.top_k}.")
    lines.append("")
    with pd.option_context("display.width", 200, "display.max_columns", 50):
        lines.append(sector_table(result, limit=limit).to_string(index=False))
    return "\n".join(lines) + "\n"
