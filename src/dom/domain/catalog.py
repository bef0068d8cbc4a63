"""Products: what is sold, how big and heavy it is, and how it must be handled."""

from __future__ import annotations

import re
from dataclasses import dataclass

from dom.domain.errors import InvalidField
from dom.domain.network import Handling

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$")


@dataclass(frozen=True)
class Dimensions:
    """Outer dimensions of one sellable unit in inches and its weight in pounds."""

    length_in: float
    width_in: float
    height_in: float
    weight_lb: float

    def __post_init__(self) -> None:
        for name in ("length_in", "width_in", "height_in"):
            if not getattr(self, name) > 0:
                raise InvalidField(name.removesuffix("_in"), "must be a positive number")
        if not self.weight_lb > 0:
            raise InvalidField("weight", "must be a positive number")

    @property
    def cubic_inches(self) -> float:
        return self.length_in * self.width_in * self.height_in


@dataclass(frozen=True)
class Product:
    """A SKU. Items that are not stock-tracked (digital goods, services) need no dimensions."""

    sku: str
    name: str
    dimensions: Dimensions | None
    handling: frozenset[Handling] = frozenset()
    ship_alone: bool = False
    stock_tracked: bool = True

    def __post_init__(self) -> None:
        if not SKU.fullmatch(self.sku):
            raise InvalidField(
                "sku", "must be 1-64 letters, digits or '._-/', starting with a letter or digit"
            )
        if not self.name.strip():
            raise InvalidField("name", "is required")
        if self.stock_tracked and self.dimensions is None:
            raise InvalidField("dimensions", "a stock-tracked product needs dimensions and weight")
