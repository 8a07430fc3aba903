"""Everything a user reads is Chinese: no internal code or English word on any page.

On the demo store (`casefile init --demo`, search index built), every demo role signs in and
walks every page reachable from its menu, the home page and the pages of the main objects
(documents, drafts, case files, registers, admin pages, the audit log, search with a facet),
following links. The visible text of each page (tags, scripts and styles stripped; placeholders,
titles and labels for screen readers kept) may hold no ASCII word of three letters or more,
except the few that are legitimately Latin, each with its reason (ALLOWED below). No page may
answer 5xx.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from urllib.parse import urlsplit

import pytest
from demostore import copy_demo_store, open_demo_store
from sqlalchemy import select
from webutil import CSRF_RE

from app import create_app
from app.bootstrap import DEMO_PASSWORD, DEMO_USERS
from app.identity.models import Unit, User
from app.templating.models import TemplateVersion

# The allow-list, kept tiny: each entry is something a user must see in Latin letters.
# - the names of file formats and of the checksum, as on download buttons and upload fields
#   (exports of tables say 导出电子表格: their format is no choice the user makes);
FORMATS = {"PDF", "DOCX", "ZIP", "OFD", "JPG", "PNG", "TIFF", "SHA-256"}
# - file names of uploaded material and of a template's parts (their extension is Latin);
EXTENSIONS = {"pdf", "docx", "xlsx", "csv", "zip", "ofd", "jpg", "jpeg", "png", "yaml", "yml", "json"}  # fmt: skip
# - checksums (lower-case hex) and identifiers in capitals with digits (档号, licence numbers);
HEX = re.compile(r"(?=[0-9a-f]*[0-9])[0-9a-f]{8,64}")
IDENTIFIER = re.compile(r"(?=.*[0-9])[A-Z0-9][A-Z0-9·\-]*")
# - e-mail addresses (a user's own, for reminders);
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+")
# - on the administrator's pages, the identifiers an administrator types to manage things:
#   user names, unit codes and template ids of this store (see ADMIN_WORDS below).
ADMIN_PAGES = "/admin/"

TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-·@]*(?:\.[A-Za-z0-9_\-@]+)*")
SKIP = re.compile(
    r"(\.(pdf|docx|zip|csv|ico|svg|css|js|png)$)|/download|format=xlsx|^/static/|^/api/|^/logout"
)
# pages walked per URL shape (/casefiles/N ...) and role: one shows the page; every document and
# draft, as each document type has its own fields and review chain
PER_SHAPE = {"/documents/N?": 20, "/drafts/N?": 20}
MAX_PAGES = 60


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", page, flags=re.S | re.I)
    attrs = re.findall(r'\s(?:placeholder|title|aria-label)="([^"]*)"', page)
    text = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(text + " " + " ".join(attrs))


def leaks(text: str, admin_words: set[str]) -> set[str]:
    found = set()
    for m in TOKEN.finditer(text):
        token = m.group(0).rstrip(".-·")
        if sum(c.isascii() and c.isalpha() for c in token) < 3:
            continue
        if token in FORMATS or HEX.fullmatch(token) or IDENTIFIER.fullmatch(token):
            continue
        if EMAIL.fullmatch(token):
            continue
        if token.rsplit(".", 1)[-1].lower() in EXTENSIONS and (
            "." in token or text[m.start() - 1 : m.start()] == "."
        ):
            continue  # a file name, or the extension of one ("公众意见汇总.png")
        if token in admin_words:
            continue
        found.add(token)
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A copy of the run's demo store (tests/demostore.py): search index built, the
    administrator's password known."""
    store = open_demo_store(copy_demo_store(tmp_path_factory))
    yield store
    store.close()


def _login(app, username: str):
    client = app.test_client()
    token = CSRF_RE.search(client.get("/login").get_data(as_text=True))[1]
    r = client.post(
        "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 302, username
    return client


def _shape(url: str) -> str:
    parts = urlsplit(url)
    keys = sorted({k.split("=")[0] for k in parts.query.split("&") if k})
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(keys)


def _walk(client, starts: list[str]) -> dict[str, str]:
    """url -> page, for the pages reachable from `starts` (PER_PATTERN of each shape)."""
    pages: dict[str, str] = {}
    per_shape: dict[str, int] = defaultdict(int)
    queue = list(starts)
    while queue and len(pages) < MAX_PAGES:
        url = queue.pop(0)
        if (
            url in pages
            or SKIP.search(url)
            or per_shape[_shape(url)] >= PER_SHAPE.get(_shape(url), 1)
        ):
            continue
        per_shape[_shape(url)] += 1
        r = client.get(url)
        assert r.status_code < 500, (url, r.status_code)
        if r.status_code != 200 or not r.content_type.startswith("text/html"):
            continue
        pages[url] = page = r.get_data(as_text=True)
        for href in re.findall(r'href="(/[^"#]*)', page):
            queue.append(html.unescape(href))
    return pages


def test_no_page_shows_an_internal_code_or_an_english_word(demo):
    app = create_app({"TESTING": True}, casefile=demo)
    with demo.db.read() as s:
        admin_words = set(s.scalars(select(User.username))) | set(s.scalars(select(Unit.code)))
        admin_words |= set(s.scalars(select(TemplateVersion.template_id)))
    problems: dict[str, set[str]] = defaultdict(set)
    walked = {}
    for username in ["admin"] + [u[0] for u in DEMO_USERS]:
        client = _login(app, username)
        home = client.get("/").get_data(as_text=True)
        menu = re.findall(r'href="(/[^"]*)"', re.search(r"<nav>(.*?)</nav>", home, re.S)[1])
        starts = ["/", *menu, "/password"]
        if 'role="search"' in home:
            starts += ["/search?q=武政法", "/search?q=合同&sort=date"]
        pages = _walk(client, starts)
        walked[username] = len(pages)
        for url, page in pages.items():
            words = admin_words if urlsplit(url).path.startswith(ADMIN_PAGES) else set()
            for word in leaks(visible_text(page), words):
                problems[word].add(f"{username} {url}")
    # the walk reached the main objects' pages
    assert walked["clerk"] >= 15 and walked["admin"] >= 6 and walked["inspector"] >= 15, walked
    report = {w: sorted(where)[:3] for w, where in sorted(problems.items())}
    assert not report, f"English or internal codes on pages: {report}"


def test_the_allow_list_catches_what_it_must():
    """The checker itself: codes and English are caught, the allowed Latin is not."""
    text = visible_text(
        '<p title="adviser-review">同意（sign-off）</p><script>var x = "hidden";</script>'
        "<p>模板 legality-review-opinion，document.read，types=[]；year_from=None</p>"
        "<p>下载 PDF · DOCX · SHA-256 <code>f79a7393fbf66c9a</code> 档号 Z001-WS·2026-Y-WY-FZB-0001"
        " 公众意见汇总.png schema.yaml 证号 MD0123457A 请运行 casefile verify</p>"
    )
    assert leaks(text, set()) == {
        "adviser-review", "sign-off", "legality-review-opinion", "document.read", "types",
        "year_from", "None", "casefile", "verify",
    }  # fmt: skip
    assert leaks("用户 zr-clerk", {"zr-clerk"}) == set()
    assert leaks("邮箱：li.wen@wuyang.gov.cn", set()) == set()
