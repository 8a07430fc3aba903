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


def test_mail_rendition_and_archive_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CASEFILE_ARCHIVE_DIR", str(tmp_path))
    for name in ("CASEFILE_SMTP_HOST", "CASEFILE_SMTP_PORT", "CASEFILE_SMTP_FROM",
                 "CASEFILE_SMTP_TIMEOUT", "CASEFILE_SOFFICE", "CASEFILE_UNO_PYTHON",
                 "CASEFILE_FONT_ALIASES", "CASEFILE_RENDITION_TIMEOUT", "CASEFILE_FONDS_CODE",
                 "CASEFILE_PRODUCTION"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    s = Settings.from_env()
    assert (s.smtp_host, s.smtp_port, s.smtp_timeout, s.fonds_code) == (None, 25, 10.0, "Z001")
    assert (s.soffice, s.uno_python, s.font_aliases, s.rendition_timeout) == (None, None, True, 120)

    monkeypatch.setenv("CASEFILE_SMTP_HOST", " mail.example.test ")
    monkeypatch.setenv("CASEFILE_SMTP_PORT", "2525")
    monkeypatch.setenv("CASEFILE_SMTP_TIMEOUT", "2.5")
    monkeypatch.setenv("CASEFILE_SOFFICE", "/opt/lo/program/soffice")
    monkeypatch.setenv("CASEFILE_UNO_PYTHON", "/opt/lo/program/python")
    monkeypatch.setenv("CASEFILE_FONT_ALIASES", "0")
    monkeypatch.setenv("CASEFILE_RENDITION_TIMEOUT", "300")
    monkeypatch.setenv("CASEFILE_FONDS_CODE", "Z109")
    s = Settings.from_env()
    assert (s.smtp_host, s.smtp_port, s.smtp_timeout) == ("mail.example.test", 2525, 2.5)
    assert s.smtp_sender == "casefile@mail.example.test"
    assert (s.soffice, s.uno_python) == ("/opt/lo/program/soffice", "/opt/lo/program/python")
    assert (s.font_aliases, s.rendition_timeout, s.fonds_code) == (False, 300.0, "Z109")
    monkeypatch.setenv("CASEFILE_SMTP_FROM", "legal@example.test")
    assert Settings.from_env().smtp_sender == "legal@example.test"

    for name, bad in [
        ("CASEFILE_SMTP_PORT", "twenty-five"),
        ("CASEFILE_SMTP_PORT", "70000"),
        ("CASEFILE_SMTP_TIMEOUT", "soon"),
        ("CASEFILE_SMTP_TIMEOUT", "0"),
        ("CASEFILE_RENDITION_TIMEOUT", "-1"),
        ("CASEFILE_FONT_ALIASES", "maybe"),
        ("CASEFILE_FONDS_CODE", "Z-109"),
    ]:
        with monkeypatch.context() as m:
            m.setenv(name, bad)
            with pytest.raises(ConfigError, match=name):
                Settings.from_env()


def test_a_database_url_with_a_percent_sign_migrates(tmp_path):
    """Alembic's options go through ConfigParser interpolation: a percent-encoded URL (a
    password, or `?options=-c%20...` on PostgreSQL) used to stop `casefile init` with a
    ValueError."""
    from app.db import Database, migrate  # lazy: only this test opens a bare database

    db = Database(f"sqlite:///{tmp_path / 'casefile.db'}?timeout=5%2E0")
    migrate.upgrade(db)
    assert migrate.is_current(db)
    db.dispose()
