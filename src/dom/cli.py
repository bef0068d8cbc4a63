"""The `dom` command: serve, worker, migrate, demo, import, export, audit, keys, inventory,
profiles, rules, forecast and simulate."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy import Engine

from dom.adapters import repositories as repo
from dom.adapters.database import make_engine, reading
from dom.adapters.tables import nodes as nodes_table
from dom.adapters.zip_directory import zip_directory
from dom.config import Settings
from dom.domain.access import LOCAL_OPERATOR, Role
from dom.domain.audit import STALE_DAYS
from dom.domain.errors import DomError, InvalidInput
from dom.logs import configure_logging
from dom.services import keys as key_service
from dom.services import masterdata
from dom.services.formats import parse_json
from dom.services.schema import migrate as migrate_schema

if TYPE_CHECKING:
    from dom.domain.inventory import Position
    from dom.services.demo_stock import StockReport
    from dom.services.forecasts import ForecastInfo
    from dom.services.profiles import Activation, Change, VersionInfo
    from dom.simulation.model import Scenario

app = typer.Typer(
    help="dom: distributed order management.", no_args_is_help=True, add_completion=False
)
keys_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
out = Console()
err = Console(stderr=True)
log = logging.getLogger("dom.worker")
DEMO_KEY_NAME = "local-demo"


def _engine() -> Engine:
    settings = Settings()
    settings.ensure_local_dirs()
    return make_engine(settings.database_url)


def _fail(error: DomError) -> None:
    err.print(f"[red]error:[/red] {error.detail}")
    if isinstance(error, InvalidInput):
        table = Table("source", "line", "field", "reason", title="problems", title_justify="left")
        for problem in error.problems:
            line = "" if problem.line is None else str(problem.line)
            table.add_row(problem.source or "", line, problem.field, problem.reason)
        err.print(table)
    raise typer.Exit(2)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    engine = _engine()
    migrate_schema(engine)
    out.print(f"database at newest schema: {engine.url.render_as_string(hide_password=True)}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: DOM_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: DOM_PORT")] = None,
    workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 1,
) -> None:
    """Serve the REST API and the console."""
    import uvicorn

    settings = Settings()
    settings.ensure_local_dirs()
    configure_logging(settings.log_level, json_lines=settings.json_logs)
    uvicorn.run(
        "dom.api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_config=None,
    )


@app.command()
def up(
    host: Annotated[str | None, typer.Option(help="default: DOM_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: DOM_PORT")] = None,
) -> None:
    """Migrate, load the demo network and its stock into an empty database, print a local
    admin key, serve."""
    from dom.services.demo import load_demo
    from dom.services.demo_stock import load_demo_stock

    engine = _engine()
    migrate_schema(engine)
    with reading(engine) as connection:
        empty = repo.count_rows(connection, nodes_table) == 0
    if empty:
        out.print("empty database: loading the demo network …")
        report = load_demo(engine, LOCAL_OPERATOR, zip_directory())
        out.print(
            f"demo network loaded: {report.nodes.received} nodes, {report.products.received} products, "
            f"{report.carrier_services.received} carrier services"
        )
        _print_stock(load_demo_stock(engine, LOCAL_OPERATOR))
    key_service.revoke_keys_named(engine, DEMO_KEY_NAME)
    issued = key_service.create_key(engine, DEMO_KEY_NAME, Role.ADMIN)
    settings = Settings()
    url = f"http://{host or settings.host}:{port or settings.port}"
    out.print(f"\n[bold]dom[/bold] at {url}  (API docs: {url}/docs)")
    out.print(
        f"local admin key (shown once; a new one on every start): [bold green]{issued.token}[/bold green]\n"
    )
    engine.dispose()
    relay = subprocess.Popen([sys.executable, "-m", "dom", "worker"])
    out.print(f"worker started: webhooks, customer messages ({_mail_target(settings)}), jobs\n")
    try:
        serve(host=host, port=port, workers=1)
    finally:
        _stop(relay)


def _mail_target(settings: Settings) -> str:
    return f"SMTP {settings.smtp_url}" if settings.smtp_url else f"as .eml in {settings.mail_dir}/"


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="run one round and exit (tests, cron)")
    ] = False,
    every: Annotated[float, typer.Option(min=0.1, help="seconds between rounds")] = 2.0,
) -> None:
    """Deliver the outbox (signed webhooks, customer messages) and run the order jobs
    (backorders, late requests, uncollected pickups, waves, the hourly demand forecast), every
    few seconds."""
    import time

    from dom.services.schema import is_current

    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.json_logs)
    engine = _engine()
    if not is_current(engine):
        err.print("[red]error:[/red] the database is not at the newest schema: run `dom migrate`")
        raise typer.Exit(2)
    steps = _worker_steps(engine, settings)
    try:
        while True:
            done = _work_round(steps)
            if once:
                out.print(", ".join(f"{name}: {count}" for name, count in done.items()))
                return
            time.sleep(every)
    except KeyboardInterrupt:
        return
    finally:
        engine.dispose()


#: How often the worker looks for backorders to source and late requests (seconds).
JOB_SECONDS = 30.0


def _worker_steps(engine: Engine, settings: Settings) -> dict[str, Callable[[], int]]:
    """What one round of the worker does, in order: the jobs first (they publish events), then
    the relay."""
    from datetime import timedelta

    from dom.adapters.mail import mailer_for
    from dom.domain.notifications import Relay
    from dom.services import forecasts, notifications, order_changes, order_jobs

    key = notifications.master_key(engine, settings.secret_key)
    relay = Relay(
        max_attempts=settings.webhook_max_attempts,
        base_delay=timedelta(seconds=settings.retry_base_seconds),
        timeout_seconds=settings.webhook_timeout_seconds,
        mail_from=settings.mail_from,
        public_url=settings.public_url.rstrip("/"),
        track_key=key,
    )
    policy = order_changes.Policy.from_settings(settings)
    mailer = mailer_for(settings.smtp_url, Path(settings.mail_dir))
    zips = zip_directory()

    def late() -> int:
        outcome = order_jobs.watch_late(engine, zips, policy)
        return outcome.moved + outcome.flagged

    return {
        "backorders sourced": every(
            JOB_SECONDS, lambda: order_jobs.retry_waiting(engine, zips, policy)
        ),
        "late requests moved or flagged": every(JOB_SECONDS, late),
        "pickups expired": lambda: order_jobs.expire_pickups(engine, policy),
        "queued orders routed in a wave": every(
            settings.wave_interval_seconds, lambda: order_jobs.route_queued(engine, zips, policy)
        ),
        "demand forecast cells refreshed": every(
            settings.forecast_interval_seconds,
            lambda: (
                forecasts.refresh(
                    engine,
                    LOCAL_OPERATOR,
                    settings.forecast_days,
                    lost_sale=settings.forecast_lost_sale,
                ).cells
            ),
        ),
        "events fanned out": lambda: notifications.fan_out(engine, relay),
        "webhooks tried": lambda: notifications.deliver_webhooks(engine, relay, key),
        "messages tried": lambda: notifications.send_messages(engine, relay, mailer),
    }


def every(seconds: float, step: Callable[[], int]) -> Callable[[], int]:
    """The step, run at most once per `seconds` (the first round runs it)."""
    import time

    last = [float("-inf")]

    def run() -> int:
        if time.monotonic() - last[0] < seconds:
            return 0
        last[0] = time.monotonic()
        return step()

    return run


def _work_round(steps: dict[str, Callable[[], int]]) -> dict[str, int]:
    """Run each step once; a failing step is logged and the others still run."""
    done: dict[str, int] = {}
    for name, step in steps.items():
        try:
            done[name] = step()
        except Exception:
            log.exception("worker step %r failed; next round tries again", name)
            done[name] = 0
        if done[name]:
            log.info("%s: %d", name, done[name])
    return done


@app.command()
def demo(
    seed: Annotated[
        int, typer.Option(help="random seed: the same seed builds the same network")
    ] = 7,
    stores: Annotated[int, typer.Option(min=0, help="number of stores")] = 60,
    dcs: Annotated[int, typer.Option(min=1, help="number of distribution centres")] = 4,
    skus: Annotated[int, typer.Option(min=1, help="number of products")] = 2000,
    output: Annotated[
        Path | None,
        typer.Option(help="write the network as a JSON bundle here instead of loading it"),
    ] = None,
    stock: Annotated[
        bool,
        typer.Option(
            "--stock/--no-stock", help="also count seeded stock into every node, place POs"
        ),
    ] = True,
) -> None:
    """Build the realistic demo network (real US geography, seeded) and load it, with stock."""
    from dom.services.demo import demo_network, load_demo
    from dom.services.demo_stock import load_demo_stock

    zips = zip_directory()
    if output is not None:
        data = demo_network(zips, seed=seed, stores=stores, dcs=dcs, skus=skus)
        output.write_text(json.dumps(masterdata.as_json_bundle(data), indent=1))
        out.print(f"wrote {output}")
        return
    engine = _engine()
    migrate_schema(engine)
    try:
        report = load_demo(
            engine, LOCAL_OPERATOR, zips, seed=seed, stores=stores, dcs=dcs, skus=skus
        )
        out.print(
            f"demo network: {report.nodes.received} nodes, {report.products.received} products, "
            f"{report.carrier_services.received} carrier services"
        )
        if stock:
            _print_stock(load_demo_stock(engine, LOCAL_OPERATOR, seed=seed))
    except DomError as error:
        _fail(error)


def _print_stock(report: StockReport) -> None:
    placed = (
        f"{report.inbound_lines} purchase-order lines inbound"
        if report.inbound_lines
        else "no new purchase orders (supply already inbound)"
    )
    out.print(
        f"demo stock: {report.units:,} units in {report.positions:,} positions at "
        f"{report.nodes} nodes, safety stock on {report.safety_stock}, {placed}"
    )


def _kind_of(path: Path) -> str:
    stem = path.stem.lower()
    for kind in masterdata.CSV_KINDS:
        if (
            stem == kind
            or stem.startswith(kind + "-")
            or stem.startswith(kind + "_")
            or stem.endswith("-" + kind)
        ):
            return kind
    raise typer.BadParameter(
        f"cannot tell what {path.name} holds; name it after its kind ({', '.join(masterdata.CSV_KINDS)})"
    )


def read_bundle(paths: list[Path]) -> masterdata.RawBundle:
    """Files to one import: JSON bundles, CSV files named by kind, or folders of them."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".json")))
        else:
            files.append(path)
    bundle = masterdata.RawBundle()
    csv_texts: dict[str, str] = {}
    for path in files:
        if not path.exists():
            raise typer.BadParameter(f"{path} does not exist")
        if path.suffix.lower() == ".json":
            part = masterdata.bundle_from_json(parse_json(path.read_bytes(), path.name), path.name)
            for name in ("nodes", "products", "services"):
                getattr(bundle, name).extend(getattr(part, name))
        else:
            kind = _kind_of(path)
            if kind in csv_texts:
                raise typer.BadParameter(f"two files hold {kind}")
            csv_texts[kind] = path.read_text(encoding="utf-8-sig")
    part = masterdata.bundle_from_csv(csv_texts)
    for name in ("nodes", "products", "services", "zones", "rates", "problems"):
        getattr(bundle, name).extend(getattr(part, name))
    return bundle


@app.command("import")
def import_(
    paths: Annotated[
        list[Path], typer.Argument(help="JSON bundles, CSV files named by kind, or folders")
    ],
) -> None:
    """Import master data, all or nothing; every bad row is reported with its line and reason."""
    engine = _engine()
    migrate_schema(engine)
    try:
        bundle = read_bundle(paths)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=False,
            disable=bundle.size < 5_000,
        ) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(kind: str, done: int, total: int) -> None:
                if kind not in tasks:
                    tasks[kind] = bar.add_task(kind, total=total)
                bar.update(tasks[kind], completed=done)

            report = masterdata.import_master_data(
                engine, LOCAL_OPERATOR, bundle, zip_directory(), progress
            )
    except DomError as error:
        _fail(error)
    table = Table("kind", "received", "created", "updated", title="imported", title_justify="left")
    for kind in ("nodes", "products", "carrier_services"):
        counts = getattr(report, kind)
        table.add_row(kind, str(counts.received), str(counts.created), str(counts.updated))
    out.print(table)


@app.command()
def export(
    target: Annotated[Path, typer.Argument(help="a .json file, or a folder for CSV files")],
    format: Annotated[str, typer.Option(help="json or csv")] = "json",
) -> None:
    """Export all master data: one JSON bundle, or one CSV file per kind in a folder."""
    engine = _engine()
    data = masterdata.export_master_data(engine, LOCAL_OPERATOR)
    if format == "json":
        target.write_text(json.dumps(masterdata.as_json_bundle(data), indent=1))
        out.print(f"wrote {target}")
    elif format == "csv":
        target.mkdir(parents=True, exist_ok=True)
        for kind, text in masterdata.csv_files(data).items():
            (target / f"{kind}.csv").write_text(text)
        out.print(f"wrote {len(masterdata.CSV_KINDS)} CSV files to {target}")
    else:
        raise typer.BadParameter("format must be json or csv")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="who or what uses the key")],
    role: Annotated[Role, typer.Option(help="admin, channel, node or viewer")],
    node: Annotated[str | None, typer.Option(help="for a node key: its node id")] = None,
    channel: Annotated[str | None, typer.Option(help="for a channel key: its channel")] = None,
) -> None:
    """Issue a key; its secret is printed once and never stored."""
    engine = _engine()
    migrate_schema(engine)
    try:
        issued = key_service.create_key(engine, name, role, node_id=node, channel=channel)
    except DomError as error:
        _fail(error)
    err.print(
        f"key {issued.principal.key_id} ({role.value}) — store it now, it is not shown again:"
    )
    print(issued.token)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (never their secrets)."""
    table = Table("id", "name", "role", "node", "channel", "created", "revoked")
    for key in key_service.list_keys(_engine()):
        table.add_row(
            key.id,
            key.name,
            key.role.value,
            key.node_id or "",
            key.channel or "",
            key.created_at.strftime("%Y-%m-%d %H:%M"),
            key.revoked_at.strftime("%Y-%m-%d %H:%M") if key.revoked_at else "",
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id (see `dom keys list`)")],
) -> None:
    """Revoke a key at once."""
    try:
        key_service.revoke_key(_engine(), key_id)
    except DomError as error:
        _fail(error)
    out.print(f"revoked {key_id}")


@app.command()
def audit(
    format: Annotated[str, typer.Option(help="table or json")] = "table",
    fail_on: Annotated[
        str, typer.Option(help="lowest severity that fails the run: error or warning")
    ] = "warning",
    stale_days: Annotated[
        int, typer.Option(min=1, help="inventory counts older than this are stale")
    ] = STALE_DAYS,
) -> None:
    """Audit master-data quality, ranked by impact; exit 0 clean, 1 warnings, 2 errors."""
    from rich.markup import escape

    from dom.domain.audit import Severity
    from dom.services.audit import run_audit
    from dom.services.schema import is_current

    if format not in ("table", "json"):
        raise typer.BadParameter("format must be table or json", param_hint="--format")
    if fail_on not in (Severity.ERROR, Severity.WARNING):
        raise typer.BadParameter("fail-on must be error or warning", param_hint="--fail-on")
    threshold = Severity(fail_on)
    engine = _engine()
    if not is_current(engine):
        err.print("[red]error:[/red] the database schema is not current; run `dom migrate`")
        raise typer.Exit(2)
    try:
        report = run_audit(engine, LOCAL_OPERATOR, zip_directory(), stale_days=stale_days)
    except DomError as error:
        _fail(error)
    if format == "json":
        print(json.dumps(report.as_dict(threshold), indent=1))
        raise typer.Exit(report.exit_code(threshold))
    colours = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
    if report.findings:
        table = Table("#", "impact", "severity", "check", "subject", "message", title="audit")
        for rank, found in enumerate(report.findings, start=1):
            colour = colours[found.severity]
            table.add_row(
                str(rank),
                f"{found.impact:g}",
                f"[{colour}]{found.severity.value}[/{colour}]",
                found.check,
                escape(f"{found.subject_kind.value} {found.subject_id}"),
                escape(found.message),
            )
        out.print(table)
    plural = {Severity.ERROR: "errors", Severity.WARNING: "warnings", Severity.INFO: "info"}
    counts = ", ".join(
        f"{n} {severity.value if n == 1 else plural[severity]}"
        for severity, n in report.counts.items()
    )
    examined = ", ".join(f"{kind.replace('_', ' ')} {n}" for kind, n in report.examined.items())
    verdict = counts if report.findings else "[green]no findings[/green]"
    out.print(f"{verdict} (examined: {examined})")
    for note in report.notes:
        out.print(f"[dim]note: {escape(note)}[/dim]")
    raise typer.Exit(report.exit_code(threshold))


inventory_app = typer.Typer(
    help="Stock positions: sync counts, record events, look up.", no_args_is_help=True
)
app.add_typer(inventory_app, name="inventory")


def _rows(path: Path) -> list[dict[str, str]]:
    """Rows of a CSV file with a header, or items of a JSON array."""
    import csv

    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        items = parse_json(text, path.name)
        if not isinstance(items, list):
            raise typer.BadParameter(f"{path.name} must hold a JSON array")
        return [dict(item) for item in items]
    return list(csv.DictReader(text.splitlines()))


@inventory_app.command("sync")
def inventory_sync(
    node: Annotated[str, typer.Argument(help="the node counted")],
    path: Annotated[Path, typer.Argument(help="CSV (sku,quantity) or JSON [{sku, quantity}]")],
    source: Annotated[str, typer.Option(help="the counting system")] = "cli",
    as_of: Annotated[str | None, typer.Option(help="ISO time of the count (default: now)")] = None,
    key: Annotated[
        str | None, typer.Option(help="idempotency key (default: from file and time)")
    ] = None,
) -> None:
    """Apply a full count of a node atomically; SKUs it holds that the file leaves out become 0."""
    import hashlib
    from datetime import UTC, datetime

    from dom.services import inventory

    counted_at = datetime.fromisoformat(as_of) if as_of else datetime.now(UTC)
    if counted_at.tzinfo is None:
        raise typer.BadParameter(
            "give a time zone, e.g. 2026-11-25T06:00:00+00:00", param_hint="--as-of"
        )
    counts: dict[str, int] = {}
    problems = []
    for line, row in enumerate(_rows(path), start=2):
        try:
            counts[str(row["sku"])] = int(str(row["quantity"]))
        except (KeyError, ValueError):
            problems.append(f"line {line}: needs a sku and a whole-number quantity")
    if problems:
        err.print("\n".join(problems))
        raise typer.Exit(2)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    try:
        synced = inventory.sync_node(
            _engine(),
            LOCAL_OPERATOR,
            node,
            counts,
            source=source,
            source_time=counted_at,
            idempotency_key=key or f"{node}:{counted_at.isoformat()}:{digest}",
        )
    except DomError as error:
        _fail(error)
    out.print(
        f"{node}: {synced.positions} positions counted, {synced.applied} applied, "
        f"{synced.uncovered} allocated units uncovered"
    )


@inventory_app.command("events")
def inventory_events(
    path: Annotated[Path, typer.Argument(help="CSV or JSON of events (the API's fields)")],
) -> None:
    """Record inventory events from a file, all or none; repeated keys apply once."""
    from pydantic import ValidationError

    from dom.domain.errors import InvalidField, Problem
    from dom.domain.inventory import InventoryEvent
    from dom.schemas.inventory import EventIn
    from dom.services import inventory

    requests = []
    problems: list[Problem] = []
    for line, row in enumerate(_rows(path), start=2):
        values = {k: v for k, v in row.items() if v not in ("", None)}
        try:
            item = EventIn.model_validate(values)
            event = InventoryEvent(
                item.kind,
                item.sku,
                item.node_id,
                item.quantity,
                item.source,
                item.source_time,
                item.reason,
            )
        except ValidationError as error:
            for issue in error.errors():
                field = ".".join(str(p) for p in issue["loc"])
                problems.append(Problem(field, issue["msg"], line=line, source=path.name))
            continue
        except InvalidField as error:
            problems.append(Problem(error.field, error.reason, line=line, source=path.name))
            continue
        requests.append(inventory.EventRequest(item.idempotency_key, event, item.supply_id))
    try:
        if problems:
            raise InvalidInput(problems)
        outcomes = inventory.record_events(_engine(), LOCAL_OPERATOR, requests)
    except DomError as error:
        _fail(error)
    applied = sum(1 for o in outcomes if o.applied and not o.replayed)
    replayed = sum(1 for o in outcomes if o.replayed)
    out.print(f"{len(outcomes)} events: {applied} applied, {replayed} already recorded")


@inventory_app.command("positions")
def inventory_positions(
    sku: Annotated[str | None, typer.Option(help="one SKU across nodes")] = None,
    node: Annotated[str | None, typer.Option(help="one node across SKUs")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 200,
) -> None:
    """Positions of a SKU across nodes, or of a node across SKUs."""
    from dom.services import inventory

    if sku is None and node is None:
        raise typer.BadParameter("give --sku, --node or both")
    found = inventory.positions(_engine(), LOCAL_OPERATOR, sku=sku, node_id=node, limit=limit)
    out.print(_positions_table(found))


@inventory_app.command("low-stock")
def inventory_low_stock(
    threshold: Annotated[
        int, typer.Option(min=0, help="at or below this many units available to ship")
    ] = 0,
    node: Annotated[str | None, typer.Option(help="one node only")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """Positions at or below a threshold of units available to ship, emptiest first."""
    from dom.services import inventory

    try:
        found = inventory.low_stock(
            _engine(), LOCAL_OPERATOR, threshold=threshold, node_id=node, limit=limit
        )
    except DomError as error:
        _fail(error)
    if as_json:
        _print_positions_json(found)
    else:
        _print_positions_report(found, f"{len(found)} positions at or below {threshold} available")


@inventory_app.command("stale")
def inventory_stale(
    days: Annotated[
        int, typer.Option(min=1, help="counts older than this many days are stale")
    ] = STALE_DAYS,
    node: Annotated[str | None, typer.Option(help="one node only")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """Positions holding stock last counted over --days ago (the audit's rule), oldest first."""
    from dom.services.inventory_reports import stale_positions

    try:
        found = stale_positions(_engine(), LOCAL_OPERATOR, days=days, node_id=node, limit=limit)
    except DomError as error:
        _fail(error)
    if as_json:
        _print_positions_json(found)
    else:
        _print_positions_report(found, f"{len(found)} positions not counted in {days} days")


@inventory_app.command("totals")
def inventory_totals(
    sku: Annotated[
        list[str] | None, typer.Option(help="a SKU to total; repeat for more (up to 500)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """Network totals per SKU, summed over every node holding a position."""
    from dataclasses import asdict

    from dom.services import inventory

    if not sku:
        raise typer.BadParameter("give at least one --sku", param_hint="--sku")
    if len(sku) > 500:
        raise typer.BadParameter("at most 500 SKUs at a time", param_hint="--sku")
    try:
        found = inventory.network_totals(_engine(), LOCAL_OPERATOR, sku)
    except DomError as error:
        _fail(error)
    if as_json:
        print(json.dumps([asdict(t) for t in found], indent=1))
        return
    table = Table("sku", "nodes", "on hand", "reserved", "allocated", "available")
    for t in found:
        table.add_row(
            t.sku,
            str(t.nodes),
            str(t.on_hand),
            str(t.reserved),
            str(t.allocated),
            str(t.available),
        )
    out.print(table)


def _positions_table(found: Sequence[Position]) -> Table:
    table = Table(
        "sku", "node", "on hand", "reserved", "allocated", "safety", "available", "counted"
    )
    for p in found:
        counted = p.snapshot_at.strftime("%Y-%m-%d %H:%M") if p.snapshot_at else "never"
        table.add_row(
            p.sku,
            p.node_id,
            str(p.on_hand),
            str(p.reserved),
            str(p.allocated),
            str(p.safety_stock),
            str(p.available),
            counted,
        )
    return table


def _print_positions_json(found: Sequence[Position]) -> None:
    """The API's position fields, as a JSON array on stdout."""
    rows = [
        {
            "sku": p.sku,
            "node_id": p.node_id,
            "on_hand": p.on_hand,
            "reserved": p.reserved,
            "allocated": p.allocated,
            "safety_stock": p.safety_stock,
            "available": p.available,
            "snapshot_at": p.snapshot_at.isoformat() if p.snapshot_at else None,
        }
        for p in found
    ]
    print(json.dumps(rows, indent=1))


def _print_positions_report(found: Sequence[Position], summary: str) -> None:
    if found:
        out.print(_positions_table(found))
    out.print(summary)


@inventory_app.command("history")
def inventory_history(
    sku: Annotated[str, typer.Argument()],
    node: Annotated[str, typer.Argument()],
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """What happened to one position, newest first."""
    from dom.services import inventory

    table = Table("recorded", "kind", "qty", "reason", "source", "by", "applied", "on hand", "note")
    for e in inventory.position_history(_engine(), LOCAL_OPERATOR, sku, node, limit):
        table.add_row(
            e["recorded_at"].strftime("%Y-%m-%d %H:%M:%S"),
            e["kind"],
            str(e["quantity"]),
            e["reason"] or "",
            e["source"],
            e["recorded_by"],
            "yes" if e["applied"] else "no",
            str(e["on_hand_after"]),
            e["note"] or "",
        )
    out.print(table)


profiles_app = typer.Typer(
    help="Sourcing profiles: named, versioned, saved as drafts and then activated.",
    no_args_is_help=True,
)
app.add_typer(profiles_app, name="profiles")
rules_app = typer.Typer(
    help="Selection rules that choose a sourcing profile for each order.", no_args_is_help=True
)
app.add_typer(rules_app, name="rules")


def _migrated_engine() -> Engine:
    engine = _engine()
    migrate_schema(engine)
    return engine


def _json_file(path: Path) -> Any:
    if not path.is_file():
        raise typer.BadParameter(f"{path} does not exist")
    return parse_json(path.read_bytes(), path.name)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def _since(info: VersionInfo) -> str:
    when = info.activated_at or info.created_at
    verb = {"draft": "saved", "active": "active since", "retired": "activated"}[info.status]
    return f"{info.status}, {verb} {when:%Y-%m-%d %H:%M} UTC; saved by {info.created_by}"


def _print_activation(what: str, done: Activation) -> None:
    if not done.changed:
        out.print(f"{what} was active already; nothing changed")
    elif done.retired is None:
        out.print(f"{what} is active")
    else:
        out.print(f"{what} is active; v{done.retired} retired")


def _print_changes(found: Sequence[Change]) -> None:
    from rich.markup import escape

    if not found:
        out.print("no differences")
        return
    table = Table("field", "before", "after")
    for change in found:
        before, after = json.dumps(change.before), json.dumps(change.after)
        table.add_row(change.path, escape(before), escape(after))
    out.print(table)


@profiles_app.command("list")
def profiles_list() -> None:
    """Every profile with its active and latest versions."""
    from rich.markup import escape

    from dom.services import profiles

    table = Table("name", "active", "latest", "description")
    for found in profiles.list_profiles(_migrated_engine(), LOCAL_OPERATOR):
        active = "none" if found.active_version is None else f"v{found.active_version}"
        table.add_row(found.name, active, f"v{found.latest_version}", escape(found.description))
    out.print(table)


@profiles_app.command("show")
def profiles_show(
    name: Annotated[str, typer.Argument(help="the profile")],
    version: Annotated[int | None, typer.Option(min=1, help="default: the active version")] = None,
) -> None:
    """Print a profile as the JSON document `dom profiles save` takes (its status on stderr)."""
    from dom.services import profiles

    try:
        found = profiles.get_profile(_migrated_engine(), LOCAL_OPERATOR, name, version)
    except DomError as error:
        _fail(error)
    err.print(f"{name} v{found.info.version}: {_since(found.info)}")
    _print_json({"name": name, **profiles.profile_body(found.profile)})


@profiles_app.command("save")
def profiles_save(
    path: Annotated[Path, typer.Argument(help="a JSON profile document")],
) -> None:
    """Validate a profile and save it as its name's next draft version; nothing if it is bad."""
    from dom.services import profiles

    try:
        document = profiles.profile_document(_json_file(path))
        version = profiles.save_draft(_migrated_engine(), LOCAL_OPERATOR, document)
    except DomError as error:
        _fail(error)
    out.print(f"saved {document.name} v{version} as a draft")
    out.print(f"activate it with: dom profiles activate {document.name} {version}")


@profiles_app.command("activate")
def profiles_activate(
    name: Annotated[str, typer.Argument(help="the profile")],
    version: Annotated[int, typer.Argument(min=1, help="the version to make active")],
) -> None:
    """Make a version of a profile the active one; the version active before it retires."""
    from dom.services import profiles

    try:
        done = profiles.activate(_migrated_engine(), LOCAL_OPERATOR, name, version)
    except DomError as error:
        _fail(error)
    _print_activation(f"{name} v{version}", done)


@profiles_app.command("diff")
def profiles_diff(
    name: Annotated[str, typer.Argument(help="the profile")],
    before: Annotated[int, typer.Argument(min=1, help="the older version")],
    after: Annotated[int, typer.Argument(min=1, help="the newer version")],
) -> None:
    """Field-by-field changes between two versions of a profile."""
    from dom.services import profiles

    try:
        found = profiles.diff(_migrated_engine(), LOCAL_OPERATOR, name, before, after)
    except DomError as error:
        _fail(error)
    _print_changes(found)


@rules_app.command("list")
def rules_list() -> None:
    """Every version of the selection rules, newest first."""
    from dom.services import profiles

    history = profiles.rule_history(_migrated_engine(), LOCAL_OPERATOR)
    table = Table("version", "status", "saved", "by", "activated")
    for info in history.versions:
        activated = f"{info.activated_at:%Y-%m-%d %H:%M}" if info.activated_at else ""
        table.add_row(
            f"v{info.version}",
            info.status,
            f"{info.created_at:%Y-%m-%d %H:%M}",
            info.created_by,
            activated,
        )
    out.print(table if history.versions else "no rules saved yet")


@rules_app.command("show")
def rules_show(
    version: Annotated[int | None, typer.Option(min=1, help="default: the active version")] = None,
) -> None:
    """Print selection rules as the JSON document `dom rules save` takes (status on stderr)."""
    from dom.services import profiles

    engine = _migrated_engine()
    try:
        found = (
            profiles.rule_history(engine, LOCAL_OPERATOR).active
            if version is None
            else profiles.get_rules(engine, LOCAL_OPERATOR, version)
        )
    except DomError as error:
        _fail(error)
    if found is None:
        err.print(f"no rules active: every order gets {profiles.DEFAULT_FALLBACK}")
        _print_json({"rules": [], "fallback": profiles.DEFAULT_FALLBACK})
        return
    err.print(f"rules v{found.info.version}: {_since(found.info)}")
    _print_json(profiles.rule_set_body(found.rule_set))


@rules_app.command("save")
def rules_save(
    path: Annotated[Path, typer.Argument(help="a JSON document: {rules: [...], fallback}")],
) -> None:
    """Validate selection rules and save them as the next draft version; nothing if bad."""
    from dom.services import profiles

    try:
        document = profiles.rule_set_document(_json_file(path))
        version = profiles.save_rules_draft(_migrated_engine(), LOCAL_OPERATOR, document)
    except DomError as error:
        _fail(error)
    out.print(f"saved rules v{version} as a draft")
    out.print(f"try it with: dom rules dry-run ORDERS.json --rules-version {version}")
    out.print(f"activate it with: dom rules activate {version}")


@rules_app.command("activate")
def rules_activate(
    version: Annotated[int, typer.Argument(min=1, help="the version to make active")],
) -> None:
    """Make a version of the rules the one routing uses; the one active before it retires."""
    from dom.services import profiles

    try:
        done = profiles.activate_rules(_migrated_engine(), LOCAL_OPERATOR, version)
    except DomError as error:
        _fail(error)
    _print_activation(f"rules v{version}", done)


@rules_app.command("diff")
def rules_diff(
    before: Annotated[int, typer.Argument(min=1, help="the older version")],
    after: Annotated[int, typer.Argument(min=1, help="the newer version")],
) -> None:
    """Field-by-field changes between two versions of the rules (rules by position)."""
    from dom.services import profiles

    try:
        found = profiles.diff_rules(_migrated_engine(), LOCAL_OPERATOR, before, after)
    except DomError as error:
        _fail(error)
    _print_changes(found)


def _profile_refs(values: Sequence[str]) -> list[tuple[str, int]]:
    refs = []
    for value in values:
        name, _, version = value.rpartition(":")
        if not name or not version.isdigit() or int(version) < 1:
            raise typer.BadParameter(f"{value!r} is not NAME:VERSION", param_hint="--profile")
        refs.append((name, int(version)))
    return refs


@rules_app.command("dry-run")
def rules_dry_run(
    path: Annotated[Path, typer.Argument(help="a JSON array of sample orders (order facts)")],
    rules_version: Annotated[
        int | None, typer.Option(min=1, help="rules to try (a draft); default: the active")
    ] = None,
    profile: Annotated[
        list[str] | None,
        typer.Option(help="NAME:VERSION of a profile to try instead of the active; repeatable"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table")] = False,
) -> None:
    """Which rule and profile version each sample order would get; nothing changes."""
    from dataclasses import asdict

    from dom.services import profiles

    refs = _profile_refs(profile or [])
    try:
        orders = profiles.order_facts_documents(_json_file(path))
        found = profiles.dry_run(
            _migrated_engine(),
            LOCAL_OPERATOR,
            [profiles.to_order_facts(order) for order in orders],
            rules_version=rules_version,
            profiles=refs,
        )
    except DomError as error:
        _fail(error)
    if as_json:
        _print_json(asdict(found))
        return
    table = Table("order", "rule", "profile", "version")
    for chosen in found.selections:
        version = "not active" if chosen.version is None else f"v{chosen.version}"
        rule = chosen.rule or f"(fallback {found.fallback})"
        table.add_row(str(chosen.order), rule, chosen.profile, version)
    out.print(table)
    used = "no rules" if found.rules_version is None else f"rules v{found.rules_version}"
    out.print(f"{len(found.selections)} orders under {used}")


# ---- forecast -----------------------------------------------------------------------------------

forecast_app = typer.Typer(
    help="The demand forecast that protects store inventory in routing.", no_args_is_help=True
)
app.add_typer(forecast_app, name="forecast")


def _print_forecast(found: ForecastInfo, as_json: bool) -> None:
    from dom.services.plan_records import plain

    if as_json:
        _print_json(plain(found))
        return
    if found.refreshed_at is None:
        out.print("no forecast: never refreshed (`dom forecast refresh`, or run `dom worker`)")
        return
    refreshed = f"{found.refreshed_at:%Y-%m-%d %H:%M:%S} UTC"
    if found.forecast_id is None:
        out.print(f"no forecast: no order history when last refreshed, {refreshed}")
        return
    out.print(
        f"forecast {found.forecast_id}, refreshed {refreshed}: {found.lines:,} demand line(s), "
        f"{found.units:,} unit(s) over {found.days} day(s); {found.cells:,} node × SKU cell(s), "
        f"{found.skus:,} SKU(s), {found.nodes:,} node(s)"
    )


@forecast_app.command("refresh")
def forecast_refresh(
    days: Annotated[int, typer.Option(help="days of order history to learn from")] = 28,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Learn the demand forecast from the last days of orders and make it the one routing uses
    (the worker does this every DOM_FORECAST_INTERVAL_SECONDS)."""
    from dom.services import forecasts

    settings = Settings()
    try:
        found = forecasts.refresh(
            _migrated_engine(), LOCAL_OPERATOR, days, lost_sale=settings.forecast_lost_sale
        )
    except DomError as error:
        _fail(error)
    _print_forecast(found, as_json)


@forecast_app.command("show")
def forecast_show(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """When the forecast was last refreshed and what it holds."""
    from dom.services import forecasts

    _print_forecast(forecasts.current(_migrated_engine(), LOCAL_OPERATOR), as_json)


# ---- simulate -----------------------------------------------------------------------------------

simulate_app = typer.Typer(
    help="Generate and check scenarios; replay them under profiles and baselines side by side.",
    no_args_is_help=True,
)
app.add_typer(simulate_app, name="simulate")


@simulate_app.command("generate")
def simulate_generate(
    output: Annotated[Path, typer.Option("--output", "-o", help="where to write the scenario")],
    nodes: Annotated[int, typer.Option(min=1, help="nodes: one in ten a DC")] = 100,
    skus: Annotated[int, typer.Option(min=1)] = 2000,
    orders: Annotated[int, typer.Option(min=1)] = 2000,
    capacity: Annotated[str, typer.Option(help="tight or slack")] = "slack",
    seed: int = 7,
    start: Annotated[
        str | None, typer.Option(help="ISO date-time the day starts; default 2026-12-01 ET")
    ] = None,
    zipf: Annotated[float, typer.Option(min=0.0, help="Zipf exponent of SKU popularity")] = 1.0,
    pickup_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="share of orders collected at a store")
    ] = 0.0,
    history_days: Annotated[
        int, typer.Option(min=0, help="past days of orders, for demand forecasts")
    ] = 0,
) -> None:
    """Write a scenario in the style of the research instances, on real US geography."""
    from datetime import datetime

    from dom.simulation.generator import START, Tightness, generate_scenario
    from dom.simulation.scenario import dump_scenario

    if capacity not in {t.value for t in Tightness}:
        err.print(f"[red]error:[/red] --capacity must be tight or slack, not {capacity!r}")
        raise typer.Exit(2)
    try:
        began = START if start is None else datetime.fromisoformat(start)
    except ValueError:
        began = None
    if began is None or began.tzinfo is None:
        err.print(f"[red]error:[/red] --start must be a date-time with a time zone, not {start!r}")
        raise typer.Exit(2)
    document = generate_scenario(
        zip_directory(),
        nodes=nodes,
        skus=skus,
        orders=orders,
        capacity=Tightness(capacity),
        seed=seed,
        start=began,
        zipf=zipf,
        pickup_share=pickup_share,
        history_days=history_days,
    )
    output.write_text(dump_scenario(document), encoding="utf-8")
    past = f", {len(document['history']):,} past orders" if history_days else ""
    out.print(
        f"wrote {output}: {nodes} nodes, {skus} SKUs, {len(document['inventory']):,} positions, "
        f"{orders} orders{past}, {capacity} capacity, seed {seed}"
    )


def _scenario(path: Path) -> Scenario:
    from dom.domain.errors import Problem
    from dom.simulation.scenario import load_scenario

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        reason = f"not UTF-8 text (byte {error.start})"
        _fail(InvalidInput([Problem("(the document)", reason, source=path.name)]))
        raise
    try:
        return load_scenario(text, path.name, zip_directory())
    except DomError as error:
        _fail(error)
        raise  # _fail always exits


@simulate_app.command("validate")
def simulate_validate(
    scenario: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Check a scenario file against the schema and the network; exit 2 listing every problem."""
    found = _scenario(scenario)
    positions = sum(len(stock) for stock in found.inventory.values())
    out.print(
        f"{scenario}: a valid dom scenario (format version 1), {found.name!r}: "
        f"{len(found.nodes)} nodes, {len(found.products):,} products, "
        f"{len(found.services)} carrier services, {positions:,} positions, "
        f"{len(found.arrivals):,} orders over {found.days} day(s)"
        + (f", {len(found.history):,} past orders" if found.history else "")
    )


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send what native code prints (the solver's banner) to stderr, keeping stdout for output."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


@simulate_app.command("run")
def simulate_run(
    scenario: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    policy: Annotated[
        list[str] | None,
        typer.Option(
            help="a shipped profile's name (NAME+protect: it protects stock), or a profile "
            ".json file; repeat for more"
        ),
    ] = None,
    baseline: Annotated[
        list[str] | None, typer.Option(help="nearest or myopic; repeat for both")
    ] = None,
    wave_size: Annotated[
        int | None, typer.Option(min=1, help="also route in waves of this many orders (HiGHS)")
    ] = None,
    wave_time_limit: Annotated[float, typer.Option(min=0.1, help="seconds per wave")] = 20.0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    plots: Annotated[Path | None, typer.Option(help="write SVG charts into this folder")] = None,
) -> None:
    """Replay the scenario's orders under each policy and show the metrics side by side.

    With no policy named: lowest-cost against the nearest baseline. Exits 1 if any plan breaks
    a rule (stock, capacity, promise, profile), which would be a bug."""
    from dom.adapters.highs import relax_with_highs, solve_guarded
    from dom.simulation.policies import Baseline, policies
    from dom.simulation.report import Result, chart_files, compare, table_rows
    from dom.simulation.report import as_json as report_json

    wanted = []
    for name in baseline or []:
        if name not in {b.value for b in Baseline}:
            err.print(f"[red]error:[/red] --baseline must be nearest or myopic, not {name!r}")
            raise typer.Exit(2)
        wanted.append(Baseline(name))
    try:
        chosen = policies(policy or [], wanted, wave_size)
    except DomError as error:
        _fail(error)
    found = _scenario(scenario)

    def done(result: Result) -> None:
        m = result.metrics
        err.print(
            f"{result.run.policy.name}: {m.orders:,} orders in {m.seconds:.1f} s, "
            f"{m.violations} violation(s)"
        )

    with _stdout_to_stderr():
        results = compare(
            found,
            chosen,
            solve_guarded,
            wave_time_limit=wave_time_limit,
            progress=done,
            relax=relax_with_highs,
        )
    if plots is not None:
        plots.mkdir(parents=True, exist_ok=True)
        for name, svg in chart_files(found, results).items():
            (plots / name).write_text(svg, encoding="utf-8")
        err.print(f"charts in {plots}/: cost.svg, shipments.svg, delivery.svg, utilization.svg")
    if as_json:
        print(json.dumps(report_json(found, results), indent=2))
    else:
        days = f"{found.days} day(s)"
        title = f"{found.name}: {len(found.arrivals):,} orders over {days}"
        table = Table("metric", *(r.run.policy.name for r in results), title=title)
        for row in table_rows(results):
            table.add_row(*row)
        out.print(table)
    violations = sum(r.metrics.violations for r in results)
    if violations:
        err.print(f"[red]error:[/red] {violations} plan violation(s): a policy broke a rule")
        raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    app(prog_name="dom")
