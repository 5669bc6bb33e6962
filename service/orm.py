"""Import every table module so `Base.metadata` is complete (used by Alembic and tests)."""

from service.alerts import orm as alerts_orm
from service.anomalies import orm as anomalies_orm
from service.auth import orm as auth_orm
from service.db import Base
from service.escalations import orm as escalations_orm
from service.feeds import orm as feeds_orm
from service.ingest import orm as ingest_orm
from service.jobs import orm as jobs_orm
from service.kit import orm as kit_orm
from service.series import orm as series_orm
from service.training import orm as training_orm

__all__ = [
    "Base",
    "alerts_orm",
    "anomalies_orm",
    "escalations_orm",
    "auth_orm",
    "feeds_orm",
    "ingest_orm",
    "jobs_orm",
    "kit_orm",
    "series_orm",
    "training_orm",
]
