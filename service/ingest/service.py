"""Ingest one file as one transaction: the entry point of the CLI, the jobs and the API."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine

from service.config import Settings
from service.db import session_scope
from service.ingest.normalize import Normalizer
from service.ingest.readers import ReadLimits, Source
from service.ingest.sync import IngestReport, Progress, ingest_deletions, ingest_events
from service.migrate import require_current
from service.tempfiles import clean_stale

log = logging.getLogger(__name__)


def ingest_file(
    engine: Engine,
    path: Path,
    settings: Settings,
    *,
    source: Source | None = None,
    deletions: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest `path` in one transaction; on any error nothing is written and the error is raised."""
    require_current(engine)
    clean_stale()  # staged chunks an ingest killed mid-way left behind
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    limits = ReadLimits.of(settings)
    with session_scope(engine) as session:
        if deletions:
            report = ingest_deletions(
                session, path, source=source or "acled", progress=progress, limits=limits
            )
        else:
            normalizer = Normalizer.load(extra_dirs=settings.alias_dirs)
            report = ingest_events(
                session,
                path,
                source=source,
                normalizer=normalizer,
                actor_roles=settings.actor_roles,
                armed=settings.armed_inter,
                chunk_rows=settings.ingest_chunk_rows,
                progress=progress,
                limits=limits,
            )
    log.info("ingested %s: %s", path, report.to_dict())
    return report
