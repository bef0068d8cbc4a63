"""/v1/audit: the data-quality audit, ranked by impact."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from dom.api.deps import EngineDep, PrincipalDep, ZipsDep
from dom.domain.audit import Severity, SubjectKind
from dom.services.audit import run_audit

router = APIRouter(prefix="/v1/audit", tags=["audit"])


class SubjectView(BaseModel):
    kind: SubjectKind
    id: str


class FindingView(BaseModel):
    check: str = Field(description="stable code of the check, such as node.zip_state_mismatch")
    severity: Severity
    subject: SubjectView
    message: str = Field(description="what is wrong and what to do about it")
    impact: float = Field(description="severity weight times harm to routing; findings sort by it")


class AuditSummary(BaseModel):
    error: int
    warning: int
    info: int
    total: int


class AuditView(BaseModel):
    fail_on: Severity
    exit_code: int = Field(
        description="what `dom audit` would exit with: 0 nothing at or above fail_on, "
        "1 warnings, 2 errors"
    )
    summary: AuditSummary
    examined: dict[str, int] = Field(description="how many records of each kind were checked")
    notes: list[str] = Field(description="checks that were skipped, and why")
    findings: list[FindingView] = Field(description="highest impact first")


@router.get("", response_model=AuditView, summary="Audit master-data quality, ranked by impact")
def get_audit(
    engine: EngineDep,
    principal: PrincipalDep,
    zips: ZipsDep,
    fail_on: Annotated[
        Severity, Query(description="lowest severity that makes the audit fail")
    ] = Severity.WARNING,
    stale_days: Annotated[
        int, Query(ge=1, le=3650, description="inventory counts older than this are stale")
    ] = 30,
) -> dict[str, Any]:
    return run_audit(engine, principal, zips, stale_days=stale_days).as_dict(fail_on)
