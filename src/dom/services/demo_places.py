"""Real places for the demo network: logistics hubs, metro areas, vendors and 3PL partners.

Only ZIP codes live here. City, state, coordinates and time zone always come from the ZIP
directory, so a node's address can never disagree with the postal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Hub:
    """A logistics hub where retailers put distribution centres."""

    slug: str
    region: str
    zip: str


@dataclass(frozen=True)
class Metro:
    """A metropolitan area, one of its retail ZIP codes and its population in millions."""

    name: str
    zip: str
    population_m: float


@dataclass(frozen=True)
class Partner:
    """A dropship vendor or a third-party warehouse."""

    name: str
    zip: str
    oversize: bool = False


# In the order the demo opens them: the first four cover the country coast to coast.
HUBS: tuple[Hub, ...] = (
    Hub("reno", "Reno", "89506"),
    Hub("dfw", "Dallas–Fort Worth", "76177"),
    Hub("columbus", "Columbus", "43217"),
    Hub("lehigh-valley", "Lehigh Valley", "18031"),
    Hub("atlanta", "Atlanta", "30336"),
    Hub("inland-empire", "Inland Empire", "92376"),
    Hub("memphis", "Memphis", "38118"),
    Hub("indianapolis", "Indianapolis", "46241"),
    Hub("chicago", "Chicago", "60446"),
    Hub("central-nj", "Central New Jersey", "08512"),
    Hub("houston", "Houston", "77032"),
    Hub("seattle", "Seattle", "98032"),
    Hub("phoenix", "Phoenix", "85043"),
    Hub("louisville", "Louisville", "40165"),
    Hub("kansas-city", "Kansas City", "66021"),
    Hub("jacksonville", "Jacksonville", "32218"),
    Hub("denver", "Denver", "80249"),
    Hub("salt-lake-city", "Salt Lake City", "84104"),
    Hub("tracy", "Central Valley", "95377"),
    Hub("carlisle", "Carlisle", "17013"),
    Hub("cincinnati", "Cincinnati", "41048"),
    Hub("orlando", "Orlando", "32824"),
    Hub("minneapolis", "Minneapolis", "55379"),
    Hub("nashville", "Nashville", "37090"),
    Hub("portland", "Portland", "97060"),
    Hub("san-antonio", "San Antonio", "78219"),
    Hub("las-vegas", "Las Vegas", "89115"),
    Hub("richmond", "Richmond", "23231"),
    Hub("baltimore", "Baltimore", "21224"),
    Hub("charlotte", "Charlotte", "28214"),
    Hub("hazleton", "Hazleton", "18202"),
    Hub("detroit", "Detroit", "48174"),
    Hub("st-louis", "St. Louis", "63031"),
    Hub("dayton", "Dayton", "45414"),
    Hub("chambersburg", "Chambersburg", "17201"),
)

# The 77 largest metro areas of the contiguous US, largest first (2023 estimates, millions).
METROS: tuple[Metro, ...] = (
    Metro("New York", "10001", 19.5),
    Metro("Los Angeles", "90036", 12.8),
    Metro("Chicago", "60614", 9.3),
    Metro("Dallas–Fort Worth", "75225", 8.1),
    Metro("Houston", "77056", 7.5),
    Metro("Atlanta", "30309", 6.3),
    Metro("Washington", "20016", 6.3),
    Metro("Philadelphia", "19103", 6.2),
    Metro("Miami", "33156", 6.2),
    Metro("Phoenix", "85016", 5.1),
    Metro("Boston", "02116", 4.9),
    Metro("Riverside", "92503", 4.7),
    Metro("San Francisco", "94107", 4.6),
    Metro("Detroit", "48084", 4.3),
    Metro("Seattle", "98109", 4.0),
    Metro("Minneapolis", "55416", 3.7),
    Metro("Tampa", "33609", 3.3),
    Metro("San Diego", "92108", 3.3),
    Metro("Denver", "80206", 3.0),
    Metro("Baltimore", "21230", 2.8),
    Metro("Orlando", "32801", 2.8),
    Metro("Charlotte", "28209", 2.8),
    Metro("St. Louis", "63117", 2.8),
    Metro("San Antonio", "78216", 2.7),
    Metro("Portland", "97209", 2.5),
    Metro("Austin", "78731", 2.5),
    Metro("Sacramento", "95825", 2.4),
    Metro("Pittsburgh", "15237", 2.4),
    Metro("Las Vegas", "89109", 2.3),
    Metro("Cincinnati", "45209", 2.3),
    Metro("Kansas City", "64112", 2.2),
    Metro("Columbus", "43219", 2.2),
    Metro("Cleveland", "44122", 2.2),
    Metro("Indianapolis", "46240", 2.1),
    Metro("Nashville", "37203", 2.1),
    Metro("San Jose", "95128", 2.0),
    Metro("Virginia Beach", "23462", 1.8),
    Metro("Jacksonville", "32256", 1.7),
    Metro("Providence", "02903", 1.7),
    Metro("Milwaukee", "53202", 1.6),
    Metro("Raleigh", "27609", 1.5),
    Metro("Oklahoma City", "73118", 1.5),
    Metro("Memphis", "38117", 1.3),
    Metro("Richmond", "23226", 1.3),
    Metro("Louisville", "40207", 1.3),
    Metro("Salt Lake City", "84106", 1.3),
    Metro("Fresno", "93720", 1.2),
    Metro("Hartford", "06103", 1.2),
    Metro("Buffalo", "14221", 1.2),
    Metro("Birmingham", "35209", 1.1),
    Metro("Grand Rapids", "49546", 1.1),
    Metro("Rochester", "14618", 1.1),
    Metro("Tucson", "85711", 1.1),
    Metro("Tulsa", "74136", 1.0),
    Metro("New Orleans", "70115", 1.0),
    Metro("Worcester", "01608", 1.0),
    Metro("Omaha", "68114", 1.0),
    Metro("Greenville", "29607", 0.96),
    Metro("Bridgeport–Stamford", "06901", 0.95),
    Metro("Albuquerque", "87110", 0.92),
    Metro("Bakersfield", "93309", 0.91),
    Metro("Albany", "12205", 0.90),
    Metro("Knoxville", "37919", 0.90),
    Metro("McAllen", "78501", 0.89),
    Metro("El Paso", "79912", 0.87),
    Metro("Baton Rouge", "70808", 0.87),
    Metro("Allentown", "18104", 0.87),
    Metro("Columbia", "29206", 0.85),
    Metro("Oxnard", "93030", 0.84),
    Metro("Charleston", "29407", 0.83),
    Metro("Boise", "83702", 0.82),
    Metro("Colorado Springs", "80920", 0.77),
    Metro("Little Rock", "72205", 0.75),
    Metro("Des Moines", "50266", 0.72),
    Metro("Madison", "53711", 0.69),
    Metro("Wichita", "67206", 0.65),
    Metro("Spokane", "99223", 0.60),
)

# Second and third stores in the largest metros, opened after one store in every metro above.
MORE_STORE_ZIPS: tuple[tuple[str, str], ...] = (
    ("New York", "11201"),
    ("Los Angeles", "91101"),
    ("Chicago", "60540"),
    ("Dallas–Fort Worth", "75093"),
    ("Houston", "77479"),
    ("Washington", "22101"),
    ("Philadelphia", "19087"),
    ("Miami", "33301"),
    ("Atlanta", "30339"),
    ("Boston", "02459"),
    ("San Francisco", "94301"),
    ("Seattle", "98004"),
    ("Phoenix", "85251"),
    ("San Diego", "92121"),
    ("New York", "10601"),
    ("New York", "07601"),
    ("Los Angeles", "92660"),
    ("Los Angeles", "91403"),
    ("Chicago", "60062"),
    ("Washington", "20852"),
    ("Miami", "33431"),
)

VENDORS: tuple[Partner, ...] = (
    Partner("Piedmont Furniture Works", "27260", oversize=True),
    Partner("Great Lakes Housewares", "49512"),
    Partner("Pacific Gadget Supply", "91745"),
    Partner("Dalton Rug Mills", "30720", oversize=True),
    Partner("Elkhart Outdoor Gear", "46514"),
    Partner("Tupelo Comfort Seating", "38801", oversize=True),
    Partner("Catawba Valley Textiles", "28601"),
)

THIRD_PARTY_WAREHOUSES: tuple[Partner, ...] = (
    Partner("Midwest Fulfillment Partners", "60440", oversize=True),
    Partner("Mid-South Logistics Services", "38654", oversize=True),
    Partner("Keystone Fulfillment", "17050", oversize=True),
    Partner("Lone Star Fulfillment", "75050", oversize=True),
    Partner("Wasatch Fulfillment", "84116", oversize=True),
    Partner("Upstate Distribution Services", "29340", oversize=True),
)

THANKSGIVING_2026 = date(2026, 11, 26)
CHRISTMAS_2026 = date(2026, 12, 25)
NEW_YEAR_2027 = date(2027, 1, 1)
MEMORIAL_DAY_2026 = date(2026, 5, 25)
INDEPENDENCE_DAY_OBSERVED_2026 = date(2026, 7, 3)  # 4 July 2026 is a Saturday
LABOR_DAY_2026 = date(2026, 9, 7)

WAREHOUSE_HOLIDAYS = frozenset({THANKSGIVING_2026, CHRISTMAS_2026, NEW_YEAR_2027})
STORE_HOLIDAYS = frozenset({THANKSGIVING_2026, CHRISTMAS_2026})
VENDOR_HOLIDAYS = WAREHOUSE_HOLIDAYS | {
    MEMORIAL_DAY_2026,
    INDEPENDENCE_DAY_OBSERVED_2026,
    LABOR_DAY_2026,
}

STORE_STREETS = (
    "Main St",
    "Market St",
    "Broadway",
    "Town Center Dr",
    "Commerce Blvd",
    "Park Ave",
    "Lakeview Pkwy",
    "Oak St",
    "Maple Ave",
    "Washington Blvd",
    "Central Ave",
    "University Ave",
    "Crossroads Blvd",
    "Mall Dr",
    "Plaza Way",
)
STORE_SITES = (
    "Town Center",
    "Plaza",
    "Crossing",
    "Commons",
    "Marketplace",
    "Square",
    "Village",
    "Galleria",
    "Station",
    "Heights",
)
WAREHOUSE_STREETS = (
    "Logistics Way",
    "Distribution Dr",
    "Industrial Pkwy",
    "Commerce Center Blvd",
    "Freight Ln",
    "Trade Center Dr",
    "Gateway Blvd",
    "Enterprise Dr",
    "Portside Dr",
    "Airport Rd",
)
