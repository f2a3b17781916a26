"""Times on the Real Time plots on the viewer's clock: UTC, or the browser's own zone.

Bokeh draws time axes and hover times in UTC. For the browser's zone the browser formats
them itself (``Intl.DateTimeFormat``), so daylight saving time and the zone's name are its
own; the data stays UTC and is shared by every viewer whatever their zone.
"""

from __future__ import annotations

from bokeh.models import CustomJSHover, CustomJSTickFormatter, DatetimeTickFormatter, TickFormatter

#: Tick labels in the browser's zone: hours and minutes within two days, then dates.
LOCAL_TICKS_JS = """
const span = ticks.length > 1 ? ticks[ticks.length - 1] - ticks[0] : 0;
const day = 86400000;
const parts = span > 3 * day ? {month: 'short', day: 'numeric'}
  : span > day / 2 ? {month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
                      hourCycle: 'h23'}
  : {hour: '2-digit', minute: '2-digit', hourCycle: 'h23'};
return new Intl.DateTimeFormat(undefined, parts).format(new Date(tick));
"""
#: A hover time in the browser's zone, as ``YYYY-MM-DD HH:MM`` like the UTC one.
LOCAL_HOVER_JS = """
const d = new Date(value);
const two = (n) => String(n).padStart(2, '0');
return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
       `${two(d.getHours())}:${two(d.getMinutes())}`;
"""


def tick_formatter(time_zone: str) -> TickFormatter:
    """The time axis's labels for ``time_zone`` ("UTC" or "local")."""
    if time_zone == "local":
        return CustomJSTickFormatter(code=LOCAL_TICKS_JS)
    return DatetimeTickFormatter()


def hover_time(field: str, time_zone: str) -> tuple[str, object]:
    """A hover tool's text for the time in ``field`` ("@time", "$x") and its formatter."""
    if time_zone == "local":
        return f"{field}{{custom}}", CustomJSHover(code=LOCAL_HOVER_JS)
    return f"{field}{{%F %H:%M}}", "datetime"
