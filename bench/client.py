"""One poll of the seven cities through our client vs the article's serial loop (bench_client)."""

from __future__ import annotations

from bench import bench_client
from bench.harness import Figure


def run(quick: bool) -> list[Figure]:
    figures = bench_client.run(repeats=3 if quick else 5, quiet=True)
    return bench_client.as_figures(figures)
