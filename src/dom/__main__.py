"""`python -m dom`: the `dom` command."""

from dom.cli import app

app(prog_name="dom")
