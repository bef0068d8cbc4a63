"""Remembered lookups the engine makes for every order: freight by billable weight for each
service and zone (a shipment heavier than a service's largest parcel goes as several equal
parcels), and ship and arrival dates."""

from __future__ import annotations

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from dom.domain.carriers import CarrierService
from dom.domain.network import Node
from dom.domain.promise import add_business_days, ship_date

Table = npt.NDArray[np.float64]


class RateBook:
    """Price tables per (service, zone, residential), built once and grown as weights need."""

    def __init__(self) -> None:
        self._tables: dict[tuple[int, int, bool], Table] = {}
        self._services: dict[int, CarrierService] = {}  # keeps table keys' services alive

    def table(self, service: CarrierService, zone: int, residential: bool, up_to: int) -> Table:
        """Freight for 0…`up_to` billable pounds (index = pounds); inf where it cannot go."""
        key = (id(service), zone, residential)
        found = self._tables.get(key)
        if found is None or len(found) <= up_to:
            found = self._build(service, zone, residential, max(up_to, 2 * service.max_weight_lb))
            self._tables[key] = found
            self._services[id(service)] = service
        return found

    def freight(
        self, service: CarrierService, zone: int, pounds: int, residential: bool
    ) -> tuple[float, int]:
        """(freight, parcels) for one shipment of `pounds` billable pounds."""
        if pounds <= 0:
            return 0.0, 1
        value = float(self.table(service, zone, residential, pounds)[pounds])
        return value, self.parcels(service, pounds)

    @staticmethod
    def parcels(service: CarrierService, pounds: int) -> int:
        largest = service.max_weight_lb
        return max(1, math.ceil(pounds / largest)) if largest else 1

    @staticmethod
    def _build(service: CarrierService, zone: int, residential: bool, up_to: int) -> Table:
        largest = service.max_weight_lb
        one = np.full(largest + 1, np.inf)
        for pounds in range(1, largest + 1):
            price = service.price_in_zone(zone, pounds, residential=residential)
            if price is not None:
                one[pounds] = price
        weights = np.arange(up_to + 1)
        if largest == 0:
            table = np.full(up_to + 1, np.inf)
        else:
            parcels = np.maximum(1, np.ceil(weights / largest)).astype(np.int64)
            each = np.ceil(weights / parcels).astype(np.int64)
            table = parcels * one[each]
        table[0] = 0.0
        return np.round(table, 2)


class DateBook:
    """Ship and arrival dates, remembered: they change only with the node's local date and
    which side of its cutoff the order falls, not from one order to the next."""

    def __init__(self) -> None:
        #: (node, pickup days per service, local date, after the cutoff) → ship date per service
        self._ship: dict[tuple[object, ...], tuple[date | None, ...]] = {}
        self._nodes: dict[int, Node] = {}  # keeps the keys' nodes alive
        self._arrival: dict[tuple[date, int], date] = {}
        self._pickups: dict[int, tuple[CarrierService, frozenset[str]]] = {}
        self._services: tuple[CarrierService, ...] = ()
        self._days: tuple[frozenset[str], ...] = ()  # pickup days of each of `_services`
        self._now: datetime | None = None
        self._local: dict[str, datetime] = {}  # `now` in each time zone met since it changed
        #: ZoneInfo keeps only a few zones alive: a network in more would read their files again
        self._zones: dict[str, ZoneInfo] = {}

    def ship_dates(
        self, node: Node, now: datetime, services: tuple[CarrierService, ...]
    ) -> tuple[date | None, ...]:
        """The day a parcel ordered `now` leaves the node by each service (None: no day)."""
        local = self._local_time(node.timezone, now)
        if services is not self._services:  # an order asks with one tuple for every node
            self._services, self._days = services, tuple(self._pickup(s) for s in services)
        pickups = self._days
        key = (id(node), pickups, local.date(), local.time() >= node.calendar.cutoff)
        found = self._ship.get(key)
        if found is None:
            found = self._ship[key] = tuple(ship_date(node, now, days) for days in pickups)
            self._nodes[id(node)] = node
        return found

    def _pickup(self, service: CarrierService) -> frozenset[str]:
        known = self._pickups.get(id(service))
        if known is None:  # the service is kept with its days, so its id stays its own
            known = self._pickups[id(service)] = (
                service,
                frozenset(d.value for d in service.pickup_days),
            )
        return known[1]

    def _local_time(self, timezone: str, now: datetime) -> datetime:
        """`now` in the time zone: an order asks it of every node, and nodes share a few zones."""
        if now is not self._now and (self._now is None or now != self._now):
            self._now, self._local = now, {}
        local = self._local.get(timezone)
        if local is None:
            zone = self._zones.get(timezone)
            if zone is None:
                zone = self._zones[timezone] = ZoneInfo(timezone)
            local = self._local[timezone] = now.astimezone(zone)
        return local

    def arrival(self, leaves: date, transit_days: int) -> date:
        key = (leaves, transit_days)
        found = self._arrival.get(key)
        if found is None:
            found = self._arrival[key] = add_business_days(leaves, transit_days)
        return found
