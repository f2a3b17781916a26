"""`weather-dashboard` subcommands: serve (and the bare command), backfill and export, run as
the command a user types, against the fake provider server, real SQLite files and a real
PostgreSQL server."""

from __future__ import annotations

import csv
import io
import math
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from dashboards.progress import ProgressBar
from dashboards.server import raw_rows
from dashboards.server.backfill import backfill
from dashboards.server.export import (
    export_bytes,
    export_filename,
    parquet_available,
    safe_part,
)
from dashboards.server.history import History, observations_frame
from dashboards.server.store import open_store
from testing.provider_server import ProviderServer
from testing.served import REPO_ROOT, free_port, http_status, wait_until
from weather.cities import CALIFORNIA_CITIES
from weather.models import Observation
from weather.providers import DemoProvider
from weather.units import c_to_f, ms_to_mph

HOSTILE = ("<img src=x onerror=alert(1)>", "../../etc/passwd", "..", "a/b\\c", "\x00 nul",
           "São Paulo", "名古屋", 'x"; rm -rf /', "CON")


def run_cli(*args: str, env: dict[str, str] | None = None, cwd=None,
            timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `python -m dashboards.cli ARGS` with only our settings in the environment."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("WEATHER_", "OPENWEATHER_", "OPEN_METEO_", "GEOCODING_"))
            and "proxy" not in k.lower()}
    base["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run([sys.executable, "-m", "dashboards.cli", *args],
                          env={**base, **(env or {})}, cwd=cwd or REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout_s)


def stored(db_path) -> int:
    if not os.path.exists(db_path):
        return 0
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT COUNT(*) FROM observations").fetchone()[0]


@pytest.fixture
def server():
    with ProviderServer() as srv:
        yield srv


def open_meteo_env(server, db_path) -> dict[str, str]:
    return {"WEATHER_PROVIDER": "open-meteo", "OPEN_METEO_BASE_URL": server.url,
            "GEOCODING_BASE_URL": server.url, "WEATHER_DB": str(db_path)}


# -- serve -------------------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", [[], ["serve"]], ids=["bare", "serve"])
def test_bare_command_and_serve_both_serve_the_app(tmp_path, prefix):
    """Test that `weather-dashboard --port P` still serves, and `serve --port P` does too."""
    port = free_port()
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("WEATHER_") and "proxy" not in k.lower()}
    env = {**base, "WEATHER_DB": str(tmp_path / "h.sqlite3"), "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboards.cli", *prefix, "--port", str(port), "--address",
         "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}"],
        env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(lambda: proc.poll() is None and http_status(
            f"http://127.0.0.1:{port}/app", timeout_s=60) == 200, timeout_s=120,
            message="the served app to answer 200")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(20)


def test_help_lists_the_subcommands():
    """Test that --help names serve, backfill and export, and the 1..92 day limit."""
    result = run_cli("--help")
    assert result.returncode == 0
    for word in ("serve", "backfill", "export", "1..92"):
        assert word in result.stdout


# -- backfill ----------------------------------------------------------------------------------
def test_backfill_from_open_meteo_is_one_request_and_idempotent(server, tmp_path):
    """Test a 5-day backfill of 7 cities: one request, every past hour stored, twice = once."""
    db_path = tmp_path / "h.sqlite3"
    env = open_meteo_env(server, db_path)
    first = run_cli("backfill", "--days", "5", env=env)
    assert first.returncode == 0, first.stderr
    assert server.count("/v1/forecast") == 1
    assert stored(db_path) == 7 * 5 * 24
    assert "840 new" in first.stderr and "100%" in first.stderr  # the progress bar ended
    again = run_cli("backfill", "--days", "5", env=env)
    assert again.returncode == 0, again.stderr
    assert stored(db_path) == 7 * 5 * 24
    assert "0 new, 840 already stored" in again.stderr
    with sqlite3.connect(db_path) as db:
        cities = {c for (c,) in db.execute("SELECT DISTINCT city FROM observations")}
        newest_ms = db.execute("SELECT MAX(time_ms) FROM observations").fetchone()[0]
    assert cities == set(CALIFORNIA_CITIES)
    assert newest_ms < server.clock() * 1000  # nothing from the future


def test_backfill_of_the_demo_provider_at_the_poll_interval(tmp_path):
    """Test that the demo backfill stores one simulated row per WEATHER_INTERVAL per city."""
    db_path = tmp_path / "h.sqlite3"
    env = {"WEATHER_DB": str(db_path), "WEATHER_INTERVAL": "600",
           "WEATHER_CITIES": "Fresno;Tokyo"}
    result = run_cli("backfill", "--days", "2", env=env)
    assert result.returncode == 0, result.stderr
    # 2 days of 10-minute steps: 288 per city.
    assert stored(db_path) == 2 * 288
    with sqlite3.connect(db_path) as db:
        steps = {t % 600_000 for (t,) in db.execute("SELECT time_ms FROM observations")}
    assert steps == {0}


@pytest.mark.parametrize("days", ["0", "10000", "93", "-1", "seven", "2.5"])
def test_backfill_days_out_of_range_is_one_line_naming_the_limit(tmp_path, days):
    """Test that 0 or 10,000 days exits 2 with one line naming 1..92, and writes nothing."""
    db_path = tmp_path / "h.sqlite3"
    result = run_cli("backfill", "--days", days, env={"WEATHER_DB": str(db_path)})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"weather-dashboard: backfill --days must be a whole number from 1 to "
                     f"92, got {days!r}"]
    assert not db_path.exists()


@pytest.mark.parametrize(("fault", "said"), [("503", "answered HTTP 503"),
                                            ("429", "rate limit"),
                                            ("malformed", "not valid JSON")])
def test_provider_errors_write_nothing(server, tmp_path, fault, said):
    """Test that a backfill answered with errors says why, exits 1, and stores no row."""
    db_path = tmp_path / "h.sqlite3"
    server.set_fault(fault)
    result = run_cli("backfill", "--days", "3", env=open_meteo_env(server, db_path))
    assert result.returncode == 1
    assert "backfill failed, nothing was written" in result.stderr and said in result.stderr
    assert "Traceback" not in result.stderr
    assert stored(db_path) == 0


def test_openweather_backfill_says_the_free_tier_has_no_history(server, tmp_path):
    """Test that OpenWeather's backfill is refused in words, without a request or the key."""
    db_path = tmp_path / "h.sqlite3"
    result = run_cli("backfill", "--days", "3", env={
        "OPENWEATHER_API_KEY": "SECRET-KEY-123", "OPENWEATHER_BASE_URL": server.url,
        "WEATHER_DB": str(db_path)})
    assert result.returncode == 1
    assert "free tier has no past observations" in result.stderr
    assert "SECRET-KEY-123" not in result.stderr + result.stdout
    assert server.count() == 0 and stored(db_path) == 0


def test_backfill_into_memory_is_refused(tmp_path):
    """Test that WEATHER_DB=:memory: is named as the reason there is nothing to fill."""
    result = run_cli("backfill", "--days", "1", env={"WEATHER_DB": ":memory:"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "weather-dashboard: WEATHER_DB is ':memory:', a history kept by no file: there is "
        "nothing to backfill into"]


def test_backfill_does_not_block_the_servers_writes(tmp_path):
    """Test that while a large backfill writes, the server's history writes keep succeeding."""
    db_path = str(tmp_path / "h.sqlite3")
    history = History(db_path)  # the server's: its writes wait 1 s for the lock
    now_s = datetime.now(UTC).timestamp()
    done = threading.Event()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["result"] = backfill(DemoProvider(), list(CALIFORNIA_CITIES), 8, db_path,
                                         step_s=30, now_s=now_s - 3600)
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    polls, errors = 0, []
    while not done.is_set() or polls < 3:
        t = datetime.now(UTC) + timedelta(seconds=polls)
        history.add(observations_frame([Observation("Live", 1, 2, t, 10, 50, 2, "demo")]))
        polls += 1
        if history.db_error:
            errors.append(history.db_error)
    thread.join()
    assert "error" not in outcome, outcome
    assert errors == []
    with sqlite3.connect(db_path) as db:
        live = db.execute("SELECT COUNT(*) FROM observations WHERE city='Live'").fetchone()[0]
    assert live == polls
    assert stored(db_path) == polls + outcome["result"].added  # type: ignore[union-attr]
    history.close()


def test_an_interrupted_backfill_leaves_whole_batches_and_a_rerun_completes_it(tmp_path):
    """Test that Ctrl-C mid-backfill is one line, exit 130, whole batches, and a second run
    adds exactly the rest."""
    db_path = tmp_path / "h.sqlite3"
    base = {k: v for k, v in os.environ.items()
            if not k.startswith("WEATHER_") and "proxy" not in k.lower()}
    # 92 days of 7 cities every 5 minutes: 185,472 rows, 37 batches.
    env = {**base, "WEATHER_DB": str(db_path), "PYTHONPATH": str(REPO_ROOT),
           "PYTHONUNBUFFERED": "1", "WEATHER_INTERVAL": "300"}
    proc = subprocess.Popen([sys.executable, "-m", "dashboards.cli", "backfill", "--days", "92"],
                            env=env, cwd=REPO_ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # wait for the first written batch
            lines.append(line)
            if "backfill [" in line and " 0/" not in line:
                break
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(20)
    assert proc.returncode == 130, "".join(lines) + rest
    assert rest.strip().splitlines()[-1] == (
        "weather-dashboard: backfill interrupted; the rows written so far are whole batches, "
        "and running it again adds the rest")
    assert "Traceback" not in rest
    written = stored(db_path)
    assert written > 0 and written % raw_rows.BATCH_ROWS == 0
    # Run again: it skips what is there and leaves every row of its window stored.
    now_s = time.time()
    rerun = backfill(DemoProvider(), list(CALIFORNIA_CITIES), 92, db_path, step_s=300,
                     now_s=now_s)
    assert rerun.added < rerun.fetched == 7 * 92 * 288
    assert 0 < rerun.fetched - rerun.added <= written
    first_ms = math.ceil((now_s - 92 * 86_400) / 300) * 300 * 1000
    with sqlite3.connect(db_path) as db:
        in_window = db.execute("SELECT COUNT(*) FROM observations WHERE time_ms >= ?",
                               (first_ms,)).fetchone()[0]
    assert in_window == rerun.fetched


def test_backfill_calls_progress_up_to_the_total(tmp_path):
    """Test that progress goes from 0 to the total in batch steps."""
    seen = []
    result = backfill(DemoProvider(), ["Fresno"], 1, tmp_path / "h.sqlite3", step_s=60,
                      batch_rows=500, progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, result.fetched) and seen[-1] == (result.fetched, result.fetched)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) == 4


def test_progress_bar_is_text_on_stderr():
    """Test the bar's text: one line per 10% off a terminal, done/total with thousands."""
    out = io.StringIO()
    bar = ProgressBar("backfill", stream=out, width=10)
    for done in range(0, 20_001, 1_000):
        bar(done, 20_000)
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[-1] == "backfill [##########] 100%  20,000/20,000 rows"
    assert lines[5].startswith("backfill [#####.....]  50%")


# -- export ------------------------------------------------------------------------------------
@pytest.fixture
def filled_db(tmp_path):
    """A history of 2 days of 3 cities every 10 minutes, made by a real backfill."""
    db_path = tmp_path / "h.sqlite3"
    backfill(DemoProvider(), ["Fresno", "Tokyo", "São Paulo"], 2, db_path, step_s=600,
             now_s=datetime(2026, 11, 20, 12, tzinfo=UTC).timestamp())
    return db_path


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_export_csv_holds_every_stored_row_raw(filled_db, tmp_path):
    """Test that `export` writes each stored row once, values as stored, oldest first."""
    out = tmp_path / "all.csv"
    result = run_cli("export", "--output", str(out), env={"WEATHER_DB": str(filled_db)})
    assert result.returncode == 0, result.stderr
    rows = read_csv(out)
    with sqlite3.connect(filled_db) as db:
        expected = db.execute("SELECT city, time_ms, temperature, humidity, wind_speed "
                              "FROM observations ORDER BY time_ms, city").fetchall()
    assert len(rows) == len(expected) == 3 * 288
    assert list(rows[0]) == ["city", "time", "lat", "lon", "temperature_c", "humidity_pct",
                             "wind_speed_ms", "provider"]
    for row, (city, time_ms, temperature, humidity, wind) in zip(rows, expected, strict=True):
        assert row["city"] == city
        parsed = datetime.fromisoformat(row["time"].replace("Z", "+00:00"))
        assert parsed.timestamp() * 1000 == time_ms
        assert (float(row["temperature_c"]), float(row["humidity_pct"]),
                float(row["wind_speed_ms"])) == (temperature, humidity, wind)


def test_export_filters_cities_and_since_and_converts_units(filled_db, tmp_path):
    """Test --cities, --since and --units imperial (°F, mph in values and column names)."""
    out = tmp_path / "some.csv"
    result = run_cli("export", "--output", str(out), "--cities", "Tokyo;São Paulo",
                     "--since", "2026-11-19T12:00", "--units", "imperial",
                     env={"WEATHER_DB": str(filled_db)})
    assert result.returncode == 0, result.stderr
    rows = read_csv(out)
    assert {r["city"] for r in rows} == {"Tokyo", "São Paulo"}
    assert len(rows) == 2 * 144
    assert min(r["time"] for r in rows) == "2026-11-19T12:00:00.000000Z"
    with sqlite3.connect(filled_db) as db:
        temperature, wind = db.execute(
            "SELECT temperature, wind_speed FROM observations WHERE city='Tokyo' "
            "ORDER BY time_ms LIMIT 1 OFFSET 144").fetchone()
    tokyo = next(r for r in rows if r["city"] == "Tokyo")
    assert float(tokyo["temperature_f"]) == pytest.approx(c_to_f(temperature))
    assert float(tokyo["wind_speed_mph"]) == pytest.approx(ms_to_mph(wind))


def test_export_default_name_says_what_it_holds(filled_db, tmp_path):
    """Test that without --output the file is named from cities, window and units, here."""
    work = tmp_path / "work"
    work.mkdir()
    result = run_cli("export", "--cities", "São Paulo", "--since", "2026-11-20",
                     env={"WEATHER_DB": str(filled_db)}, cwd=work)
    assert result.returncode == 0, result.stderr
    name = "weather_Sao-Paulo_2026-11-20T0000Z-now_metric.csv"
    assert [p.name for p in work.iterdir()] == [name]
    assert len(read_csv(work / name)) == 72


def test_export_to_stdout(filled_db):
    """Test that --output - writes the CSV to stdout."""
    result = run_cli("export", "--output", "-", "--cities", "Fresno",
                     env={"WEATHER_DB": str(filled_db)})
    assert result.returncode == 0, result.stderr
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 288


def test_export_bad_input_is_one_line(tmp_path, filled_db):
    """Test that a missing history and an unreadable --since are one clear line each."""
    missing = run_cli("export", env={"WEATHER_DB": str(tmp_path / "none.sqlite3")})
    assert missing.returncode == 2 and "no history to export" in missing.stderr
    assert not (tmp_path / "none.sqlite3").exists()
    since = run_cli("export", "--since", "last tuesday", env={"WEATHER_DB": str(filled_db)})
    assert since.returncode == 2
    assert since.stderr.strip().splitlines() == [
        "weather-dashboard: export --since must be a date, a time (ISO 8601) or an age like "
        "30d or 12h, got 'last tuesday'"]


@pytest.mark.skipif(not parquet_available(),
                    reason="needs pyarrow: pip install 'realtime-weather-dashboard[parquet]'")
def test_export_parquet_reads_back_the_same_rows(filled_db, tmp_path):
    """Test that the Parquet export holds the same rows and values as the CSV export."""
    import pyarrow.parquet as pq

    parquet_out, csv_out = tmp_path / "h.parquet", tmp_path / "h.csv"
    env = {"WEATHER_DB": str(filled_db)}
    assert run_cli("export", "--format", "parquet", "--output", str(parquet_out),
                   env=env).returncode == 0
    assert run_cli("export", "--output", str(csv_out), env=env).returncode == 0
    table = pq.read_table(parquet_out).to_pandas()
    rows = read_csv(csv_out)
    assert len(table) == len(rows) == 3 * 288
    assert list(table["city"]) == [r["city"] for r in rows]
    assert list(table["temperature_c"]) == [float(r["temperature_c"]) for r in rows]
    assert str(table["time"].dt.tz) == "UTC"


def test_export_parquet_without_pyarrow_says_how_to_install(filled_db, tmp_path):
    """Test that Parquet without pyarrow is one line naming the extra, and no file."""
    out = tmp_path / "h.parquet"
    code = ("import sys; sys.modules['pyarrow'] = None; sys.modules['pyarrow.parquet'] = None; "
            "from dashboards.cli import main; "
            f"raise SystemExit(main(['export', '--format', 'parquet', '--output', {str(out)!r}]))")
    base = {k: v for k, v in os.environ.items() if not k.startswith("WEATHER_")}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120,
                            env={**base, "WEATHER_DB": str(filled_db),
                                 "PYTHONPATH": str(REPO_ROOT)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "weather-dashboard: Parquet export needs pyarrow, which is not installed: "
        "pip install 'realtime-weather-dashboard[parquet]' (or pip install pyarrow); "
        "or export --format csv"]
    assert not out.exists()


def test_backfill_and_export_on_postgresql(server, postgres_url, tmp_path):
    """Test `backfill` twice then `export` with WEATHER_DB=postgresql://...: every past hour
    once, nothing added by the second run, and the export holds this provider's rows only."""
    env = open_meteo_env(server, postgres_url)
    first = run_cli("backfill", "--days", "2", env=env)
    assert first.returncode == 0, first.stderr
    assert "336 new" in first.stderr and "100%" in first.stderr
    again = run_cli("backfill", "--days", "2", env=env)
    assert again.returncode == 0, again.stderr
    assert "0 new, 336 already stored" in again.stderr
    store = open_store(postgres_url)
    assert store.count("open-meteo") == 7 * 2 * 24
    # A demo run on the same database: its rows stay out of the live export.
    store.insert([("demo", "Fresno", 1_000 * 60 * m, 1.0, 2.0, 99.0, 50.0, 2.0)
                  for m in range(5)])
    expected = [r for c in store.rows_between("open-meteo", None, None) for r in c]
    store.close()
    out = tmp_path / "pg.csv"
    result = run_cli("export", "--output", str(out), env=env)
    assert result.returncode == 0, result.stderr
    rows = read_csv(out)
    assert len(rows) == len(expected) == 336 and {r["provider"] for r in rows} == {"open-meteo"}
    for got, (_, city, time_ms, *_rest, temperature, _humidity, _wind) in zip(
            rows, expected, strict=True):
        assert got["city"] == city and float(got["temperature_c"]) == temperature
        parsed = datetime.fromisoformat(got["time"].replace("Z", "+00:00"))
        assert parsed.timestamp() * 1000 == time_ms


def test_export_keeps_to_the_running_provider(filled_db, tmp_path):
    """Test that a live export of a file the demo also wrote holds the live rows only."""
    store = open_store(str(filled_db))
    store.insert([("open-meteo", "Fresno", 1_000 * 3_600 * h, 1.0, 2.0, 20.0 + h, 50.0, 2.0)
                  for h in range(4)])
    store.close()
    out = tmp_path / "live.csv"
    result = run_cli("export", "--output", str(out), env={
        "WEATHER_DB": str(filled_db), "WEATHER_PROVIDER": "open-meteo"})
    assert result.returncode == 0, result.stderr
    assert [float(r["temperature_c"]) for r in read_csv(out)] == [20.0, 21.0, 22.0, 23.0]
    demo = run_cli("export", "--output", "-", env={"WEATHER_DB": str(filled_db)})
    assert len(list(csv.DictReader(io.StringIO(demo.stdout)))) == 3 * 288


# -- safe file names ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", HOSTILE)
def test_export_filename_is_safe_from_hostile_city_names(name):
    """Test that markup, path separators, dots and control characters never reach the name."""
    filename = export_filename([name], None, None, "imperial", "csv")
    assert set(filename) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789_-.")
    assert "/" not in filename and "\\" not in filename and ".." not in filename
    assert "<" not in filename and ">" not in filename and not filename.startswith(".")
    assert filename.startswith("weather_") and filename.endswith("_all_imperial.csv")
    assert len(filename) <= 120


def test_export_filename_examples():
    """Test the names: cities, window in UTC, units, format; many cities are counted."""
    start = datetime(2026, 11, 6, tzinfo=UTC)
    end = datetime(2026, 12, 6, 12, 30, tzinfo=UTC)
    assert export_filename(["<img src=x onerror=alert(1)>", "../../etc/passwd"], start, end,
                           "metric", "parquet") == \
        "weather_img-src-x-onerror-alert-1_etc-passwd_2026-11-06T0000Z-2026-12-06T1230Z_" \
        "metric.parquet"
    assert export_filename(list(CALIFORNIA_CITIES), start, None) == \
        "weather_7-cities_2026-11-06T0000Z-now_metric.csv"
    assert export_filename(None) == "weather_all-cities_all_metric.csv"
    assert safe_part("São Paulo") == "Sao-Paulo" and safe_part("名古屋") == "city"
    with pytest.raises(ValueError, match="csv, parquet"):
        export_filename(["Fresno"], fmt="xlsx")


def test_rows_frame_of_the_store_is_what_export_reads(filled_db):
    """Test that the store's range chunks add up to the stored rows, in time order."""
    store = open_store(str(filled_db))
    chunks = list(raw_rows.frames(store.rows_between("demo", None, None, chunk_rows=100)))
    store.close()
    assert sum(len(c) for c in chunks) == 3 * 288 and all(len(c) <= 100 for c in chunks)
    times = [t for c in chunks for t in c["time"]]
    assert times == sorted(times)


def test_export_bytes_for_a_download_holds_the_rows(filled_db):
    """Test the in-memory export a view can offer: CSV rows and, with pyarrow, Parquet."""
    store = open_store(str(filled_db))
    rows = raw_rows.one_frame(store.rows_between("demo", None, None, ["Tokyo"]))
    store.close()
    data = export_bytes(rows, "csv", "imperial")
    parsed = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert len(parsed) == 288 and "temperature_f" in parsed[0]
    assert float(parsed[0]["temperature_f"]) == pytest.approx(c_to_f(rows["temperature"][0]))
    empty = export_bytes(rows.iloc[0:0], "csv")
    assert empty.decode().splitlines() == [
        "city,time,lat,lon,temperature_c,humidity_pct,wind_speed_ms,provider"]
    if parquet_available():
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(export_bytes(rows, "parquet"))).to_pandas()
        assert list(table["temperature_c"]) == list(rows["temperature"])
