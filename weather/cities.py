"""Where cities are: the built-in table (names outside it go to a provider's geocoder)."""

from __future__ import annotations

import unicodedata
from typing import NamedTuple


class City(NamedTuple):
    """A named place; ``lat``/``lon`` in decimal degrees (north and east positive)."""

    name: str
    lat: float
    lon: float
    country: str = ""


#: The seven California cities of the original article, in its order.
CALIFORNIA_CITIES: tuple[str, ...] = (
    "San Francisco", "Los Angeles", "Santa Barbara", "Sacramento", "Fresno", "San Diego",
    "San Luis Obispo",
)

_TABLE = """
San Francisco 37.7749 -122.4194 US|Los Angeles 34.0522 -118.2437 US
Santa Barbara 34.4208 -119.6982 US|Sacramento 38.5816 -121.4944 US|Fresno 36.7378 -119.7871 US
San Diego 32.7157 -117.1611 US|San Luis Obispo 35.2828 -120.6596 US
New York 40.7128 -74.0060 US|Chicago 41.8781 -87.6298 US|Houston 29.7604 -95.3698 US
Seattle 47.6062 -122.3321 US|Miami 25.7617 -80.1918 US|Honolulu 21.3069 -157.8583 US
Anchorage 61.2181 -149.9003 US|Toronto 43.6532 -79.3832 CA|Vancouver 49.2827 -123.1207 CA
Montreal 45.5017 -73.5673 CA|Mexico City 19.4326 -99.1332 MX|Havana 23.1136 -82.3666 CU
Bogotá 4.7110 -74.0721 CO|Lima -12.0464 -77.0428 PE|Santiago -33.4489 -70.6693 CL
Buenos Aires -34.6037 -58.3816 AR|São Paulo -23.5505 -46.6333 BR
Rio de Janeiro -22.9068 -43.1729 BR|London 51.5074 -0.1278 GB|Paris 48.8566 2.3522 FR
Berlin 52.5200 13.4050 DE|Madrid 40.4168 -3.7038 ES|Rome 41.9028 12.4964 IT
Amsterdam 52.3676 4.9041 NL|Stockholm 59.3293 18.0686 SE|Oslo 59.9139 10.7522 NO
Helsinki 60.1699 24.9384 FI|Warsaw 52.2297 21.0122 PL|Vienna 48.2082 16.3738 AT
Athens 37.9838 23.7275 GR|Istanbul 41.0082 28.9784 TR|Moscow 55.7558 37.6173 RU
Reykjavik 64.1466 -21.9426 IS|Cairo 30.0444 31.2357 EG|Lagos 6.5244 3.3792 NG
Nairobi -1.2921 36.8219 KE|Johannesburg -26.2041 28.0473 ZA|Cape Town -33.9249 18.4241 ZA
Casablanca 33.5731 -7.5898 MA|Dubai 25.2048 55.2708 AE|Tehran 35.6892 51.3890 IR
Karachi 24.8607 67.0011 PK|Delhi 28.7041 77.1025 IN|Mumbai 19.0760 72.8777 IN
Bangkok 13.7563 100.5018 TH|Singapore 1.3521 103.8198 SG|Jakarta -6.2088 106.8456 ID
Hong Kong 22.3193 114.1694 HK|Shanghai 31.2304 121.4737 CN|Beijing 39.9042 116.4074 CN
Seoul 37.5665 126.9780 KR|Tokyo 35.6762 139.6503 JP|Manila 14.5995 120.9842 PH
Sydney -33.8688 151.2093 AU|Melbourne -37.8136 144.9631 AU|Auckland -36.8485 174.7633 NZ
"""


def _parse_table(text: str) -> dict[str, City]:
    table = {}
    for entry in text.replace("\n", "|").split("|"):
        if entry.strip():
            name, lat, lon, country = entry.strip().rsplit(" ", 3)
            table[name] = City(name, float(lat), float(lon), country)
    return table


#: Built-in cities by name.
CITIES: dict[str, City] = _parse_table(_TABLE)


def normalise_name(name: str) -> str:
    """Fold case, accents and spacing, so "sao  paulo" finds "São Paulo"."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


_BY_KEY: dict[str, City] = {normalise_name(c.name): c for c in CITIES.values()}


def lookup(name: str) -> City | None:
    """The built-in city called ``name`` (case- and accent-insensitive), or None."""
    return _BY_KEY.get(normalise_name(name))
