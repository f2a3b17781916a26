"""The article's design ("Real-time dashboard in Python", Sophia Yang, 2021) kept as the baseline.

Serve with `panel serve bench/article_app.py`. Kept as the article wrote it, on purpose: every
browser session builds its own streamz `PeriodicDataFrame` that polls the provider (nothing
stops it when the viewer leaves: it polls on until the destroyed session's frame is
garbage-collected), every Refresh or column change asks the provider again for
every city, one request after the other with no timeout, and a failed city breaks the frame.
Changes are only those the benchmarks need: URLs, key, cities, interval and tiles come from the
environment; the map is `hvplot.points(..., tiles=...)` because hvPlot now projects lon/lat
itself (the article used datashader's `lnglat_to_meters` and HoloViews' `EsriImagery`).
"""

from __future__ import annotations

import operator as op
import os

import holoviews as hv
import hvplot.pandas  # registers df.hvplot
import hvplot.streamz  # noqa: F401  (registers .hvplot on streamz frames, as in the article)
import pandas as pd
import panel as pn
import param
import requests
from streamz.dataframe import PeriodicDataFrame

pn.extension()

BASE_URL = os.environ.get("OPENWEATHER_BASE_URL", "https://api.openweathermap.org")
API_KEY = os.environ.get("OPENWEATHER_API_KEY", "")
ARTICLE_CITIES = (
    "San Francisco;Los Angeles;Santa Barbara;Sacramento;Fresno;San Diego;San Luis Obispo"
)
CITIES = [c.strip() for c in os.environ.get("WEATHER_CITIES", ARTICLE_CITIES).split(";")]
CITIES = [c for c in CITIES if c]
INTERVAL_S = float(os.environ.get("WEATHER_INTERVAL", "30"))
TILES = os.environ.get("ARTICLE_TILES", "EsriImagery")
COLUMNS = ["Temprature", "Humidity", "Wind Speed"]  # the article's spelling


def weather_data(cities, openweathermap_api_key=API_KEY):
    """Get weather data for a list of cities using the openweathermap API."""
    L = []
    for c in cities:
        res = requests.get(
            f"{BASE_URL}/data/2.5/weather",
            params={"q": c, "appid": openweathermap_api_key, "units": "imperial"},
        )
        L.append(res.json())
    df = pd.DataFrame(L)
    df["lon"] = df["coord"].map(op.itemgetter("lon"))
    df["lat"] = df["coord"].map(op.itemgetter("lat"))
    df["Temprature"] = df["main"].map(op.itemgetter("temp"))
    df["Humidity"] = df["main"].map(op.itemgetter("humidity"))
    df["Wind Speed"] = df["wind"].map(op.itemgetter("speed"))
    return df[["name", "lon", "lat", "Temprature", "Humidity", "Wind Speed"]]


def streaming_weather_data(**kwargs):
    """Callback of the streaming frame: the first city's weather (the article's San Francisco)."""
    df = weather_data(CITIES[:1])
    df["time"] = [pd.Timestamp.now()]
    return df.set_index("time")


# One streaming frame per session: this script runs once for every browser session.
df = PeriodicDataFrame(streaming_weather_data, interval=pd.Timedelta(seconds=INTERVAL_S))

pn_realtime = pn.Column(
    pn.Row(
        df[["Temprature"]].hvplot.line(title="Temprature", backlog=1000),
        df[["Humidity"]].hvplot.line(title="Humidity", backlog=1000),
    ),
    df[["Wind Speed"]].hvplot.line(title="Wind Speed", backlog=1000),
)


def weather_plot(col, cities=CITIES):
    """Plot weather data on a map, with a table of the same values."""
    df = weather_data(cities)
    table = hv.Table(df[["name", col]]).opts(width=800)
    tiles = None if TILES.lower() == "none" else TILES
    points = df.hvplot.points(
        "lon", "lat", c=col, cmap="bkr", hover_cols=["name"], tiles=tiles,
        tiles_opts={"alpha": 0.5}, width=900, height=480, bgcolor="white",
    )  # fmt: skip
    return pn.Column(points, table)


class refresh_weather_dashboard(param.Parameterized):  # the article's name
    action = param.Action(lambda x: x.param.trigger("action"), label="Refresh")
    select_column = param.ObjectSelector(default="Temprature", objects=COLUMNS)

    @param.depends("action", "select_column")
    def get_plot(self):
        return weather_plot(self.select_column)


weather_dashboard = refresh_weather_dashboard()

pn_weather = pn.Column(
    pn.panel(weather_dashboard.param, show_labels=True, show_name=False, margin=0),
    weather_dashboard.get_plot,
    width=400,
)

pn.Tabs(("Streaming", pn_realtime), ("Refresh", pn_weather)).servable()
