"""Record identifiers: random hex, unique, and never the same in a forked child as in its
parent."""

from __future__ import annotations

import os
import string

from dom.ids import random_hex


def test_identifiers_are_hex_of_the_length_asked_and_do_not_repeat() -> None:
    made = [random_hex(8) for _ in range(5_000)]  # more than one 4 KiB draw
    assert all(len(i) == 16 and set(i) <= set(string.hexdigits.lower()) for i in made)
    assert len(set(made)) == len(made)
    assert len(random_hex(16)) == 32


def test_a_forked_child_does_not_hand_out_its_parents_next_identifiers() -> None:
    random_hex(8)  # the pool holds bytes the child would inherit
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.close(read)
        os.write(write, "".join(random_hex(8) for _ in range(4)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        in_child = pipe.read()
    os.waitpid(child, 0)
    in_parent = "".join(random_hex(8) for _ in range(4))
    assert len(in_child) == len(in_parent) == 64
    assert in_child != in_parent
