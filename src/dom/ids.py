"""Random identifiers for records: orders, fulfilment requests, routing decisions, outbox
events, reservations.

They must be unique, not secret (nothing is granted by knowing one; API keys and signing
secrets are made with `secrets`). The bytes come from the operating system's random source, as
`secrets.token_hex` takes them, but 4 KiB at a time instead of one system call per identifier
(a captured order takes about eight; here each call cost more than the rest of making the id).
"""

from __future__ import annotations

import os
import threading

_CHUNK = 4096

_lock = threading.Lock()
_pool = bytearray()


def random_hex(nbytes: int) -> str:
    """`nbytes` random bytes as hexadecimal, like `secrets.token_hex(nbytes)`."""
    global _pool
    with _lock:
        if len(_pool) < nbytes:
            _pool = bytearray(os.urandom(max(_CHUNK, nbytes)))
        taken = _pool[-nbytes:]
        del _pool[-nbytes:]
    return taken.hex()


def _forget() -> None:
    """A forked child must not hand out its parent's bytes again."""
    global _pool
    _pool = bytearray()


os.register_at_fork(after_in_child=_forget)
