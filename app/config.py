"""Settings from CASEFILE_* environment variables, with embedded defaults.

Strict helpers fail loudly on a bad value; production refuses to start without a secret key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FONDS = "Z001"
FONDS_RE = re.compile(r"[A-Za-z0-9]{1,16}")  # 全宗号, as units may set it


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


def _env_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from exc
    if not 0 < value < float("inf"):
        raise ConfigError(f"{name} must be a positive number of seconds, got {raw!r}")
    return value


def _env_str(name: str) -> str | None:
    """The stripped value, or None when unset or blank."""
    return (os.environ.get(name) or "").strip() or None


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
    fonds_code: str = DEFAULT_FONDS  # 全宗号 of units that set none (nor their parents)
    # e-mail notifications: off unless smtp_host is set; sent by the outbox worker
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str | None = None  # default: casefile@<smtp_host>
    smtp_timeout: float = 10.0  # seconds per connection and per reply
    # PDF renditions (LibreOffice); None: found on PATH and in the usual places
    soffice: str | None = None
    uno_python: str | None = None
    font_aliases: bool = True  # apply app/renditions/fonts.py's aliases
    rendition_timeout: float = 120.0  # seconds per conversion before soffice is killed

    @property
    def blobs_dir(self) -> Path:
        return self.archive_dir / "blobs"

    @property
    def smtp_sender(self) -> str:
        return self.smtp_from or f"casefile@{self.smtp_host}"

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
            fonds_code=_env_str("CASEFILE_FONDS_CODE") or DEFAULT_FONDS,
            smtp_host=_env_str("CASEFILE_SMTP_HOST"),
            smtp_port=_env_int("CASEFILE_SMTP_PORT", 25),
            smtp_from=_env_str("CASEFILE_SMTP_FROM"),
            smtp_timeout=_env_seconds("CASEFILE_SMTP_TIMEOUT", 10.0),
            soffice=_env_str("CASEFILE_SOFFICE"),
            uno_python=_env_str("CASEFILE_UNO_PYTHON"),
            font_aliases=_env_bool("CASEFILE_FONT_ALIASES", True),
            rendition_timeout=_env_seconds("CASEFILE_RENDITION_TIMEOUT", 120.0),
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
        if not FONDS_RE.fullmatch(self.fonds_code):
            raise ConfigError(
                f"CASEFILE_FONDS_CODE must be 1-16 letters or digits, got {self.fonds_code!r}"
            )
        if not 0 < self.smtp_port < 65536:
            raise ConfigError(f"CASEFILE_SMTP_PORT must be a TCP port, got {self.smtp_port}")
