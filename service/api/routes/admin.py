"""Admin writes: upload an event file (validated like the CLI), trigger a retrain or a fetch."""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Request, UploadFile
from fastapi.types import DecoratedCallable
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import AdminDep, EngineDep, SessionDep, SettingsDep
from service.api.problems import ProblemError, ProblemParam, problems
from service.api.routes import V1
from service.feeds.spec import parse_feeds
from service.ingest.errors import IngestError
from service.ingest.service import ingest_file
from service.jobs import launch
from service.jobs.repository import create_job
from service.kit.lease import FETCH_LOCK, TRAINING_LOCK
from service.migrate import DatabaseNotReady
from service.tempfiles import scratch_prefix

log = logging.getLogger(__name__)
router = APIRouter(prefix=f"{V1}/admin", tags=["admin"], responses=problems(401, 403, 422))
CHUNK = 1 << 20


class UploadRead(BaseModel):
    """What the ingest of the uploaded file did."""

    job_id: int
    file: str
    source: str
    kind: str
    sha256: str
    rows_read: int
    added: int
    updated: int
    unchanged: int
    deleted: int
    rejected: int
    seconds: float
    countries: list[str]
    status: Literal["ingested", "unchanged"] = Field(
        description="`unchanged`: every event was already there; nothing was written."
    )


class RetrainCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    force: bool = Field(default=False, description="Train even if the data did not advance.")


class FetchCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    feeds: str | None = Field(
        default=None,
        max_length=2000,
        description="Feeds to fetch, written like SAHELCAST_FEEDS "
        "(`acled:Mali,Niger;ucdp-candidate:Mali`); default: that setting.",
    )


class RetrainRead(BaseModel):
    job_id: int
    status: str
    poll: str = Field(description="Where to follow the job.")


def _safe_name(name: str | None) -> str:
    base = Path((name or "").replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base)[-100:].lstrip(".")
    return cleaned or "upload.csv"


def _save(upload: UploadFile, folder: Path, limit_bytes: int) -> Path:
    path = folder / _safe_name(upload.filename)
    size = 0
    with path.open("wb") as out:
        while block := upload.file.read(CHUNK):
            size += len(block)
            if size > limit_bytes:
                raise ProblemError(
                    413,
                    f"The file is larger than {limit_bytes // 2**20} MB "
                    "(SAHELCAST_API_UPLOAD_MAX_MB).",
                    slug="file-too-large",
                )
            out.write(block)
    return path


def _invalid_file(name: str, error: IngestError) -> ProblemError:
    param = ProblemParam(
        name=error.field or "file", location="file", line=error.line, detail=str(error)
    )
    return ProblemError(
        422,
        str(error),
        slug="invalid-file",
        title="Invalid file",
        errors=[param],
        file=name,
        line=error.line,
        field=error.field,
    )


@router.post(
    "/uploads", status_code=201, responses=problems(400, 413, 503), summary="Ingest an event file"
)
def upload(
    session: SessionDep,
    _: AdminDep,
    settings: SettingsDep,
    engine: EngineDep,
    file: Annotated[
        UploadFile,
        File(
            description="An ACLED export or UCDP GED CSV file (plain or gzip), not empty, "
            "with a header and at least one row; at most SAHELCAST_API_UPLOAD_MAX_MB.",
            json_schema_extra={"minLength": 1},
        ),
    ],
    source: Annotated[
        Literal["detect", "acled", "ucdp"], Form(description="The format.")
    ] = "detect",
    deletions: Annotated[bool, Form(description="The file is an ACLED deletion list.")] = False,
) -> UploadRead:
    """Ingest the file in one transaction, exactly like `sahelcast ingest`.

    A bad file answers 422 naming the line and field, and nothing from it is written.
    """
    with tempfile.TemporaryDirectory(prefix=scratch_prefix("upload")) as folder:
        path = _save(file, Path(folder), settings.api_upload_max_mb * 2**20)
        try:
            report = ingest_file(
                engine,
                path,
                settings,
                deletions=deletions,
                source=None if source == "detect" else source,
            )
        except IngestError as error:
            raise _invalid_file(path.name, error) from error
        except DatabaseNotReady as error:
            raise ProblemError(503, str(error), slug="database-not-migrated") from error
        except (ValueError, UnicodeError) as error:
            # A reader should have raised IngestError; still a client's file, not a server bug.
            log.warning("upload %s: reader raised %r", path.name, error)
            raise ProblemError(
                422,
                f"{path.name}: the file could not be read ({error}).",
                slug="invalid-file",
                title="Invalid file",
                file=path.name,
            ) from error
    data = report.to_dict()
    job = create_job(session, "ingest", "succeeded", {**data, "path": path.name})
    return UploadRead.model_validate({**data, "job_id": job.id, "file": path.name})


@dataclass(frozen=True)
class Busy:
    """How a job route answers while such a job (or its work) is under way, and which of the
    app's launchers runs the job."""

    launcher: str
    slug: str
    title: str
    work: str  # what the work lease guards: "A training run"
    request: str  # what the request lease guards: "A retrain"

    def detail(self, held: launch.Busy) -> str:
        if held.lock in (TRAINING_LOCK, FETCH_LOCK):
            return f"{self.work} is under way ({held.owner})."
        return f"{self.request} is starting or under way ({held.owner})."


RETRAIN = Busy(
    "retrain_launcher", "training-under-way", "Training under way", "A training run", "A retrain"
)
FETCH = Busy("fetch_launcher", "fetch-under-way", "Fetch under way", "A fetch", "A fetch")


class JobStart:
    """Records a job the API starts and runs it after the response with the app's launcher
    for its kind (service.jobs.launch), answering where to poll it; 409 while such a job or
    its work is under way. `settings` are the ones the launcher is given."""

    def __init__(
        self,
        request: Request,
        session: SessionDep,
        engine: EngineDep,
        settings: SettingsDep,
        background: BackgroundTasks,
    ) -> None:
        self.request, self.session, self.engine = request, session, engine
        self.settings, self.background = settings, background

    def start(self, kind: str, arg: object, details: dict[str, object], busy: Busy) -> RetrainRead:
        try:
            started = launch.start(self.session, self.engine, self.settings, kind, arg, details)
        except launch.Busy as held:
            raise ProblemError(409, busy.detail(held), slug=busy.slug, title=busy.title) from held
        launcher = getattr(self.request.app.state, busy.launcher)
        # Background tasks run after the response, hence after the session committed the job.
        self.background.add_task(launcher, self.settings, started)
        job = started.job_id
        return RetrainRead(job_id=job, status="running", poll=f"/v1/jobs/{job}")


JobStartDep = Annotated[JobStart, Depends()]


def _job_route(path: str, summary: str) -> Callable[[DecoratedCallable], DecoratedCallable]:
    """A POST that records a job and starts it after the response: 202 and where to poll it,
    400 for a bad body, 409 while such a job is under way."""
    return router.post(
        path,
        response_model=RetrainRead,
        status_code=202,
        responses=problems(400, 409),
        summary=summary,
    )


@_job_route("/retrain", "Trigger a retrain; poll the job")
def retrain(_: AdminDep, start: JobStartDep, body: RetrainCreate | None = None) -> RetrainRead:
    """Record a `retrain` job and run it after the response, as `sahelcast train` does: train
    and publish a run per measure, then flag anomalies against them. Poll `/v1/jobs/{id}`
    (its `steps` are the train and detect jobs)."""
    force = body.force if body is not None else False
    return start.start("retrain", force, {"force": force}, RETRAIN)


@_job_route("/fetch", "Fetch the live feeds (ACLED, UCDP); poll the job")
def fetch(_: AdminDep, start: JobStartDep, body: FetchCreate | None = None) -> RetrainRead:
    """Record a `refresh` job and run it after the response, like the weekly job's fetch step:
    every feed in its own transaction, then anomaly detection if the data changed.
    Poll `/v1/jobs/{id}` (its `steps` are the fetch and detect jobs)."""
    feeds = body.feeds if body is not None else None
    settings = start.settings
    try:
        specs = parse_feeds(settings.feeds if feeds is None else feeds)
    except ValueError as error:
        raise ProblemError(400, str(error), slug="bad-feeds", title="Bad feeds") from error
    if not specs:
        raise ProblemError(
            400,
            "No feeds to fetch: set SAHELCAST_FEEDS or send `feeds`.",
            slug="no-feeds",
            title="No feeds",
        )
    return start.start("refresh", feeds, {"feeds": feeds or settings.feeds}, FETCH)
