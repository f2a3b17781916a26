"""The benchmark report: the README's short table is rewritten in place, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.harness import README_END, README_START, Figure, headline_table, replace_between_markers

ROWS = [
    Figure("Refresh click to table, 7 cities", 0.3, 1.5, "s"),
    Figure("not a headline", 1.0, 2.0, "s"),
    Figure("first plot, warm server", 2.0, None, "s"),
]


def test_headline_table_lists_only_headlines_with_their_ratio():
    """Test that the short table keeps the figures with goals, in order, with ours/article."""
    table = headline_table(ROWS, "Latest:")
    assert "| Refresh click to table, 7 cities | 0.3 | 1.5 | s | 0.2 |" in table
    assert "| first plot, warm server | 2 | n/a | s | n/a |" in table
    assert "not a headline" not in table


def test_the_block_between_the_markers_is_replaced_and_the_rest_kept(tmp_path: Path):
    """Test that a second run replaces the first run's table and leaves the text around it."""
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{README_START}\nold table\n{README_END}\nafter\n")
    replace_between_markers(readme, "first")
    replace_between_markers(readme, "second")
    assert readme.read_text() == f"before\n{README_START}\nsecond\n{README_END}\nafter\n"


def test_a_readme_without_markers_is_an_error_not_a_silent_skip(tmp_path: Path):
    """Test that a README that lost its markers makes the run say so."""
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n")
    with pytest.raises(ValueError, match="bench-table"):
        replace_between_markers(readme, "table")
