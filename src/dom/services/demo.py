"""The demo network: a realistic retail network on real US geography, the same for the same seed.

Distribution centres sit in real logistics hubs, stores in real metro ZIP codes, and every
address, coordinate and time zone comes from the ZIP directory. Products follow per-category
size and density distributions, with small shares of hazmat, oversize, refrigerated and
high-value items. Carrier services are the defaults of `carrier_defaults`.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

from sqlalchemy import Engine

from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import Action, Principal
from dom.domain.catalog import Dimensions, Product
from dom.domain.errors import InvalidField
from dom.domain.geo import ZipPlace, miles_between
from dom.domain.network import (
    EVERY_DAY,
    MON_TO_FRI,
    MON_TO_SAT,
    Address,
    Calendar,
    Capability,
    Capacity,
    Handling,
    HandlingCost,
    Node,
    NodeType,
)
from dom.services.carrier_defaults import DIM_DIVISOR, MAX_WEIGHT_LB, default_services
from dom.services.demo_places import (
    HUBS,
    METROS,
    MORE_STORE_ZIPS,
    STORE_HOLIDAYS,
    STORE_SITES,
    STORE_STREETS,
    THIRD_PARTY_WAREHOUSES,
    VENDOR_HOLIDAYS,
    VENDORS,
    WAREHOUSE_HOLIDAYS,
    WAREHOUSE_STREETS,
    Metro,
    Partner,
)
from dom.services.masterdata import ImportReport, MasterData, store_master_data

METRO_RADIUS_MILES = 30.0
OVERSIZE_LENGTH_IN = 48.0
OVERSIZE_WEIGHT_LB = 50.0
# Carriers charge "large package" rates above 130 in of length plus girth: such parcels are
# oversize too, so everyday products stay below it.
LARGE_PACKAGE_LENGTH_PLUS_GIRTH_IN = 130.0
# Keep every parcel's dimensional weight (sides rounded up, divisor 139) inside the rate table.
MAX_CUBE_IN3 = (MAX_WEIGHT_LB - 3) * DIM_DIVISOR
# Order cutoffs on the half hour: distribution centres 15:00-18:00, stores 14:00-16:00.
DC_CUTOFFS = tuple(time(15 + m // 60, m % 60) for m in range(0, 181, 30))
STORE_CUTOFFS = tuple(time(14 + m // 60, m % 60) for m in range(0, 121, 30))


def demo_network(
    zips: ZipDirectory,
    *,
    seed: int = 7,
    stores: int = 60,
    dcs: int = 4,
    skus: int = 2000,
    vendors: int = 3,
    third_party: int = 1,
) -> MasterData:
    """Build the demo network; the same arguments always give the same network."""
    counts = {
        "stores": stores,
        "dcs": dcs,
        "skus": skus,
        "vendors": vendors,
        "third_party": third_party,
    }
    for name, count in counts.items():
        if count < 0:
            raise InvalidField(name, "must not be negative")
    sites = _Sites(zips)
    # One random stream per part, so that asking for more stores leaves the products alone.
    nodes = [
        *_distribution_centres(_rng(seed, "dcs"), sites, dcs),
        *_stores(_rng(seed, "stores"), sites, stores),
        *_vendors(_rng(seed, "vendors"), sites, vendors),
        *_third_party_warehouses(_rng(seed, "3pl"), sites, third_party),
    ]
    products = demo_products(_rng(seed, "products"), skus)
    return MasterData(nodes=nodes, products=products, services=default_services())


def load_demo(
    engine: Engine,
    principal: Principal,
    zips: ZipDirectory,
    *,
    seed: int = 7,
    stores: int = 60,
    dcs: int = 4,
    skus: int = 2000,
) -> ImportReport:
    """Build the demo network and store it, replacing records with the same keys."""
    principal.require(Action.IMPORT_MASTER_DATA)
    data = demo_network(zips, seed=seed, stores=stores, dcs=dcs, skus=skus)
    return store_master_data(engine, principal, data)


def _rng(seed: int, part: str) -> random.Random:
    return random.Random(f"dom-demo:{seed}:{part}")


# ---- places ----------------------------------------------------------------------------------


def _usable(place: ZipPlace) -> bool:
    return place.active and place.timezone is not None and place.is_standard and place.has_location


class _Sites:
    """Hands out real, active, standard ZIP codes, each to at most one node."""

    def __init__(self, zips: ZipDirectory) -> None:
        self._zips = zips
        self._used: set[str] = set()
        self._pools: list[tuple[Metro, list[ZipPlace]]] | None = None

    def take(self, zip_code: str) -> ZipPlace | None:
        """The place of a listed ZIP code, or None if the directory lacks it or it is taken."""
        place = self._zips.lookup(zip_code)
        if place is None or zip_code in self._used or not _usable(place):
            return None
        self._used.add(zip_code)
        return place

    def near_metro(self, rng: random.Random, kind: str) -> tuple[str, ZipPlace]:
        """A fresh ZIP code near a metro area drawn in proportion to its population."""
        pools = self._metro_pools()
        while pools:
            index = rng.choices(range(len(pools)), [m.population_m for m, _ in pools])[0]
            metro, pool = pools[index]
            while pool:
                pick = rng.randrange(len(pool))
                place = pool[pick]
                pool[pick] = pool[-1]
                pool.pop()
                if place.zip not in self._used:
                    self._used.add(place.zip)
                    return metro.name, place
            pools.pop(index)
        for place in self._zips.places():
            if place.zip not in self._used and _usable(place):
                self._used.add(place.zip)
                return place.city, place
        raise InvalidField(kind, "more nodes than the ZIP directory has places for")

    def _metro_pools(self) -> list[tuple[Metro, list[ZipPlace]]]:
        if self._pools is None:
            self._pools = _metro_pools(self._zips)
        return self._pools


def _metro_pools(zips: ZipDirectory) -> list[tuple[Metro, list[ZipPlace]]]:
    """Usable ZIP codes within the metro radius of each metro's own ZIP, in directory order."""
    cells: dict[tuple[int, int], list[ZipPlace]] = {}
    for place in zips.places():
        if _usable(place):
            key = (math.floor(place.location.latitude), math.floor(place.location.longitude))
            cells.setdefault(key, []).append(place)
    pools: list[tuple[Metro, list[ZipPlace]]] = []
    for metro in METROS:
        centre = zips.lookup(metro.zip)
        if centre is None:
            continue
        lat, lon = math.floor(centre.location.latitude), math.floor(centre.location.longitude)
        # One degree is at least 50 miles in the contiguous US: the 3×3 cells cover the radius.
        nearby = [
            place
            for dlat in (-1, 0, 1)
            for dlon in (-1, 0, 1)
            for place in cells.get((lat + dlat, lon + dlon), [])
            if miles_between(centre.location, place.location) <= METRO_RADIUS_MILES
        ]
        if nearby:
            pools.append((metro, sorted(nearby, key=lambda p: p.zip)))
    return pools


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _unique(base: str, taken: set[str]) -> str:
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    taken.add(candidate)
    return candidate


def _timezone(place: ZipPlace) -> str:
    if place.timezone is None:  # _usable() lets no such place through
        raise InvalidField("timezone", f"ZIP {place.zip} has no time zone")
    return place.timezone


def _street(rng: random.Random, streets: tuple[str, ...]) -> str:
    return f"{rng.randrange(100, 9900)} {rng.choice(streets)}"


def _address(rng: random.Random, place: ZipPlace, streets: tuple[str, ...]) -> Address:
    return Address(_street(rng, streets), place.city, place.state, place.zip)


def _hours(orders: int, orders_per_hour: float) -> float:
    """Labour hours to pick and pack `orders`, rounded to the half hour."""
    return round(orders / orders_per_hour * 2) / 2


# ---- nodes -----------------------------------------------------------------------------------


def _distribution_centres(rng: random.Random, sites: _Sites, count: int) -> list[Node]:
    taken: set[str] = set()
    centres: list[Node] = []
    hubs = iter(HUBS)
    while len(centres) < count:
        hub = next(hubs, None)
        if hub is not None:
            place = sites.take(hub.zip)
            if place is None:
                continue
            slug, region = hub.slug, hub.region
        else:
            region, place = sites.near_metro(rng, "dcs")
            slug = _slug(region)
        node_id = _unique(f"dc-{slug}", taken)
        number = node_id.removeprefix(f"dc-{slug}").lstrip("-")
        name = f"{region} Distribution Centre {number}".rstrip()
        centres.append(_distribution_centre(rng, len(centres), node_id, name, place))
    return centres


def _distribution_centre(
    rng: random.Random, index: int, node_id: str, name: str, place: ZipPlace
) -> Node:
    orders = rng.randrange(4_000, 20_001, 500)
    handling = {Handling.HAZMAT, Handling.OVERSIZE}
    if index % 2 == 0:
        handling.add(Handling.HIGH_VALUE)
    if index % 3 == 1:
        handling.add(Handling.REFRIGERATED)
    return Node(
        id=node_id,
        name=name,
        type=NodeType.DISTRIBUTION_CENTRE,
        address=_address(rng, place, WAREHOUSE_STREETS),
        location=place.location,
        timezone=_timezone(place),
        capabilities=frozenset({Capability.SHIP, Capability.ACCEPT_RETURNS}),
        handling=frozenset(handling),
        capacity=Capacity(
            orders_per_day=orders,
            units_per_day=round(orders * rng.uniform(2.1, 2.6)),
            labour_hours_per_day=_hours(orders, rng.uniform(9, 14)),
        ),
        calendar=Calendar(
            operating_days=rng.choice((MON_TO_SAT, EVERY_DAY)),
            holidays=WAREHOUSE_HOLIDAYS,
            cutoff=rng.choice(DC_CUTOFFS),
            processing_days=0,
        ),
        cost=HandlingCost(
            per_order=round(rng.uniform(2.5, 4.5), 2), per_unit=round(rng.uniform(0.15, 0.35), 2)
        ),
    )


def _store_places(rng: random.Random, sites: _Sites, count: int) -> list[tuple[str, ZipPlace]]:
    """One store per metro, largest first; then more in the largest; then drawn near metros."""
    listed = [(m.name, m.zip) for m in METROS] + list(MORE_STORE_ZIPS)
    places: list[tuple[str, ZipPlace]] = []
    for metro, zip_code in listed:
        if len(places) == count:
            return places
        place = sites.take(zip_code)
        if place is not None:
            places.append((metro, place))
    while len(places) < count:
        places.append(sites.near_metro(rng, "stores"))
    return places


def _stores(rng: random.Random, sites: _Sites, count: int) -> list[Node]:
    return [
        _store(rng, number, metro, place)
        for number, (metro, place) in enumerate(_store_places(rng, sites, count), start=1)
    ]


def _store(rng: random.Random, number: int, metro: str, place: ZipPlace) -> Node:
    orders = rng.randrange(50, 251, 10)
    capabilities = {
        Capability.SHIP_FROM_STORE,
        Capability.PICKUP_IN_STORE,
        Capability.ACCEPT_RETURNS,
    }
    if rng.random() < 0.75:
        capabilities.add(Capability.CURBSIDE)
    handling = {Handling.HIGH_VALUE} if rng.random() < 0.3 else set()
    site = rng.choice(STORE_SITES)
    name = f"Store {number:04d} {place.city} {site}"
    if place.city not in metro:
        name += f" ({metro})"
    return Node(
        id=f"store-{number:04d}",
        name=name,
        type=NodeType.STORE,
        address=_address(rng, place, STORE_STREETS),
        location=place.location,
        timezone=_timezone(place),
        capabilities=frozenset(capabilities),
        handling=frozenset(handling),
        capacity=Capacity(
            orders_per_day=orders,
            units_per_day=round(orders * rng.uniform(1.5, 1.9)),
            labour_hours_per_day=_hours(orders, rng.uniform(5, 8)),
        ),
        calendar=Calendar(
            operating_days=EVERY_DAY,
            holidays=STORE_HOLIDAYS,
            cutoff=rng.choice(STORE_CUTOFFS),
            processing_days=0,
        ),
        cost=HandlingCost(
            per_order=round(rng.uniform(5.5, 8.5), 2), per_unit=round(rng.uniform(0.35, 0.75), 2)
        ),
    )


def _partner_places(
    rng: random.Random, sites: _Sites, listed: Iterable[Partner], count: int, kind: str, suffix: str
) -> list[tuple[str, bool, ZipPlace]]:
    """Listed partners first, then made-up ones near metros: (name, handles oversize, place)."""
    found: list[tuple[str, bool, ZipPlace]] = []
    for partner in listed:
        if len(found) == count:
            return found
        place = sites.take(partner.zip)
        if place is not None:
            found.append((partner.name, partner.oversize, place))
    while len(found) < count:
        _, place = sites.near_metro(rng, kind)
        found.append((f"{place.city} {suffix} {len(found) + 1:02d}", False, place))
    return found


def _vendors(rng: random.Random, sites: _Sites, count: int) -> list[Node]:
    nodes: list[Node] = []
    for number, (name, oversize, place) in enumerate(
        _partner_places(rng, sites, VENDORS, count, "vendors", "Supply Co."), start=1
    ):
        orders = rng.randrange(200, 1_501, 50)
        nodes.append(
            Node(
                id=f"vendor-{number:02d}",
                name=name,
                type=NodeType.DROPSHIP_VENDOR,
                address=_address(rng, place, WAREHOUSE_STREETS),
                location=place.location,
                timezone=_timezone(place),
                capabilities=frozenset({Capability.SHIP}),
                handling=frozenset({Handling.OVERSIZE} if oversize else ()),
                capacity=Capacity(
                    orders_per_day=orders,
                    units_per_day=round(orders * rng.uniform(1.2, 1.5)),
                    labour_hours_per_day=_hours(orders, rng.uniform(7, 10)),
                ),
                calendar=Calendar(
                    operating_days=MON_TO_FRI,
                    holidays=VENDOR_HOLIDAYS,
                    cutoff=time(rng.choice((12, 13, 14))),
                    processing_days=rng.choice((1, 2)),
                ),
                cost=HandlingCost(
                    per_order=round(rng.uniform(3.0, 6.0), 2),
                    per_unit=round(rng.uniform(0.2, 0.5), 2),
                ),
            )
        )
    return nodes


def _third_party_warehouses(rng: random.Random, sites: _Sites, count: int) -> list[Node]:
    nodes: list[Node] = []
    for number, (name, oversize, place) in enumerate(
        _partner_places(rng, sites, THIRD_PARTY_WAREHOUSES, count, "third_party", "Fulfillment"),
        start=1,
    ):
        orders = rng.randrange(2_000, 8_001, 250)
        nodes.append(
            Node(
                id=f"3pl-{number:02d}",
                name=name,
                type=NodeType.THIRD_PARTY_WAREHOUSE,
                address=_address(rng, place, WAREHOUSE_STREETS),
                location=place.location,
                timezone=_timezone(place),
                capabilities=frozenset({Capability.SHIP}),
                handling=frozenset({Handling.HAZMAT, Handling.OVERSIZE} if oversize else ()),
                capacity=Capacity(
                    orders_per_day=orders,
                    units_per_day=round(orders * rng.uniform(2.0, 2.4)),
                    labour_hours_per_day=_hours(orders, rng.uniform(8, 12)),
                ),
                calendar=Calendar(
                    operating_days=MON_TO_SAT,
                    holidays=WAREHOUSE_HOLIDAYS,
                    cutoff=time(rng.choice((16, 17))),
                    processing_days=0,
                ),
                cost=HandlingCost(
                    per_order=round(rng.uniform(3.5, 5.5), 2),
                    per_unit=round(rng.uniform(0.25, 0.45), 2),
                ),
            )
        )
    return nodes


# ---- products --------------------------------------------------------------------------------

COLOURS = ("Black", "White", "Navy", "Charcoal", "Olive", "Sand", "Red", "Sky Blue", "Blush")
SIZES = ("XS", "S", "M", "L", "XL", "XXL")
APPAREL_VARIANTS = tuple(f"{c} / {s}" for c in COLOURS for s in SIZES)
EDITIONS = ("Standard", "Deluxe", "Compact", "Pro", "Classic", "Essentials", "Plus")
VOLUMES = tuple(f"vol. {n}" for n in range(1, 41))

Box = tuple[str, float, float, float]  # item name and its typical shipping box, inches


@dataclass(frozen=True)
class _Category:
    """A family of products: items with their typical box, name variants, spread and density."""

    name: str
    items: tuple[Box, ...]
    variants: tuple[str, ...]
    density: tuple[float, float]  # packed pounds per cubic foot, lowest and highest
    spread: float = 0.2  # sigma of the log of a box's scale around its item's typical box
    handling: frozenset[Handling] = frozenset()


ACCESSORIES = _Category(
    "accessories",
    (
        ("USB-C charging cable 6 ft", 7, 5, 1),
        ("Phone case", 8, 4.5, 1),
        ("Screen protector 2-pack", 8, 4.5, 0.6),
        ("Wall charger 30 W", 5, 3.5, 2),
        ("Leather wallet", 5.5, 4.5, 1.2),
        ("Sunglasses", 7, 3, 2.5),
        ("Wool beanie", 9, 7, 2),
        ("Canvas tote bag", 14, 12, 1.5),
        ("Travel adapter", 5, 4, 3),
        ("Watch band", 6, 3, 1),
    ),
    COLOURS,
    (4, 20),
)
APPAREL = _Category(
    "apparel",
    (
        ("Crew-neck T-shirt", 12, 10, 1.5),
        ("Pullover hoodie", 14, 12, 3.5),
        ("Slim-fit jeans", 14, 11, 2.5),
        ("Rain jacket", 14, 12, 3),
        ("Merino socks 3-pack", 9, 6, 2),
        ("Yoga leggings", 11, 9, 1.5),
        ("Flannel shirt", 13, 10, 2),
        ("Chino pants", 14, 11, 2.5),
        ("Puffer vest", 14, 12, 4),
        ("Running shorts", 10, 8, 1.2),
        ("Cardigan sweater", 14, 12, 3),
        ("Pajama set", 13, 11, 2.5),
    ),
    APPAREL_VARIANTS,
    (3, 10),
)
FOOTWEAR = _Category(
    "footwear",
    (
        ("Running shoes", 13, 8, 5),
        ("Leather boots", 14, 11, 6),
        ("Canvas sneakers", 12, 7.5, 4.5),
        ("Slippers", 11, 6, 4),
        ("Sandals", 12, 6, 3),
        ("Hiking boots", 14, 10, 6),
    ),
    APPAREL_VARIANTS,
    (5, 12),
    spread=0.1,
)
BOOKS = _Category(
    "books",
    (
        ("Hardcover novel", 9.5, 6.5, 1.4),
        ("Paperback novel", 8, 5.5, 1),
        ("Cookbook", 10.5, 8.5, 1.3),
        ("Picture book", 11, 9, 0.5),
        ("Travel guide", 8, 5.5, 1),
        ("Puzzle book", 9, 6, 0.6),
        ("Graphic novel", 10.5, 7, 0.8),
    ),
    VOLUMES,
    (25, 45),
    spread=0.1,
)
KITCHEN = _Category(
    "kitchen",
    (
        ("Chef's knife 8 in", 15, 4, 1.5),
        ("Nonstick frying pan 10 in", 20, 11, 3),
        ("Cast iron skillet 12 in", 18, 13, 3),
        ("Glass storage set", 14, 10, 8),
        ("French press", 9, 6, 6),
        ("Cutting board", 18, 12, 1.5),
        ("Utensil set", 14, 5, 3),
        ("Dinnerware set 16-piece", 20, 14, 11),
        ("Stainless saucepan", 14, 9, 7),
        ("Blender", 16, 9, 9),
        ("Coffee grinder", 8, 5, 5),
    ),
    COLOURS,
    (6, 20),
)
ELECTRONICS = _Category(
    "electronics",
    (
        ("Bluetooth speaker", 8, 5, 4),
        ("Wireless mouse", 6, 4, 2.5),
        ("Mechanical keyboard", 18, 7, 2.5),
        ("Webcam 1080p", 6, 5, 4),
        ("Smart plug 2-pack", 5, 4, 3),
        ("Streaming stick", 6, 4, 1.5),
        ("Wi-Fi router", 12, 9, 4),
        ("Over-ear headphones", 10, 9, 4),
        ("Computer monitor 27 in", 29, 19, 6),
        ("External SSD 1 TB", 5, 4, 1.5),
    ),
    EDITIONS,
    (5, 18),
)
HOME = _Category(
    "home",
    (
        ("Throw pillow", 18, 18, 5),
        ("Bath towel set", 14, 12, 6),
        ("Table lamp", 16, 10, 10),
        ("Picture frame 8x10", 12, 10, 2),
        ("Scented candle", 5, 5, 5),
        ("Wall clock", 14, 14, 3),
        ("Storage baskets 3-pack", 14, 14, 10),
        ("Sheet set queen", 13, 11, 4),
        ("Shower curtain", 12, 10, 1.5),
        ("Ceramic vase", 10, 6, 6),
        ("Duvet insert", 20, 16, 8),
    ),
    COLOURS,
    (2, 15),
    spread=0.25,
)
BEAUTY = _Category(
    "beauty",
    (
        ("Face moisturizer", 4, 3, 3),
        ("Shampoo 12 oz", 8, 3, 2),
        ("Lip balm 4-pack", 4, 3, 1),
        ("Body lotion", 8, 3, 2.5),
        ("Hair brush", 10, 3, 2),
        ("Electric toothbrush", 10, 4, 3),
        ("Makeup brush set", 8, 4, 2),
        ("Sunscreen lotion SPF 50", 7, 3, 2),
    ),
    EDITIONS,
    (15, 45),
)
TOYS = _Category(
    "toys",
    (
        ("Building blocks set", 15, 11, 4),
        ("Plush bear", 14, 10, 8),
        ("Board game", 11, 11, 3),
        ("Jigsaw puzzle 1000 pieces", 11, 8, 3),
        ("Art supplies kit", 14, 10, 3),
        ("Remote-control car", 16, 8, 7),
        ("Card game", 5, 4, 1.5),
    ),
    EDITIONS,
    (3, 15),
    spread=0.25,
)
SPORTS = _Category(
    "sports",
    (
        ("Yoga mat", 26, 6, 6),
        ("Resistance bands set", 8, 6, 2),
        ("Water bottle 24 oz", 11, 4, 4),
        ("Bike helmet", 12, 10, 8),
        ("Foam roller", 19, 7, 7),
        ("Jump rope", 8, 6, 2),
        ("Tennis balls 3-pack", 9, 3, 3),
        ("Dumbbell pair", 12, 8, 5),
    ),
    COLOURS,
    (3, 15),
)
PETS = _Category(
    "pets",
    (
        ("Dog collar", 8, 5, 1.5),
        ("Cat toy set", 8, 6, 3),
        ("Pet bed medium", 24, 18, 7),
        ("Dog leash", 8, 6, 2),
        ("Grooming brush", 9, 5, 2.5),
        ("Food bowl set", 10, 10, 4),
    ),
    COLOURS,
    (3, 15),
)
OFFICE = _Category(
    "office",
    (
        ("Notebook 3-pack", 11, 8.5, 1.5),
        ("Gel pens 12-pack", 7, 4, 1),
        ("Desk organizer", 12, 8, 5),
        ("Stapler", 8, 3, 3),
        ("Planner 2027", 9, 7, 1),
        ("Sticky notes 12-pack", 8, 6, 3),
        ("LED desk lamp", 16, 7, 5),
    ),
    COLOURS,
    (10, 35),
)
TOOLS = _Category(
    "tools",
    (
        ("Screwdriver set", 10, 6, 2),
        ("Tape measure 25 ft", 5, 4, 2.5),
        ("Claw hammer 16 oz", 13, 5, 2),
        ("Socket set", 16, 9, 3),
        ("Level 24 in", 25, 3, 1.5),
        ("Utility knife", 7, 3, 1),
    ),
    EDITIONS,
    (15, 55),
)

# Everyday categories with their share of the everyday catalogue.
EVERYDAY: tuple[tuple[_Category, float], ...] = (
    (ACCESSORIES, 0.17),
    (APPAREL, 0.20),
    (FOOTWEAR, 0.05),
    (BOOKS, 0.07),
    (KITCHEN, 0.12),
    (ELECTRONICS, 0.09),
    (HOME, 0.12),
    (BEAUTY, 0.06),
    (TOYS, 0.06),
    (SPORTS, 0.05),
    (PETS, 0.04),
    (OFFICE, 0.04),
    (TOOLS, 0.03),
)

HAZMAT = _Category(
    "hazmat",
    (
        ("Dry shampoo aerosol", 9, 3, 3),
        ("Hair spray aerosol", 10, 3, 3),
        ("Spray paint", 9, 3, 3),
        ("Power bank 20,000 mAh", 7, 4, 2),
        ("Cordless drill battery 20 V", 6, 4, 4),
        ("Lithium AA batteries 8-pack", 5, 4, 1),
        ("Nail polish set", 6, 4, 3),
        ("Butane refill", 9, 3, 3),
        ("Insect repellent spray", 8, 3, 3),
        ("Compressed air duster", 10, 3, 3),
    ),
    EDITIONS,
    (15, 45),
    handling=frozenset({Handling.HAZMAT}),
)
HIGH_VALUE = _Category(
    "high value",
    (
        ("Diamond stud earrings", 4, 4, 3),
        ("Gold chain necklace", 6, 5, 2),
        ("Automatic watch", 6, 6, 4),
        ("Laptop 14 in", 17, 12, 3.5),
        ("Mirrorless camera body", 8, 6, 6),
        ("Smartphone 256 GB", 8, 4.5, 2.5),
        ("Tablet 11 in", 12, 9, 2),
        ("Designer handbag", 16, 12, 7),
    ),
    EDITIONS,
    (4, 20),
    handling=frozenset({Handling.HIGH_VALUE}),
)
REFRIGERATED = _Category(
    "refrigerated",
    (
        ("Artisan cheese sampler", 12, 10, 8),
        ("Smoked salmon gift box", 14, 10, 6),
        ("Chocolate truffles", 10, 10, 6),
        ("Probiotic capsules", 8, 8, 8),
        ("Steak gift box", 16, 12, 10),
    ),
    EDITIONS,
    (4, 15),
    spread=0.1,
    handling=frozenset({Handling.REFRIGERATED}),
)
LONG_OVERSIZE = (
    "Flat-pack bookcase",
    "Office desk",
    "Bed frame queen",
    "TV stand 60 in",
    "Area rug 8x10 rolled",
    "Patio umbrella 9 ft",
    "Floor mirror",
    "Wardrobe flat-pack",
)
HEAVY_OVERSIZE = (
    "Adjustable dumbbell set",
    "Weight plate set",
    "Cast iron fire pit",
    "Espresso machine, commercial",
    "Air compressor 20 gal",
)
NOT_STOCK_TRACKED = (
    "Gift card $25",
    "Gift card $50",
    "Gift card $100",
    "E-gift card",
    "Protection plan 2 years",
    "Protection plan 3 years",
    "Assembly service",
)

# Shares of the catalogue with special needs.
HAZMAT_SHARE = 0.025
OVERSIZE_SHARE = 0.015
HIGH_VALUE_SHARE = 0.01
REFRIGERATED_SHARE = 0.004
NOT_STOCK_TRACKED_SHARE = 0.003

_OVERSIZE = "oversize"
_NOT_TRACKED = "not stock-tracked"


def demo_products(rng: random.Random, count: int) -> list[Product]:
    """`count` products, SKU-000001 upwards, special kinds mixed in at their shares."""
    special: list[tuple[_Category | str, float]] = [
        (HAZMAT, HAZMAT_SHARE),
        (_OVERSIZE, OVERSIZE_SHARE),
        (HIGH_VALUE, HIGH_VALUE_SHARE),
        (REFRIGERATED, REFRIGERATED_SHARE),
        (_NOT_TRACKED, NOT_STOCK_TRACKED_SHARE),
    ]
    plan = [kind for kind, share in special for _ in range(round(count * share))][:count]
    categories = [category for category, _ in EVERYDAY]
    weights = [weight for _, weight in EVERYDAY]
    plan.extend(rng.choices(categories, weights, k=count - len(plan)))
    rng.shuffle(plan)
    return [_product(rng, f"SKU-{n:06d}", kind) for n, kind in enumerate(plan, start=1)]


def _product(rng: random.Random, sku: str, kind: _Category | str) -> Product:
    if kind == _NOT_TRACKED:
        return Product(sku, rng.choice(NOT_STOCK_TRACKED), None, stock_tracked=False)
    if kind == _OVERSIZE:
        return _oversize_product(rng, sku)
    assert isinstance(kind, _Category)
    item = rng.choice(kind.items)
    name = f"{item[0]}, {rng.choice(kind.variants)}"
    return Product(sku, name, _everyday_dimensions(rng, kind, item), handling=kind.handling)


def _everyday_dimensions(rng: random.Random, category: _Category, item: Box) -> Dimensions:
    """The item's box scaled lognormally, kept below the oversize thresholds, densely packed."""
    scale = rng.lognormvariate(0, category.spread)
    jitter = category.spread / 3
    sides = sorted((s * scale * rng.lognormvariate(0, jitter) for s in item[1:]), reverse=True)
    length_plus_girth = sides[0] + 2 * (sides[1] + sides[2])
    shrink = min(
        1.0,
        (OVERSIZE_LENGTH_IN - 2) / sides[0],
        (LARGE_PACKAGE_LENGTH_PLUS_GIRTH_IN - 2) / length_plus_girth,
    )
    sides = [s * shrink for s in sides]
    length, width, height = _fit_cube(max(sides[0], 3.0), max(sides[1], 2.0), max(sides[2], 0.5))
    density = rng.uniform(*category.density)
    weight = min(length * width * height / 1728 * density, OVERSIZE_WEIGHT_LB - 1)
    return Dimensions(length, width, height, round(max(weight, 0.05), 2))


def _oversize_product(rng: random.Random, sku: str) -> Product:
    """Furniture-size boxes longer than 48 in, or compact ones heavier than 50 lb."""
    if rng.random() < 0.7:
        name = rng.choice(LONG_OVERSIZE)
        length, width, height = _fit_cube(
            rng.uniform(50, 90), rng.uniform(14, 30), rng.uniform(5, 14)
        )
        weight = length * width * height / 1728 * rng.uniform(4, 14)
    else:
        name = rng.choice(HEAVY_OVERSIZE)
        length, width, height = rng.uniform(18, 32), rng.uniform(12, 22), rng.uniform(9, 18)
        length, width, height = round(length, 1), round(width, 1), round(height, 1)
        weight = length * width * height / 1728 * rng.uniform(48, 58)
    weight = min(round(weight, 2), MAX_WEIGHT_LB - 5)
    return Product(
        sku,
        f"{name}, {rng.choice(COLOURS)}",
        Dimensions(length, width, height, weight),
        handling=frozenset({Handling.OVERSIZE}),
        ship_alone=True,
    )


def _fit_cube(length: float, width: float, height: float) -> tuple[float, float, float]:
    """Shrink width and height (never length) until the dimensional weight fits the rate table."""
    length, width, height = round(length, 1), round(width, 1), round(height, 1)
    while math.ceil(length) * math.ceil(width) * math.ceil(height) > MAX_CUBE_IN3:
        width, height = round(width * 0.95, 1), round(height * 0.95, 1)
    return length, width, height
