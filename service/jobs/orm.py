"""Job history: every job the scheduler, a command or the API ran, and each of its steps."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base
from service.kit.time import utcnow


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # service.jobs.kinds.Kind
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | cli | api
    status: Mapped[str] = mapped_column(String(16))  # running | succeeded | skipped | failed
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    message: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
