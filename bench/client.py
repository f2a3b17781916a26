"""One poll of the seven cities through our client vs the article's serial loop (bench_client)."""

from __future__ import annotations

from bench import bench_client
from bench.harness import Figure, quick_main


def run(quick: bool) -> list[Figure]:
    figures = bench_client.run(repeats=3 if quick else 5, quiet=True)
    return bench_client.as_figures(figures)


def main(argv: list[str] | None = None) -> None:
    quick_main(run, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
