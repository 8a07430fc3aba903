"""Declarative base, primary-key type and the UTC clock shared by every feature's models.

All timestamps are naive UTC. Migrations in app/db/migrations create the tables.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import DeclarativeBase

from app.common.clock import utcnow

__all__ = ["PK", "Base", "utcnow"]


class Base(DeclarativeBase):
    pass


# SQLite only autoincrements INTEGER primary keys; PostgreSQL gets BIGINT.
PK = BigInteger().with_variant(Integer(), "sqlite")
