"""Users' e-mail addresses: set by an admin (create form, user list) or by the user on the
password page; validated, audited, and where review notifications go."""

import pytest
from conftest import as_user, sample
from sqlalchemy import select
from test_review_chain import smtp_server  # noqa: F401 - a fixture: a local SMTP catcher
from webutil import csrf_from
from webutil import logged_in as _client

from app.audit.models import AuditEntry
from app.drafting import drafts
from app.identity import users
from app.identity.models import User, UserContact
from app.jobs.outbox import drain

BAD_FORMAT = "邮箱地址格式不正确，应形如 li.wen@wuyang.gov.cn"


def _email(cf, username: str) -> str:
    with cf.db.read() as s:
        return users.email_of(s, as_user(s, username).user.id)


def _audit(cf, action: str) -> list[AuditEntry]:
    with cf.db.read() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _post(client, page: str, target: str, data: dict):
    return client.post(target, data=data | {"csrf_token": csrf_from(client, page)})


def test_admin_creates_a_user_with_an_address_and_sees_it_listed(app, cf):
    c = _client(app, "admin")
    r = _post(c, "/admin/users", "/admin/users", {"username": "liwen", "name": "李文",
              "unit": "FZB", "role": "clerk", "email": "  Li.Wen@WuYang.GOV.cn "})  # fmt: skip
    assert r.status_code == 200 and "已创建用户" in r.get_data(as_text=True)
    assert _email(cf, "liwen") == "Li.Wen@wuyang.gov.cn"  # host name in lower case
    assert 'value="Li.Wen@wuyang.gov.cn"' in c.get("/admin/users").get_data(as_text=True)
    (added,) = [e for e in _audit(cf, "user.add") if e.detail["username"] == "liwen"]
    assert added.actor == "admin" and added.detail["email"] == "Li.Wen@wuyang.gov.cn"


@pytest.mark.parametrize(
    "value, message",
    [("li.wen", BAD_FORMAT), ("li wen@wuyang.gov.cn", BAD_FORMAT), ("李文@wuyang.gov.cn", BAD_FORMAT),
     ("li@localhost", BAD_FORMAT), ("li..wen@wuyang.gov.cn", BAD_FORMAT),
     ("a@x.cn\r\nBcc: spy@evil.example", BAD_FORMAT), ("a@x.cn,b@y.cn", BAD_FORMAT),
     ("a" * 250 + "@x.cn", "邮箱地址过长（最多254个字符）")],
)  # fmt: skip
def test_bad_addresses_are_refused_by_name_and_nothing_is_saved(app, cf, value, message):
    c = _client(app, "admin")
    r = _post(c, "/admin/users", "/admin/users", {"username": "liwen", "name": "李文",
              "unit": "FZB", "role": "clerk", "email": value})  # fmt: skip
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and message in page and "已创建用户" not in page
    with cf.db.read() as s:
        assert s.scalars(select(User).where(User.username == "liwen")).first() is None
    r = _post(c, "/admin/users", "/admin/users/clerk/email", {"email": value})
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    clerk = _client(app, "clerk")
    r = _post(clerk, "/password", "/account/email", {"email": value})
    assert r.status_code == 422 and message in r.get_data(as_text=True)
    assert _email(cf, "clerk") == "" and _audit(cf, "user.email") == []


def test_admin_sets_changes_and_clears_an_address_and_each_change_is_audited(app, cf):
    c = _client(app, "admin")
    for value in ("clerk@wuyang.gov.cn", "clerk@wuyang.gov.cn", "li.wen@wuyang.gov.cn", ""):
        r = _post(c, "/admin/users", "/admin/users/clerk/email", {"email": value})
        assert r.status_code == 302 and _email(cf, "clerk") == value
    page = c.get("/admin/users").get_data(as_text=True)
    assert "已清除 clerk 的邮箱" in page
    entries = _audit(cf, "user.email")  # setting the same address again changes nothing
    assert [(e.actor, e.detail["previous"], e.detail["email"]) for e in entries] == [
        ("admin", "", "clerk@wuyang.gov.cn"),
        ("admin", "clerk@wuyang.gov.cn", "li.wen@wuyang.gov.cn"),
        ("admin", "li.wen@wuyang.gov.cn", ""),
    ]
    with cf.db.read() as s:
        clerk_id = as_user(s, "clerk").user.id
        assert s.get(UserContact, clerk_id) is None
    assert {e.object_id for e in entries} == {str(clerk_id)}
    assert all(e.remote_addr == "127.0.0.1" for e in entries)
    r = _post(c, "/admin/users", "/admin/users/nobody/email", {"email": "x@y.cn"})
    assert r.status_code == 404


def test_users_see_and_set_their_own_address(app, cf):
    c = _client(app, "clerk")
    page = c.get("/password").get_data(as_text=True)
    assert "接收提醒的邮箱" in page and 'action="/account/email"' in page
    assert 'href="/password"' in page  # the header links one's name to this page
    r = _post(c, "/password", "/account/email", {"email": "clerk@wuyang.gov.cn"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/password")
    page = c.get("/password").get_data(as_text=True)
    assert "邮箱已设为 clerk@wuyang.gov.cn" in page and 'value="clerk@wuyang.gov.cn"' in page
    (entry,) = _audit(cf, "user.email")
    assert entry.actor == "clerk" and entry.detail["email"] == "clerk@wuyang.gov.cn"
    # after an error the password form still posts to /password
    r = _post(c, "/password", "/account/email", {"email": "不是邮箱"})
    assert r.status_code == 422 and 'action="/password"' in r.get_data(as_text=True)
    assert c.post("/account/email", data={"email": "x@y.cn"}).status_code == 400  # no CSRF token
    assert _email(cf, "clerk") == "clerk@wuyang.gov.cn"


def test_review_notifications_go_to_the_addresses_set_in_the_ui(app, cf, smtp_server):  # noqa: F811
    from email import message_from_bytes, policy

    _post(_client(app, "admin"), "/admin/users", "/admin/users/head/email",
          {"email": "head@wuyang.gov.cn"})  # fmt: skip
    _post(_client(app, "head2"), "/password", "/account/email", {"email": "Head2@WuYang.gov.cn"})
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, d.id)
    drain(cf, ("mail",))  # e-mail goes out through the outbox
    mails = [message_from_bytes(m, policy=policy.default) for m in smtp_server]
    assert sorted(m["To"] for m in mails) == ["Head2@wuyang.gov.cn", "head@wuyang.gov.cn"]
    assert all("待您办理" in m["Subject"] for m in mails)

    smtp_server.clear()  # an address cleared in the UI gets nothing more
    _post(_client(app, "admin"), "/admin/users", "/admin/users/head/email", {"email": ""})
    with cf.db.write() as s:
        clerk = as_user(s, "clerk")
        d = drafts.create_draft(cf, s, clerk, "commission-letter", sample(), "FZB")
        drafts.submit(cf, s, clerk, d.id)
    drain(cf, ("mail",))
    assert [message_from_bytes(m, policy=policy.default)["To"] for m in smtp_server] == [
        "Head2@wuyang.gov.cn"
    ]
