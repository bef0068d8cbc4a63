"""What the console's pages draw on the US map: one marker per node, shaped by the node's type.

The nodes page and the inventory page both place nodes with these; the template macro
`map.html` draws them the same way (shape definitions, background, markers with a tooltip).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup

from dom.console.usmap import HEIGHT, WIDTH, Point, us_map
from dom.domain.network import Node, NodeType

TYPE_LABELS = {
    NodeType.DISTRIBUTION_CENTRE: "Distribution centre",
    NodeType.STORE: "Store",
    NodeType.DROPSHIP_VENDOR: "Dropship vendor",
    NodeType.THIRD_PARTY_WAREHOUSE: "3PL warehouse",
}
#: stores first so the fewer, larger nodes are drawn on top of them
DRAWING_ORDER = {
    NodeType.STORE: 0,
    NodeType.DROPSHIP_VENDOR: 1,
    NodeType.THIRD_PARTY_WAREHOUSE: 2,
    NodeType.DISTRIBUTION_CENTRE: 3,
}


@dataclass(frozen=True)
class Marker:
    """A node drawn at its point, with a tooltip, extra CSS classes and a size (1 = normal)."""

    node: Node
    at: Point
    title: str
    classes: tuple[str, ...] = ()
    scale: float = 1.0

    @property
    def css_class(self) -> str:
        return " ".join(("marker", f"t-{self.node.type.value}", *self.classes))

    @property
    def transform(self) -> str:
        moved = f"translate({self.at.x:.1f} {self.at.y:.1f})"
        return moved if self.scale == 1 else f"{moved} scale({self.scale:.2f})"


@dataclass(frozen=True)
class MapView:
    """Everything the map macro needs: the static background and the markers, in drawing order."""

    markers: list[Marker]
    background: Markup
    width: int = WIDTH
    height: int = HEIGHT


def place(node: Node) -> Point | None:
    """Where a node is drawn, or None when the map does not show its place."""
    return us_map().place(node.address.state, node.location)


def map_view(markers: Iterable[Marker]) -> MapView:
    """The map with these markers, stores underneath and distribution centres on top."""
    ordered = sorted(markers, key=lambda m: DRAWING_ORDER[m.node.type])
    # the background is our own numbers and fixed labels, escaped where it holds text
    return MapView(ordered, Markup(us_map().background))
