"""Products read by routing are kept by the process under the catalogue's token, and read again
once the catalogue changes."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Engine, event

from dom.adapters import repositories as repo
from dom.adapters.database import writing
from dom.adapters.network_cache import network
from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR
from dom.domain.catalog import Product
from dom.services import masterdata
from dom.services.demo import demo_network


def _read(engine: Engine, sku: str) -> tuple[Product | None, int]:
    """The product as a routed order's transaction reads it, and the queries of products run."""
    asked = [0]

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        asked[0] += "FROM products" in statement

    event.listen(engine, "before_cursor_execute", count)
    try:
        with writing(engine) as connection:
            network(connection)  # reads the catalogue's token with the network's
            product = repo.products_by_sku(connection, [sku]).get(sku)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return product, asked[0]


def test_a_product_is_read_once_until_the_catalogue_changes(
    engine: Engine, zips: ZipDirectory
) -> None:
    data = demo_network(zips, stores=0, dcs=1, skus=5, vendors=0, third_party=0)
    masterdata.store_master_data(engine, LOCAL_OPERATOR, data)
    product = data.products[0]

    first, queries_first = _read(engine, product.sku)
    again, queries_again = _read(engine, product.sku)
    unknown, _ = _read(engine, "NOT-IN-CATALOGUE")
    renamed = replace(product, name="Renamed")
    with writing(engine) as connection:
        repo.save_products(connection, [renamed])
    after, queries_after = _read(engine, product.sku)

    assert (first, again, unknown) == (product, product, None)
    assert (queries_first, queries_again) == (1, 0)
    assert (after, queries_after) == (renamed, 1)
