"""What a page's address asks for (kiosk, cities, units, tab, window, tz), read leniently.

A wall screen cannot be clicked, so everything it shows can be set in its address, e.g.
``?kiosk&theme=dark&cities=Fresno;San%20Diego&units=metric&tab=refresh&window=24h&tz=local``.
A value that cannot be used is left out with a note the page shows; it never stops the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from weather.models import UNITS

#: ``tab=`` values and the index of the tab each opens.
TABS = {"realtime": 0, "refresh": 1}
#: ``window=`` values and the Real Time tab's window each picks.
WINDOWS = {"1h": "1 h", "6h": "6 h", "24h": "24 h", "7d": "7 days",
           "30d": "30 days", "all": "All"}
#: ``tz=`` values and the clock each picks.
TIME_ZONES = {"utc": "UTC", "local": "local"}
#: Longest value read from the address; longer ones are ignored.
MAX_VALUE_LENGTH = 2000


@dataclass(frozen=True)
class AddressChoices:
    """What the address chose; None where it chose nothing (or nothing usable)."""

    kiosk: bool = False
    cities: tuple[str, ...] | None = None
    units: str | None = None
    tab: int | None = None
    window: str | None = None
    time_zone: str | None = None
    notes: tuple[str, ...] = field(default=())


def _text(args: Mapping[str, Sequence[bytes | str]], name: str) -> str | None:
    values = args.get(name)
    if not values:
        return None
    value = values[-1]
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return text.strip()


def read_address(args: Mapping[str, Sequence[bytes | str]],
                 known_cities: Sequence[str]) -> AddressChoices:
    """The choices in ``args`` (the query's arguments, as ``pn.state.session_args``).

    Cities must be among ``known_cities`` (the cities the server polls), matched ignoring
    case and spacing; names are separated by ``;``.
    """
    notes: list[str] = []
    kiosk = "kiosk" in args and (_text(args, "kiosk") or "").lower() not in ("0", "false", "no")

    def pick(name: str, allowed: Mapping[str, object] | Sequence[str]) -> str | None:
        text = _text(args, name)
        if text is None:
            return None
        if text.lower() in allowed:
            return text.lower()
        shown = text if len(text) <= 40 else text[:40] + "…"
        notes.append(f"{name}={shown} was ignored: use one of {', '.join(allowed)}.")
        return None

    units = pick("units", UNITS)
    tab_name = pick("tab", TABS)
    window_name = pick("window", WINDOWS)
    zone_name = pick("tz", TIME_ZONES)

    cities: tuple[str, ...] | None = None
    text = _text(args, "cities")
    if text is not None and len(text) > MAX_VALUE_LENGTH:
        notes.append("cities= was ignored: it is too long.")
    elif text is not None:
        by_key = {" ".join(c.casefold().split()): c for c in known_cities}
        wanted = [" ".join(n.split()) for n in text.split(";") if n.strip()]
        found = [by_key[n.casefold()] for n in wanted if n.casefold() in by_key]
        unknown = [n for n in wanted if n.casefold() not in by_key]
        if unknown:
            notes.append(f"Not among this server's cities, left out: {'; '.join(unknown)}.")
        if found:
            cities = tuple(dict.fromkeys(found))
        elif wanted:
            notes.append("No city of the address is known here: showing every city.")
    return AddressChoices(
        kiosk=kiosk, cities=cities, units=units,
        tab=TABS[tab_name] if tab_name else None,
        window=WINDOWS[window_name] if window_name else None,
        time_zone=TIME_ZONES[zone_name] if zone_name else None, notes=tuple(notes))
