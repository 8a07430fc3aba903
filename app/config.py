"""Settings from CASEFILE_* environment variables, with embedded defaults.

Strict helpers fail loudly on a bad value; production refuses to start without a secret key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass
class Settings:
    archive_dir: Path
    index_dir: Path
    database_url: str
    secret_key: str | None
    production: bool = False
    templates_dir: Path = field(default_factory=lambda: ROOT / "doc_templates")
    max_upload_bytes: int = 20 * 1024 * 1024
    session_cookie_secure: bool = False
    background_workers: bool = True
    search_cache_mb: int = 64  # decoded posting lists kept per process
    index_follow: bool = False  # this node's index follows the outbox (multi-node)

    @property
    def blobs_dir(self) -> Path:
        return self.archive_dir / "blobs"

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        archive_dir = Path(os.environ.get("CASEFILE_ARCHIVE_DIR") or ROOT / "archive").resolve()
        index_dir = Path(os.environ.get("CASEFILE_INDEX_DIR") or ROOT / "search_index").resolve()
        database_url = os.environ.get("CASEFILE_DATABASE_URL") or (
            f"sqlite:///{archive_dir / 'casefile.db'}"
        )
        values = dict(
            archive_dir=archive_dir,
            index_dir=index_dir,
            database_url=database_url,
            secret_key=os.environ.get("CASEFILE_SECRET_KEY") or None,
            production=_env_bool("CASEFILE_PRODUCTION", False),
            templates_dir=Path(os.environ.get("CASEFILE_TEMPLATES_DIR") or ROOT / "doc_templates"),
            max_upload_bytes=_env_int("CASEFILE_MAX_UPLOAD_BYTES", 20 * 1024 * 1024),
            session_cookie_secure=_env_bool("CASEFILE_SECURE_COOKIES", False),
            background_workers=_env_bool("CASEFILE_BACKGROUND_WORKERS", True),
            search_cache_mb=max(0, _env_int("CASEFILE_SEARCH_CACHE_MB", 64)),
            index_follow=_env_bool("CASEFILE_INDEX_FOLLOW", False),
        )
        values.update(overrides)
        for key in ("archive_dir", "index_dir", "templates_dir"):
            values[key] = Path(values[key])
        settings = cls(**values)
        settings.check()
        return settings

    def resolved_secret_key(self) -> str:
        """The configured key; in development, one kept in archive/.secret_key (0600) so a
        restart of `make run` does not log everybody out."""
        if self.secret_key:
            return self.secret_key
        path = self.archive_dir / ".secret_key"
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            import secrets

            self.archive_dir.mkdir(parents=True, exist_ok=True)
            key = secrets.token_hex(32)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(key)
            return key

    def check(self) -> None:
        if self.production and not self.secret_key:
            raise ConfigError(
                "CASEFILE_SECRET_KEY must be set in production (CASEFILE_PRODUCTION=1); "
                "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        if self.secret_key is not None and self.production and len(self.secret_key) < 32:
            raise ConfigError("CASEFILE_SECRET_KEY must be at least 32 characters in production")
        if not (
            self.database_url.startswith("sqlite") or self.database_url.startswith("postgresql")
        ):
            raise ConfigError(
                "CASEFILE_DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL, "
                f"got {self.database_url!r}"
            )
