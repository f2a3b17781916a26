"""Run every benchmark, ours against the article's design, and write the report.

    python -m bench.run [--quick] [--only NAME,...] [--out bench/results]

Everything talks to 127.0.0.1 only: a fake provider server with 150 ms latency per request,
both designs served by `panel serve`, offline headless Chromium. Benchmarks that time things
run one at a time; those that count requests or bytes then run side by side, then the
memory cycles alone, and the soak beside all of those in its own low-priority process. The
table goes to stdout, ``<out>/latest.json`` and ``<out>/latest.md``; a full run (no
``--quick``, no ``--only``) also refreshes the committed copy ``bench/RESULTS.md`` and the
README's short table. An interrupted run (Ctrl-C, SIGTERM) stops its servers and still
writes the figures it has.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from bench.apps import stop_everything
from bench.harness import (
    Figure,
    headline_table,
    print_table,
    replace_between_markers,
    write_results,
)

#: Timed benchmarks, one at a time, in this order; each is the module ``bench.<name>``.
TIMED = ("client", "forecast", "refresh", "page_load", "tiles", "idle_page", "backfill",
         "long_history", "push", "scaleout")
#: Run only when named in ``--only``: a full run stays within 15 minutes without them.
ON_REQUEST = ("scaleout",)
#: Counting benchmarks after the timed ones: each group side by side, the groups in turn.
#: Memory goes last, on its own: beside the browsers of the others it opened only about
#: two thirds of its sessions per cycle in its time budget.
COUNTED = (("upstream", "websocket"), ("memory",))
#: Runs beside the counting benchmarks, in its own low-priority process (see bench.soak).
BACKGROUND = "soak"
#: Run in their ``--quick`` form even in a full run, which then stays within 15 minutes; each
#: gives its full figures when run alone (``python -m bench.<name>``).
HEAVY = ("long_history", "push", "scaleout", "memory")
#: A full run rewrites ``bench/RESULTS.md`` down to its first section of this level: the
#: sections after it hold figures of benchmarks run alone, and are kept.
KEPT_SECTION = "\n## "
ALL = (*TIMED, *(n for group in COUNTED for n in group), BACKGROUND)
RESULTS_MD = Path(__file__).with_name("RESULTS.md")
README = Path(__file__).resolve().parent.parent / "README.md"
COUNTED_TIMEOUT_S = 900.0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and polls")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(ALL)}")
    parser.add_argument("--out", default="bench/results", help="folder for latest.json/.md")
    args = parser.parse_args(argv)
    args.names = ([n.strip() for n in args.only.split(",") if n.strip()]
                  or [n for n in ALL if n not in ON_REQUEST])
    unknown = sorted(set(args.names) - set(ALL))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(ALL)}")
    return args


class Runner:
    """Runs benchmark modules and keeps their figures in the order of ``ALL``."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.results: dict[str, list[Figure]] = {}
        self.failed: list[str] = []
        self.started = time.monotonic()

    def log(self, text: str) -> None:
        print(f"[bench {time.monotonic() - self.started:5.0f} s] {text}", file=sys.stderr,
              flush=True)

    def run(self, name: str) -> None:
        t0 = time.monotonic()
        self.log(f"{name} ...")
        try:
            module = importlib.import_module(f"bench.{name}")
            self.results[name] = module.run(self.quick or name in HEAVY)
        except Exception:
            self.failed.append(name)
            traceback.print_exc()
        self.log(f"{name} done in {time.monotonic() - t0:.0f} s")

    def run_side_by_side(self, names: list[str]) -> None:
        threads = [threading.Thread(target=self.run, args=(n,), daemon=True) for n in names]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + COUNTED_TIMEOUT_S
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.failed.extend(n for n, t in zip(names, threads, strict=True) if t.is_alive())

    def figures(self) -> list[Figure]:
        return [f for name in ALL for f in self.results.get(name, [])]


def _notes(load_at_start: float) -> str:
    """How the figures were made, and how busy the machine was while they were."""
    return (
        "Both designs run here against a fake OpenWeather / Open-Meteo server on 127.0.0.1 "
        "that answers every request after 150 ms, in headless Chromium with outside hosts "
        "blocked. *Ours / baseline* below 1 means ours is smaller: faster, fewer requests, "
        "fewer bytes. Each figure's note says how it was measured; the module docstrings in "
        "`bench/` say more.\n\n"
        f"Machine: {os.cpu_count()} cores, load average {load_at_start:.1f} at the start and "
        f"{os.getloadavg()[0]:.1f} at the end of the run. Other work shares the machine: "
        "absolute times grow with the load, so compare the two columns of one run."
    )


def _kept_sections(path: Path) -> str:
    """The sections of ``path`` that a full run keeps (figures of benchmarks run alone)."""
    text = path.read_text() if path.exists() else ""
    start = text.find(KEPT_SECTION)
    return text[start:] if start >= 0 else ""


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    # A plain SIGTERM would skip the clean-up below and leave servers running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    runner = Runner(args.quick)
    load_at_start = os.getloadavg()[0]
    interrupted = False
    soak = None
    try:
        for name in (n for n in TIMED if n in args.names):
            runner.run(name)
        # After the timed benchmarks: even at low priority it took CPU from their servers.
        if BACKGROUND in args.names:
            from bench import soak as soak_module

            soak = soak_module.start(args.quick)
        for group in COUNTED:
            runner.run_side_by_side([n for n in group if n in args.names])
        if soak is not None:
            runner.log("waiting for the soak ...")
            try:
                runner.results[BACKGROUND] = soak.finish()
            except Exception:
                runner.failed.append(BACKGROUND)
                traceback.print_exc()
    except (KeyboardInterrupt, SystemExit):
        interrupted = True
        runner.log("interrupted: stopping servers, writing the figures measured so far")
    finally:
        if soak is not None:
            soak.stop()
        stop_everything()
    elapsed_s = time.monotonic() - runner.started
    figures = runner.figures()
    mode = "quick" if args.quick else "full"
    title = f"Benchmarks: ours vs the article's design ({mode} run, {elapsed_s:.0f} s)"
    print_table(figures)
    out = Path(args.out)
    notes = _notes(load_at_start)
    write_results(figures, out / "latest.json", out / "latest.md", title=title, notes=notes)
    complete = not (args.quick or interrupted or runner.failed) and set(args.names) >= (
        set(ALL) - set(ON_REQUEST))
    if complete:
        kept = _kept_sections(RESULTS_MD)
        write_results(figures, out / "latest.json", RESULTS_MD, title=title, notes=notes)
        if kept:
            with RESULTS_MD.open("a") as results_md:
                results_md.write(kept)
        when = time.strftime("%Y-%m-%d", time.gmtime())
        replace_between_markers(README, headline_table(
            figures, f"Latest full run ({when}, {elapsed_s:.0f} s, {os.cpu_count()} cores):"))
    failed = ", ".join(runner.failed) or "none"
    runner.log(f"{len(figures)} figures in {elapsed_s:.0f} s; failed: {failed}"
               + ("; bench/RESULTS.md and README.md updated" if complete else ""))
    return 1 if runner.failed or interrupted else 0


if __name__ == "__main__":
    raise SystemExit(main())
