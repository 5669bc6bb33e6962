"""The table of leases (`locks`): named, expiring locks that work on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base
from service.kit.time import utcnow


class Lock(Base):
    """A named lease: one training run, one fetch, one running job at a time.

    Taking it is an INSERT on the primary key, or an UPDATE of an expired lease; the holder
    renews `expires_at` while it works, so the lease of a killed process lapses by itself.
    """

    __tablename__ = "locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))
    acquired_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
