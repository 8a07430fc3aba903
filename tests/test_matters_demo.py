"""The demo store (`casefile init --demo`) holds matters in several states, a deployment
waiting for the government's office head, and the lawyer's deadlines on their home page."""

from __future__ import annotations

from demostore import open_demo_store
from sqlalchemy import select
from webutil import CSRF_RE

from app import create_app
from app.bootstrap import DEMO_PASSWORD
from app.identity.models import User
from app.matters.models import Deployment, Matter


def _login(app, username: str):
    client = app.test_client()
    token = CSRF_RE.search(client.get("/login").get_data(as_text=True))[1]
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                     "csrf_token": token})  # fmt: skip
    assert r.status_code == 302, username
    return client


def test_the_demo_has_matters_in_several_states(demo_copy):
    cf = open_demo_store(demo_copy)
    try:
        with cf.db.read() as s:
            assert s.scalar(select(User.id).where(User.username == "wy-head"))
            states = {m.status for m in s.scalars(select(Matter))}
            deployments = {d.status for d in s.scalars(select(Deployment))}
        assert states == {"pending", "assigned", "handling", "reported", "closed", "returned"}
        assert deployments == {"requested", "deployed"}
        app = create_app({"TESTING": True}, casefile=cf)
        home = _login(app, "lawyer").get("/").get_data(as_text=True)
        assert "法律事务期限提醒" in home and "已逾期" in home
        listing = _login(app, "wy-head").get("/matters").get_data(as_text=True)
        assert "选派公职律师" in listing
    finally:
        cf.close()
