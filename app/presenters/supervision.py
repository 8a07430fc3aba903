"""督导考核 as JSON, shared by the API and `casefile supervision … --json`."""

from __future__ import annotations

from app.supervision.assessment import assessment_dict
from app.supervision.dashboard import Dashboard
from app.supervision.filing import FilingRow
from app.supervision.models import Assessment
from app.supervision.pool import PoolRow
from app.supervision.ranking import Drill, Ranking
from app.supervision.records import RecordSummary
from app.supervision.reports import Period, Submission


def pool_payload(rows: list[PoolRow]) -> dict:
    return {"total": len(rows), "entries": [r.as_dict() for r in rows]}


def filings_payload(rows: list[FilingRow]) -> dict:
    return {"total": len(rows), "overdue": sum(1 for r in rows if r.overdue),
            "filings": [r.as_dict() for r in rows]}  # fmt: skip


def records_payload(summary: RecordSummary) -> dict:
    return summary.as_dict()


def assessments_payload(rows: list[Assessment], unit_names: dict[int, str]) -> dict:
    return {"total": len(rows),
            "assessments": [assessment_dict(a, unit_names.get(a.unit_id, "")) for a in rows]}  # fmt: skip


def ranking_payload(ranking: Ranking) -> dict:
    return ranking.as_dict()


def dashboard_payload(board: Dashboard) -> dict:
    return board.as_dict()


def drill_payload(detail: Drill) -> dict:
    return detail.as_dict()


def submissions_payload(period: Period, rows: list[Submission]) -> dict:
    return {"period": period.as_dict(), "total": len(rows),
            "submitted": sum(1 for r in rows if r.state == "submitted"),
            "units": [r.as_dict() for r in rows]}  # fmt: skip
