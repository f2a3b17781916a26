"""Shared pieces of the benchmarks: medians, result rows, and the Markdown and JSON report."""

from __future__ import annotations

import argparse
import json
import platform
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PACKAGES = ("panel", "bokeh", "holoviews", "hvplot", "streamz", "param", "pandas")


def median(xs: Iterable[float]) -> float:
    """Median of the measurements; raises ValueError when there are none."""
    values = list(xs)
    if not values:
        raise ValueError("median of no measurements")
    return statistics.median(values)


@dataclass(frozen=True)
class Figure:
    """One benchmark result: our dashboard's value next to the article baseline's."""

    name: str
    ours: float | None
    baseline: float | None
    unit: str
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """ours / baseline (below 1 means ours is smaller), None when it cannot be computed."""
        if self.ours is None or self.baseline in (None, 0):
            return None
        return self.ours / self.baseline

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"


def markdown_table(rows: Sequence[Figure]) -> str:
    lines = [
        "| Figure | Ours | Baseline | Unit | Ours / baseline | Note |",
        "|---|---:|---:|---|---:|---|",
    ]
    for row in rows:
        cells = [row.name, _fmt(row.ours), _fmt(row.baseline), row.unit, _fmt(row.ratio), row.note]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


#: The figures the README shows, in its order: each has a goal in an issue, but for the two
#: floor rows, which show how low the page-load figures can go on the machine at hand.
HEADLINES = (
    "poll / one request",
    "Refresh click to table, 7 cities",
    "Refresh click to table minus one round trip, 7 cities",
    "Refresh click to table, 30 cities",
    "first plot, warm server",
    "8 viewers at once: all show a plot",
    "floor, a one-plot Panel page: first plot, warm server",
    "floor, a one-plot Panel page: 8 viewers at once",
    "upstream polls per 2 s interval, 8 viewers",
    "RSS growth, cycle 3 vs cycle 1",
    "websocket bytes per update per session, 1,000 points per line",
    "line points received with tiles unreachable",
    "browser CPU of a page left open, polled every 2 s",
    "soak: polls lost or duplicated",
    "push, 100 sessions: updates within 1 s of the poll",
    "push, 100 sessions: p95 delay",
    "push, 200 sessions: updates within 1 s of the poll",
    "push, 200 sessions: time to open the sessions",
    "push, 200 sessions: RSS per session",
)
README_START = "<!-- bench-table:start -->"
README_END = "<!-- bench-table:end -->"


def headline_table(rows: Sequence[Figure], title: str) -> str:
    """The README's short table: the figures with goals, ours next to the article's."""
    by_name = {row.name: row for row in rows}
    lines = [title, "", "| Figure | Ours | Article's design | Unit | Ours / article |",
             "|---|---:|---:|---|---:|"]
    for name in HEADLINES:
        row = by_name.get(name)
        if row is not None:
            lines.append(f"| {name} | {_fmt(row.ours)} | {_fmt(row.baseline)} | {row.unit} | "
                         f"{_fmt(row.ratio)} |")
    return "\n".join(lines)


def replace_between_markers(path: Path, text: str) -> None:
    """Put ``text`` between the README markers of ``path``; raise if they are missing."""
    content = path.read_text()
    head, start, rest = content.partition(README_START)
    _, end, tail = rest.partition(README_END)
    if not start or not end:
        raise ValueError(f"{path} has no {README_START} ... {README_END} block")
    path.write_text(f"{head}{start}\n{text}\n{end}{tail}")


def print_table(rows: Sequence[Figure]) -> None:
    print(markdown_table(rows))


def quick_main(run: Callable[[bool], Sequence[Figure]], description: str,
               argv: list[str] | None = None) -> None:
    """The command line of a benchmark module with a ``--quick`` (one repetition, not 3)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="one repetition instead of 3")
    print_table(run(parser.parse_args(argv).quick))


def environment() -> dict[str, str]:
    """Versions the figures were measured with."""
    found = {"python": platform.python_version(), "machine": platform.machine()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "missing"
    return found


def write_results(
    rows: Sequence[Figure], json_path: str | Path, md_path: str | Path, title: str = "Benchmarks",
    notes: str = "",
) -> None:
    """Write the figures as JSON and as a Markdown table, with the versions measured.

    ``notes`` (Markdown) goes between the versions and the table, and into the JSON.
    """
    env = environment()
    measured_at = datetime.now(UTC).isoformat(timespec="seconds")
    json_path, md_path = Path(json_path), Path(md_path)
    for path in (json_path, md_path):
        path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "measured_at": measured_at,
        "environment": env,
        "notes": notes,
        "figures": [r.as_dict() for r in rows],
    }
    json_path.write_text(json.dumps(payload, indent=2) + "\n")
    versions = ", ".join(f"{k} {v}" for k, v in env.items())
    notes = f"{notes.strip()}\n\n" if notes.strip() else ""
    md_path.write_text(
        f"# {title}\n\nMeasured {measured_at} with {versions}.\n\n{notes}"
        f"{markdown_table(rows)}\n"
    )
