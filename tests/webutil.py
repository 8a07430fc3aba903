"""Helpers for driving the web app like a browser: CSRF tokens come from the pages."""

import re

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(client, path: str) -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match[1]


def login(client, username: str, password: str):
    token = csrf_from(client, "/login")
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def post_form(client, page: str, target: str, data: dict):
    token = csrf_from(client, page)
    return client.post(target, data=data | {"csrf_token": token})


def logged_in(app, username: str):
    """A test client logged in as `username` (the shared test password)."""
    from conftest import PASSWORD

    client = app.test_client()
    assert login(client, username, PASSWORD).status_code == 302, username
    return client


def api_client(store):
    """(test client, token(username) -> Authorization header) for the JSON API of *store*."""
    from conftest import PASSWORD

    from app import create_app

    client = create_app({"TESTING": True}, casefile=store).test_client()

    def token(username):
        r = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
        assert r.status_code == 201, r.json
        return {"Authorization": f"Bearer {r.json['token']}"}

    return client, token
