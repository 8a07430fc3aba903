"""Engine, sessions and transactions for the records database (SQLite or PostgreSQL)."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

# Set while a write transaction is open, so SQLite takes its write lock up front
# (BEGIN IMMEDIATE) instead of failing with SQLITE_BUSY when a read upgrades to a write.
_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("immediate", default=False)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # No JIT: PostgreSQL compiles a query whose estimated cost is high (the contracts register's
    # visibility condition over 100,000 documents) for about a second, to run it in a few
    # milliseconds; casefile's reads are short (bench/supervision.py, docs/performance.md).
    engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                           connect_args={"options": "-c jit=off"})  # fmt: skip
    _note_writes(engine)
    return engine


# psycopg prepares a statement the fifth time a connection runs it (no more parsing and planning
# by PostgreSQL), but forgets every prepared statement on ROLLBACK. A read session ending in a
# rollback (every page's) therefore had PostgreSQL parse and plan each of its statements on every
# request, most of the database's CPU per page. A read that sent nothing but SELECTs ends with
# COMMIT instead: the same for the database (nothing was written), and its statements stay
# prepared. The flag is per transaction: set by any other statement or by an error, cleared at
# BEGIN.
_WROTE = "casefile_wrote"


def _note_writes(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.info.pop(_WROTE, None)

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(conn, _cursor, statement, _params, _context, _executemany):
        if statement.lstrip()[:6].upper() != "SELECT":
            conn.info[_WROTE] = True

    @event.listens_for(engine, "handle_error")
    def _on_error(context):  # a failed statement: end as before, with a rollback
        if context.connection is not None:
            context.connection.info[_WROTE] = True


def _only_read(session: Session) -> bool:
    """Did this session's transaction send nothing but SELECTs, with no ORM change pending and
    nothing waiting for a commit (an audit entry at commit, a checkpoint after it)? Only then is
    a COMMIT the same as the rollback `read()` always ended with."""
    if session.new or session.dirty or session.deleted:
        return False
    if session.dispatch.before_commit or session.dispatch.after_commit:
        return False
    return not session.connection().info.get(_WROTE, False)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions are unreliable).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")  # an issued document survives a power cut
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


class Database:
    """One engine and its session factory; `read()` and `write()` are the only ways in."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        # A read opened inside a write transaction (the template registry asked for during a
        # search) must not queue for the write lock that transaction holds.
        token = _immediate.set(False)
        session = self.sessions()
        try:
            yield session
            # PostgreSQL: a read that only read commits, so its statements stay prepared
            # (_note_writes); nothing expires (expire_on_commit=False)
            if not self.is_sqlite and session.in_transaction() and _only_read(session):
                session.commit()
        finally:
            # close() ends the transaction without expiring loaded objects (rollback() would),
            # so pages can keep using what they read.
            session.close()
            _immediate.reset(token)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on any exception."""
        token = _immediate.set(True)
        try:
            with self.sessions.begin() as session:
                yield session
        finally:
            _immediate.reset(token)

    def dispose(self) -> None:
        self.engine.dispose()
