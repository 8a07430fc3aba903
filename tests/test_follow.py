"""Multi-node search: a node whose index follows the outbox (CASEFILE_INDEX_FOLLOW=1) sees
every document issued anywhere, with real indexes in separate directories and one database."""

from dataclasses import replace

from conftest import issue_quick
from sqlalchemy import select, update

from app.container import open_casefile
from app.drafting.models import IssuedDocument
from app.jobs.models import OutboxEvent
from app.jobs.outbox import drain, pending
from app.search import SearchQuery, SearchScope, follow


def _hits(cf, text):
    return cf.search.search(SearchQuery(text=f'"{text}"'), SearchScope.everything()).total


def _newest_index_event(cf):
    """The id of the "index" event of the newest issued document."""
    with cf.db.read() as s:
        doc_id = s.scalar(select(IssuedDocument.id).order_by(IssuedDocument.id.desc()))
        events = s.scalars(select(OutboxEvent).where(OutboxEvent.kind == "index")).all()
        return next(e.id for e in events if e.payload.get("document_id") == doc_id)


def _node(cf, tmp_path, name):
    """Another web node: same database and blobs, its own local index, following."""
    settings = replace(cf.settings, index_dir=tmp_path / name, index_follow=True)
    return open_casefile(settings)


def test_a_following_node_catches_up_and_follows(quick_cf, tmp_path):
    issue_quick(quick_cf, "狮山大道拓宽工程")
    drain(quick_cf, ("index",))  # node A's own worker
    node_b = _node(quick_cf, tmp_path, "index-b")
    fol = follow.IndexFollower(node_b)
    fol.poll()  # no cursor yet: rebuilt from the archive
    assert _hits(node_b, "狮山大道") == 1
    assert follow.read_cursor(node_b) is not None

    issue_quick(quick_cf, "金沙江大桥维修")
    drain(quick_cf, ("index",))
    assert _hits(node_b, "金沙江") == 0
    assert fol.poll() >= 1
    assert _hits(node_b, "金沙江") == 1 and _hits(quick_cf, "金沙江") == 1
    assert fol.poll() == 0  # nothing new: nothing re-applied
    node_b.close()


def test_an_event_that_becomes_visible_late_is_not_skipped(quick_cf, tmp_path):
    """Outbox ids are allocated before commit: a lower id can appear after a higher one."""
    node_b = _node(quick_cf, tmp_path, "index-b")
    fol = follow.IndexFollower(node_b)
    fol.poll()
    issue_quick(quick_cf, "滇池治理一期")
    first = _newest_index_event(quick_cf)
    issue_quick(quick_cf, "滇池治理二期")
    with quick_cf.db.write() as s:  # the first one's transaction "has not committed yet"
        s.execute(update(OutboxEvent).where(OutboxEvent.id == first).values(kind="index-later"))
    fol.poll()
    assert _hits(node_b, "治理二期") == 1 and _hits(node_b, "治理一期") == 0
    with quick_cf.db.write() as s:  # ... and now it has
        s.execute(update(OutboxEvent).where(OutboxEvent.id == first).values(kind="index"))
    fol.poll()
    assert _hits(node_b, "治理一期") == 1
    node_b.close()


def test_cursor_survives_restart_and_moves_only_past_settled_events(
    quick_cf, tmp_path, monkeypatch
):
    node_b = _node(quick_cf, tmp_path, "index-b")
    follow.IndexFollower(node_b).poll()
    issue_quick(quick_cf, "昆明长水机场")
    before = follow.read_cursor(node_b)
    follow.IndexFollower(node_b).poll()  # recent events are re-read, the cursor stays
    assert follow.read_cursor(node_b) == before
    node_b.close()

    monkeypatch.setattr(follow, "LAG", follow.LAG * 0)  # everything has settled
    restarted = _node(quick_cf, tmp_path, "index-b")  # same index directory: a restart
    fol = follow.IndexFollower(restarted)
    fol.poll()
    with quick_cf.db.read() as s:
        newest = max(e.id for e in s.scalars(select(OutboxEvent)) if e.kind == "index")
    assert follow.read_cursor(restarted) == newest
    assert _hits(restarted, "长水机场") == 1
    restarted.close()


def test_a_replaced_index_is_rebuilt_and_the_worker_leaves_it_alone(quick_cf, tmp_path):
    node_b = _node(quick_cf, tmp_path, "index-b")
    fol = follow.IndexFollower(node_b)
    fol.poll()
    issue_quick(quick_cf, "螺蛳湾改造")
    # node B's outbox worker acknowledges index events without writing its index
    assert drain(node_b, ("index",))["done"] >= 1
    assert not [e for e in pending(node_b) if e.kind == "index"]
    assert _hits(node_b, "螺蛳湾") == 0
    # someone rebuilt node B's index by hand: the cursor belongs to the old one
    from app.search.indexing import rebuild_index

    rebuild_index(node_b)
    assert follow.read_cursor(node_b) is None
    fol.poll()
    assert follow.read_cursor(node_b) is not None
    assert _hits(node_b, "螺蛳湾") == 1
    node_b.close()
