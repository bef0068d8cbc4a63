"""The demo network is the audit's clean reference: stored and audited, it raises nothing."""

from __future__ import annotations

from sqlalchemy import Engine

from dom.adapters.zip_directory import ZipDirectory
from dom.domain.access import LOCAL_OPERATOR
from dom.services.audit import run_audit
from dom.services.demo import load_demo


def test_the_default_demo_network_raises_no_finding(
    sqlite_engine: Engine, zips: ZipDirectory
) -> None:
    load_demo(sqlite_engine, LOCAL_OPERATOR, zips)

    report = run_audit(sqlite_engine, LOCAL_OPERATOR, zips)

    assert [f"{f.check} {f.subject_id}: {f.message}" for f in report.findings] == []
    assert report.notes == ()
    assert report.examined["products"] == 2000
