"""Import every table module so `Base.metadata` is complete (used by Alembic and tests)."""

from service.db import Base
from service.ingest import orm as ingest_orm
from service.series import orm as series_orm

__all__ = ["Base", "ingest_orm", "series_orm"]
