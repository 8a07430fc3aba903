"""Small factories for matter tests (法律事务)."""

from __future__ import annotations

from conftest import PASSWORD, as_user

from app.identity.users import add_user
from app.matters import service

CASE_NO = "（2026）云01行初123号"


def add_gov_head(cf) -> None:
    """An office head of the government (GOV), the level above FZB and ZRJ (调配)."""
    with cf.db.write() as s:
        add_user(s, "gov-head", "政府法制负责人", "GOV", ["office-head"], password=PASSWORD,
                 must_change=False)  # fmt: skip


def new_matter(cf, user: str = "head", unit: str = "FZB", **kw) -> int:
    values = dict(kind="admin-litigation", title="李某诉武阳市人民政府政府信息公开",
                  parties="原告李某", party_role="被告", case_number=CASE_NO,
                  body="武阳市中级人民法院", served_on="2026-11-02") | kw  # fmt: skip
    with cf.db.write() as s:
        return service.create_matter(s, as_user(s, user), unit_code=unit, **values).id


def act(cf, user: str, fn, *args, **kw):
    """Run one service call as `user` in its own transaction."""
    with cf.db.write() as s:
        return fn(s, as_user(s, user), *args, **kw)
