import pytest

from app.config import ConfigError, Settings


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("CASEFILE_ARCHIVE_DIR", str(tmp_path))
    monkeypatch.setenv("CASEFILE_PRODUCTION", "1")
    monkeypatch.delenv("CASEFILE_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="CASEFILE_SECRET_KEY"):
        Settings.from_env()
    monkeypatch.setenv("CASEFILE_SECRET_KEY", "k" * 40)
    assert Settings.from_env().production


def test_embedded_defaults_and_strict_values(monkeypatch, tmp_path):
    for name in ("CASEFILE_DATABASE_URL", "CASEFILE_PRODUCTION", "CASEFILE_INDEX_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CASEFILE_ARCHIVE_DIR", str(tmp_path / "a"))
    s = Settings.from_env()
    assert s.database_url == f"sqlite:///{tmp_path / 'a' / 'casefile.db'}"
    assert s.blobs_dir == tmp_path / "a" / "blobs"
    monkeypatch.setenv("CASEFILE_PRODUCTION", "maybe")
    with pytest.raises(ConfigError):
        Settings.from_env()
    monkeypatch.setenv("CASEFILE_PRODUCTION", "0")
    monkeypatch.setenv("CASEFILE_DATABASE_URL", "mysql://x")
    with pytest.raises(ConfigError):
        Settings.from_env()


def test_sqlite_runs_in_wal_mode(tmp_path):
    from app.db import Database

    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()
