"""Coverage-guided fuzzing of the readers and validation with atheris (libFuzzer).

Each input is a file name chosen by its first byte (``x.geojson``, ``x.csv``,
``x.gpkg``, a name that is itself HTML, ...) followed by the file's bytes, handed to
:func:`geo.ingest.validate_file` with the bundled border and a few stored incidents
(so the region, duplicate and id checks run too). The ``geo`` package is instrumented
so libFuzzer steers towards new branches of our code; the seed corpus is the bad-input
corpus (``tests/data/bad``), the bundled sample and the ACLED test export.

A finding is any exception other than the project's own errors, and any broken
promise of a report that did not raise:

- the report as JSON (``to_dict``) and as text (``to_text``) encode as UTF-8
  (what the CLI and the app print);
- the accepted text encodes as UTF-8 and holds no NUL (what the store can keep);
- accepted + rejected = features, every problem has a reason and a fix.

Findings are counted, deduplicated by exception type and innermost ``geo`` frame, and
the first input of each is saved (``--findings``). A timeout or an out-of-memory of
one input stops libFuzzer; it is reported as a finding too.

This is a benchmark-style script, not a test (CI does not run it):
``pip install atheris``, then::

    python benchmarks/fuzz_ingest.py --seconds 300
    python benchmarks/fuzz_ingest.py --runs 20000 --corpus /tmp/fuzz-corpus

It prints a table: executions, time, exec/s, libFuzzer's coverage counters (``cov``:
edges reached; ``ft``: features; corpus size) and ours (formats reached, distinct
problem messages), then each finding with its saved input.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: File names an input may carry (its first byte picks one).
NAMES = (
    "x.geojson",
    "x.json",
    "x.ndjson",
    "x.geojsons",
    "x.csv",
    "x.tsv",
    "x.txt",
    "x.gpkg",
    "x",
    "X.GEOJSON",
    "<img src=x onerror=alert(1)>.geojson",
    "${alert(1)}.csv",
    "../../etc/passwd.geojson",
    "bad\ud800name.ndjson",  # a name from a file system that is not UTF-8
)

#: libFuzzer dictionary: tokens of the formats, and values that broke readers before.
TOKENS = (
    '"type"', '"Feature"', '"FeatureCollection"', '"features"', '"properties"',
    '"geometry"', '"coordinates"', '"Point"', '"MultiPoint"', '"GeometryCollection"',
    '"geometries"', '"Polygon"', '"crs"', '"name"', '"id"', '"date"', '"description"',
    '"source"', '"actor1"', '"unit"', '"commodity"', '"location_note"', '"fatalities"',
    '"quantity"', '"location_precision_m"', '"date_precision_days"', '"clash"',
    '"seizure"', '"2025-03-16"', "36.38472", "34.39417", "NaN", "Infinity", "-Infinity",
    "1e400", "-0", "null", "true", "[]", "{}", "\\u0000", "\\ud800", "\\udc00", "\\u00e9",
    "\xef\xbb\xbf", "\r\n", "\x1e", "event_id_cnty", "event_type", "event_date",
    "sub_event_type", "latitude", "longitude", "geo_precision", "time_precision",
    "lat", "lon", "Battles", "SQLite format 3\x00", "PK\x03\x04", "\x89PNG",
    "urn:ogc:def:crs:EPSG::32637",
)  # fmt: skip


def _dictionary(path: Path) -> None:
    lines = []
    for token in TOKENS:
        escaped = "".join(
            f"\\x{b:02x}" if b < 0x20 or b > 0x7E or b in b'"\\' else chr(b)
            for b in token.encode("utf-8", "surrogatepass")
        )
        lines.append(f'"{escaped}"')
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


def _seed(corpus: Path) -> int:
    """Write the seed inputs (name byte + file bytes) into ``corpus``; return how many."""
    by_suffix = {Path(n).suffix: i for i, n in reversed(list(enumerate(NAMES)))}
    files = sorted((ROOT / "tests" / "data" / "bad").glob("*"))
    files += [ROOT / "data" / "sample_incidents.geojson", ROOT / "tests/data/acled_sample.csv"]
    count = 0
    for path in files:
        if path.name == "cases.json" or not path.is_file():
            continue
        data = path.read_bytes()
        if len(data) > 64_000:
            continue
        index = by_suffix.get(path.suffix, 0)
        (corpus / f"seed-{path.name}").write_bytes(bytes([index]) + data)
        count += 1
    return count


# --- the child: libFuzzer drives TestOneInput ----------------------------------------------


def _child(stats_path: Path, findings_dir: Path, libfuzzer_args: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["geo"]):
        import geo.ingest
        import geo.readers
        import geo.validation  # noqa: F401
        from geo.errors import BorderMonitorError
        from geo.ingest import validate_file

    import geopandas as gpd
    import shapely

    from layers.reference import ReferenceLayers

    border = ReferenceLayers.bundled().line
    stored = gpd.GeoDataFrame(
        {
            "id": ["S-1", "S-2"],
            "date": gpd.pd.to_datetime(["2025-03-16", "2025-03-17"]),
            "type": ["clash", "seizure"],
        },
        geometry=[shapely.Point(36.38472, 34.39417), shapely.Point(36.58029, 34.5078)],
        crs=4326,
    )
    state = {
        "executions": 0,
        "formats": {},
        "reasons": set(),
        "accepting_inputs": 0,
        "findings": {},
        "written": 0.0,
    }

    def write_stats(force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - state["written"] < 2.0:
            return
        state["written"] = now
        out = dict(state, reasons=len(state["reasons"]))
        out.pop("written")
        stats_path.write_text(json.dumps(out, indent=1), encoding="utf-8")

    def finding(key: str, data: bytes, text: str) -> None:
        entry = state["findings"].setdefault(key, {"count": 0, "file": None, "detail": text})
        entry["count"] += 1
        if entry["file"] is None:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", key)[:80]
            path = findings_dir / f"{len(state['findings']):03d}-{name}.bin"
            path.write_bytes(data)
            (path.with_suffix(".txt")).write_text(text, encoding="utf-8", errors="replace")
            entry["file"] = str(path)
        write_stats(force=True)

    def check(report) -> None:
        json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")
        report.to_text().encode("utf-8")
        for problem in report.problems:
            assert problem.reason and problem.fix, f"problem without reason or fix: {problem!r}"
        if not report.file_rejected:
            total = report.accepted_count + report.rejected_count
            assert total == report.feature_count, "accepted + rejected != features"
        for name in report.accepted.columns:
            if report.accepted[name].dtype == object or str(report.accepted[name].dtype) == "str":
                for value in report.accepted[name]:
                    if isinstance(value, str):
                        value.encode("utf-8")
                        assert "\x00" not in value, f"NUL accepted in {name}"

    def test_one_input(data: bytes) -> None:
        state["executions"] += 1
        name = NAMES[data[0] % len(NAMES)] if data else NAMES[0]
        body = data[1:]
        try:
            report = validate_file(body, filename=name, border=border, existing=stored)
            check(report)
        except BorderMonitorError:
            return  # not raised by validate_file, but one of ours would not be a finding
        except Exception as exc:
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/geo/" in f.filename]
            where = (
                f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "outside geo"
            )
            key = f"{type(exc).__name__} at {where}"
            if isinstance(exc, AssertionError | UnicodeEncodeError) and where == "outside geo":
                key = f"{type(exc).__name__}: " + re.sub(r"\d+", "#", str(exc))[:60]
            finding(key, data, f"file name {name!r}\n" + traceback.format_exc())
            return
        state["formats"][report.format or "unreadable"] = (
            state["formats"].get(report.format or "unreadable", 0) + 1
        )
        if report.accepted_count:
            state["accepting_inputs"] += 1
        for problem in report.problems:
            state["reasons"].add(re.sub(r"[-+]?\d[\d.,e+-]*", "#", problem.reason)[:120])
        write_stats()

    atheris.Setup([sys.argv[0], *libfuzzer_args], test_one_input)
    atheris.Fuzz()


# --- the parent: runs the child, reads libFuzzer's counters, prints the table --------------

_PROGRESS = re.compile(
    r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+).*?(?:exec/s: (\d+))?\s+rss: (\d+)Mb"
)


#: Lines of libFuzzer's output that report a timeout, an out-of-memory or a crash.
_LIBFUZZER_FINDINGS = ("ERROR: libFuzzer", "Test unit written to", "ALARM:")


def _run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="fuzz-ingest-"))
    corpus = Path(args.corpus) if args.corpus else work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    seeds = _seed(corpus)
    findings_dir = Path(args.findings) if args.findings else work / "findings"
    findings_dir.mkdir(parents=True, exist_ok=True)
    stats_path = work / "stats.json"
    dictionary = work / "ingest.dict"
    _dictionary(dictionary)
    libfuzzer = [
        f"-max_len={args.max_len}",
        f"-timeout={args.timeout}",
        f"-rss_limit_mb={args.rss_limit_mb}",
        f"-dict={dictionary}",
        "-print_final_stats=1",
        f"-seed={args.seed}",
        str(corpus),
    ]
    if args.runs:
        libfuzzer.insert(0, f"-runs={args.runs}")
    if args.seconds:
        libfuzzer.insert(0, f"-max_total_time={args.seconds}")
    command = [sys.executable, __file__, "--child", str(stats_path), str(findings_dir), "--"]
    print(f"fuzzing: {seeds} seed inputs, corpus {corpus}, findings {findings_dir}", flush=True)
    start = time.monotonic()
    last = {}
    final = {}
    libfuzzer_findings = []
    with subprocess.Popen(
        command + libfuzzer, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    ) as child:
        for line in child.stderr:
            if args.verbose:
                sys.stderr.write(line)
            match = _PROGRESS.match(line)
            if match:
                last = {
                    "units": int(match[1]),
                    "cov": int(match[2]),
                    "ft": int(match[3]),
                    "corpus": int(match[4]),
                    "rss_mb": int(match[7]),
                }
            elif line.startswith("stat::"):
                key, _, value = line[6:].partition(":")
                final[key.strip()] = value.strip()
            elif any(mark in line for mark in _LIBFUZZER_FINDINGS):
                libfuzzer_findings.append(line.strip())
    elapsed = time.monotonic() - start
    stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    executions = int(final.get("number_of_executed_units", stats.get("executions", 0)))
    findings = stats.get("findings", {})
    rows = [
        ("executions", f"{executions:,}"),
        ("time (s)", f"{elapsed:.0f}"),
        ("exec/s", f"{executions / elapsed:.0f}" if elapsed else "-"),
        ("coverage: edges (libFuzzer cov)", last.get("cov", "-")),
        ("coverage: features (libFuzzer ft)", last.get("ft", "-")),
        ("corpus units (seeds + new)", f"{last.get('corpus', '-')} ({seeds} seeds)"),
        ("peak RSS (MB)", final.get("peak_rss_mb", last.get("rss_mb", "-"))),
        ("formats reached", ", ".join(f"{k} {v:,}" for k, v in stats.get("formats", {}).items())),
        ("distinct problem messages", stats.get("reasons", "-")),
        ("inputs with accepted features", f"{stats.get('accepting_inputs', 0):,}"),
        ("findings (distinct)", len(findings) + len(libfuzzer_findings)),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"\n| {'metric'.ljust(width)} | value |\n|{'-' * (width + 2)}|-------|")
    for label, value in rows:
        print(f"| {label.ljust(width)} | {value} |")
    for key, entry in findings.items():
        print(f"\nfinding: {key} ({entry['count']} input(s)); first input {entry['file']}")
        print("  " + entry["detail"].strip().splitlines()[-1])
    for line in libfuzzer_findings:
        print(f"\nlibFuzzer: {line}")
    return 1 if findings or libfuzzer_findings else 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        stats, findings = Path(sys.argv[2]), Path(sys.argv[3])
        _child(stats, findings, sys.argv[5:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=0, help="stop after this many seconds")
    parser.add_argument("--runs", type=int, default=0, help="stop after this many executions")
    parser.add_argument("--corpus", help="corpus folder to grow (default: a temporary one)")
    parser.add_argument("--findings", help="folder for findings (default: a temporary one)")
    parser.add_argument("--max-len", type=int, default=16_384, help="largest input (bytes)")
    parser.add_argument("--timeout", type=int, default=20, help="seconds one input may take")
    parser.add_argument("--rss-limit-mb", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=1, help="libFuzzer's random seed")
    parser.add_argument("--verbose", action="store_true", help="show libFuzzer's output")
    args = parser.parse_args()
    if not args.seconds and not args.runs:
        args.seconds = 60
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
