"""A plain-text progress bar for the terminal (stderr), with no dependency."""

from __future__ import annotations

import sys
from typing import TextIO


class ProgressBar:
    """``label [#####.....]  50%  1,000/2,000 rows``, redrawn in place on a terminal.

    Elsewhere (a log file, a pipe) it writes one line per ``step_pct`` percent instead.
    """

    def __init__(self, label: str, *, stream: TextIO | None = None, width: int = 30,
                 step_pct: int = 10) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.step_pct = step_pct
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._shown: int | None = None

    def line(self, done: int, total: int) -> str:
        """The bar for ``done`` of ``total`` (0 total: full)."""
        fraction = 1.0 if total <= 0 else min(1.0, done / total)
        filled = round(fraction * self.width)
        return (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                f"{fraction:4.0%}  {done:,}/{total:,} rows")

    def __call__(self, done: int, total: int) -> None:
        pct = 100 if total <= 0 else int(100 * min(done, total) / total)
        shown = pct if self.interactive else pct // self.step_pct * self.step_pct
        if shown == self._shown:
            return
        self._shown = shown
        end = "" if self.interactive else "\n"
        start = "\r" if self.interactive else ""
        self.stream.write(f"{start}{self.line(done, total)}{end}")
        self.stream.flush()

    def close(self) -> None:
        """End the line on a terminal."""
        if self.interactive and self._shown is not None:
            self.stream.write("\n")
            self.stream.flush()
        self._shown = None
