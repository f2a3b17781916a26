"""Tests of HttpClient over a real socket: timeouts, retries and status codes -> errors."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from testing.provider_server import ProviderServer
from weather import errors
from weather.http import HttpClient, parse_retry_after

SEARCH = "/v1/search"

#: Short enough to keep the timeout tests quick, long enough that a normal answer on a
#: busy machine never trips it.
READ_TIMEOUT_S = 1.0


@pytest.fixture
def server():
    with ProviderServer() as srv:
        yield srv


@pytest.fixture
def client():
    http = HttpClient(read_timeout_s=READ_TIMEOUT_S, connect_timeout_s=2, retries=2, backoff_s=0.01)
    yield http
    http.close()


def get(client, server, name="Tromsø"):
    return client.get_json(f"{server.url}{SEARCH}", {"name": name, "count": 1},
                           service="Geo", city=name)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_success_returns_the_decoded_json(client, server):
    """Test that a 200 answer comes back as decoded JSON, accents intact."""
    assert get(client, server)["results"][0]["name"] == "Tromsø"


def test_connection_refused_is_unreachable(client):
    """Test that a closed port gives UnreachableError with our own message."""
    with pytest.raises(errors.UnreachableError) as caught:
        client.get_json(f"http://127.0.0.1:{closed_port()}{SEARCH}", {"name": "x"},
                        service="Geo", city="x")
    assert caught.value.status == "unreachable"
    assert "could not connect to Geo at 127.0.0.1" in str(caught.value)
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_a_read_timeout_is_reported_and_not_retried(client, server):
    """Test that no answer within read_timeout_s is RequestTimeout, asked once only."""
    server.set_fault("timeout")
    with pytest.raises(errors.RequestTimeout) as caught:
        get(client, server)
    assert caught.value.status == "timeout"
    assert f"{READ_TIMEOUT_S:g} s" in str(caught.value)
    assert server.count(SEARCH) == 1


def test_closed_without_answer_is_retried_then_unreachable(client, server):
    """Test that a connection closed without an answer is retried, then UnreachableError."""
    server.set_fault("refuse")
    with pytest.raises(errors.UnreachableError):
        get(client, server)
    assert server.count(SEARCH) == 1 + client.retries


@pytest.mark.parametrize("status", ["500", "502", "503"])
def test_5xx_is_retried_with_backoff_then_server_error(client, server, status):
    """Test that a 5xx is asked 1 + retries times, then reported as ServerError."""
    server.set_fault(status)
    with pytest.raises(errors.ServerError) as caught:
        get(client, server)
    assert caught.value.http_status == int(status)
    assert caught.value.status == "server error"
    assert server.count(SEARCH) == 1 + client.retries


def test_5xx_twice_then_success_recovers(client, server):
    """Test that two 503s followed by a good answer end in the good answer."""
    server.set_fault("503", times=2)
    assert get(client, server)["results"][0]["name"] == "Tromsø"
    assert server.count(SEARCH) == 3


def test_no_retries_when_retries_is_zero(server):
    """Test that retries=0 asks exactly once."""
    server.set_fault("500")
    http = HttpClient(retries=0)
    with pytest.raises(errors.ServerError):
        get(http, server)
    assert server.count(SEARCH) == 1


@pytest.mark.parametrize(("status", "error"), [
    ("401", errors.AuthError), ("404", errors.NotFoundError), ("400", errors.BadRequestError),
    ("429", errors.RateLimitError),
])
def test_4xx_maps_to_its_error_and_is_not_retried(client, server, status, error):
    """Test that each 4xx becomes its own error after exactly one request."""
    server.set_fault(status)
    with pytest.raises(error) as caught:
        get(client, server)
    assert caught.value.city == "Tromsø"
    assert server.count(SEARCH) == 1


def test_400_carries_the_providers_reason(client, server):
    """Test that BadRequestError.reason is the provider's own explanation."""
    with pytest.raises(errors.BadRequestError) as caught:
        client.get_json(f"{server.url}/v1/forecast", {"latitude": "95", "longitude": "0"},
                        service="Open-Meteo")
    assert caught.value.reason == "Latitude must be in range of -90 to 90°. Given: 95.0."
    assert caught.value.reason in str(caught.value)


def test_429_gives_retry_after_seconds_from_the_header(client, server):
    """Test that RateLimitError.retry_after_s is the Retry-After header's value."""
    server.set_fault("429", retry_after_s=17)
    with pytest.raises(errors.RateLimitError) as caught:
        get(client, server)
    assert caught.value.retry_after_s == 17
    assert caught.value.status == "rate limited"


def test_429_with_an_http_date(client, server):
    """Test that a Retry-After given as an HTTP date becomes seconds from now."""
    when = datetime.now(UTC) + timedelta(seconds=120)
    server.set_fault("429", retry_after_s=format_datetime(when, usegmt=True))
    with pytest.raises(errors.RateLimitError) as caught:
        get(client, server)
    assert 100 < caught.value.retry_after_s <= 120


def test_429_without_retry_after(client, server):
    """Test that a 429 without the header leaves retry_after_s None."""
    server.set_fault("429", retry_after_s=None)
    with pytest.raises(errors.RateLimitError) as caught:
        get(client, server)
    assert caught.value.retry_after_s is None


def test_invalid_json_is_a_parse_error(client, server):
    """Test that a 200 whose body is not JSON is ParseError, not retried."""
    server.set_fault("malformed")
    with pytest.raises(errors.ParseError) as caught:
        get(client, server)
    assert caught.value.status == "bad answer"
    assert server.count(SEARCH) == 1


@pytest.mark.parametrize(("value", "expected"), [
    ("30", 30.0), (" 2.5 ", 2.5), ("-4", 0.0), ("", None), (None, None), ("soon", None),
    ("Wed, 25 Nov 2026 16:01:40 GMT", 100.0),
])
def test_parse_retry_after(value, expected):
    """Test that Retry-After is read as seconds or as an HTTP date."""
    now = datetime(2026, 11, 25, 16, 0, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after(value, now=now) == expected


def test_a_proxy_set_in_the_environment_carries_the_requests(server, monkeypatch):
    """Test that HTTP_PROXY is honoured, for the first request to a host and the later ones.

    The address asked is a closed port: an answer can only come through the proxy.
    """
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.url)
    http = HttpClient(read_timeout_s=READ_TIMEOUT_S, connect_timeout_s=2, retries=0)
    try:
        url = f"http://127.0.0.1:{closed_port()}{SEARCH}"
        for name in ("Tromsø", "Fresno"):
            answer = http.get_json(url, {"name": name, "count": 1}, service="Geo", city=name)
            assert answer["results"]
    finally:
        http.close()
    assert server.count(SEARCH) == 2
