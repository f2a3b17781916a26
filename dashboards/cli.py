"""`weather-dashboard`: serve the installed dashboard with `panel serve`, settings checked first."""

from __future__ import annotations

import sys
from pathlib import Path

from dashboards.config import AppConfig
from weather.errors import ConfigError

APP = Path(__file__).with_name("app.py")
#: Run by `panel serve --setup` in each process as it starts: the feed polls with no viewer.
ON_START = Path(__file__).parent / "server" / "on_start.py"


def main(argv: list[str] | None = None) -> int:
    """Check the settings, then hand over to `panel serve` with any extra arguments."""
    args = sys.argv[1:] if argv is None else argv
    try:
        AppConfig.from_env()
    except ConfigError as exc:
        print(f"weather-dashboard: {exc}", file=sys.stderr)
        return 2
    from panel.command import main as panel_main

    # `panel serve` reads its arguments from sys.argv.
    sys.argv = ["panel", "serve", str(APP), "--setup", str(ON_START), *args]
    panel_main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
