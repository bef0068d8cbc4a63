"""Orders: the canonical order, its lines and fulfilment requests, and their state machines."""
