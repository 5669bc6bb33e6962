"""Find what a request names, or answer with the right problem."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from service.api.problems import ProblemError
from service.series.repository import SeriesLabel, find_series

T = TypeVar("T")


def unknown_series(ref: str) -> ProblemError:
    return ProblemError(
        404,
        f"No series {ref!r}; list them at /v1/series.",
        slug="unknown-series",
        title="Unknown series",
    )


def series_or_404(session: Session, ref: str) -> SeriesLabel:
    series = find_series(session, ref)
    if series is None:
        raise unknown_series(ref)
    return series


def not_found(what: str, ident: int) -> ProblemError:
    return ProblemError(404, f"No {what} {ident}.", slug=f"unknown-{what}", title=f"Unknown {what}")


def found_or_404(found: T | None, what: str, ident: int) -> T:
    """`found`, or a 404 problem naming the `what` with id `ident` that is not there."""
    if found is None:
        raise not_found(what, ident)
    return found


def no_published_run(measure: str = "events") -> ProblemError:
    if measure == "events":
        detail = "No training run has been published yet."
    else:
        detail = (
            f"No {measure} run has been published yet: train one with `sahelcast train "
            f"--measure {measure}` (SAHELCAST_TRAIN_MEASURES: what runs train)."
        )
    return ProblemError(
        503,
        detail,
        slug="no-published-run",
        title="No published run",
    )
