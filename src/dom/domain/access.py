"""Who may do what: roles, principals and the permission rules, as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dom.domain.errors import Forbidden


class Role(StrEnum):
    ADMIN = "admin"
    CHANNEL = "channel"
    NODE = "node"
    VIEWER = "viewer"


class Action(StrEnum):
    READ_NETWORK = "network:read"
    WRITE_NETWORK = "network:write"
    OPERATE_NODE = "node:operate"
    READ_CATALOG = "catalog:read"
    WRITE_CATALOG = "catalog:write"
    READ_CARRIERS = "carriers:read"
    WRITE_CARRIERS = "carriers:write"
    IMPORT_MASTER_DATA = "masterdata:import"
    EXPORT_MASTER_DATA = "masterdata:export"
    RUN_AUDIT = "audit:read"
    READ_INVENTORY = "inventory:read"
    RECORD_INVENTORY = "inventory:record"
    RESERVE = "inventory:reserve"
    MANAGE_KEYS = "keys:manage"
    MANAGE_ROUTING = "routing:manage"  # save and activate sourcing profiles and selection rules
    CAPTURE_ORDERS = "orders:capture"
    READ_ORDERS = "orders:read"
    MANAGE_ORDERS = "orders:manage"  # release holds, cancel, release to nodes
    FULFIL = "fulfilment:operate"  # a node works its fulfilment requests
    MANAGE_NOTIFICATIONS = "notifications:manage"  # webhooks, deliveries, message templates


READS = frozenset(
    {
        Action.READ_NETWORK,
        Action.READ_CATALOG,
        Action.READ_CARRIERS,
        Action.EXPORT_MASTER_DATA,
        Action.RUN_AUDIT,
        Action.READ_INVENTORY,
        Action.READ_ORDERS,
    }
)

GRANTS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.VIEWER: READS,
    # A channel (web shop, marketplace) needs the catalogue, the service levels it can offer and
    # availability, and holds stock for its carts and orders.
    # It captures its own orders, follows them and may hold, release or cancel them.
    Role.CHANNEL: frozenset(
        {
            Action.READ_CATALOG,
            Action.READ_CARRIERS,
            Action.READ_INVENTORY,
            Action.RESERVE,
            Action.CAPTURE_ORDERS,
            Action.READ_ORDERS,
            Action.MANAGE_ORDERS,
        }
    ),
    # A node system sees its own node, the catalogue and carriers, can pause or resume itself and
    # reports its own stock.
    Role.NODE: frozenset(
        {
            Action.READ_NETWORK,
            Action.OPERATE_NODE,
            Action.READ_CATALOG,
            Action.READ_CARRIERS,
            Action.READ_INVENTORY,
            Action.RECORD_INVENTORY,
            Action.FULFIL,
        }
    ),
}


@dataclass(frozen=True)
class Principal:
    """The caller behind an API key."""

    key_id: str
    name: str
    role: Role
    node_id: str | None = None
    channel: str | None = None

    def may(self, action: Action) -> bool:
        return action in GRANTS[self.role]

    def require(self, action: Action) -> None:
        if not self.may(action):
            raise Forbidden(f"role {self.role.value} may not {action.value}")

    def sees_node(self, node_id: str) -> bool:
        """A node key is confined to its own node; every other role sees the whole network."""
        return self.role is not Role.NODE or self.node_id == node_id

    def sees_channel(self, channel: str) -> bool:
        """A channel key is confined to its own channel's orders."""
        return self.role is not Role.CHANNEL or self.channel == channel

    def require_node(self, node_id: str) -> None:
        if not self.sees_node(node_id):
            raise Forbidden(f"this key belongs to node {self.node_id!r}, not {node_id!r}")


#: Whoever runs the `dom` command on the server's own machine has its database, so acts as admin.
LOCAL_OPERATOR = Principal("local", "command line", Role.ADMIN)
