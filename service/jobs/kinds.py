"""Names of job kinds, triggers and statuses (no heavy imports: the CLI's choices use them)."""

from __future__ import annotations

from typing import Literal, get_args

# Steps, then the jobs made of steps (service.jobs.pipelines).
Kind = Literal["fetch", "ingest", "train", "detect", "weekly", "retrain", "refresh"]
KINDS: tuple[Kind, ...] = get_args(Kind)
Trigger = Literal["schedule", "cli", "api"]
TRIGGERS: tuple[Trigger, ...] = get_args(Trigger)
Status = Literal["running", "succeeded", "skipped", "failed"]
STATUSES: tuple[Status, ...] = get_args(Status)
RUNNING, SUCCEEDED, SKIPPED, FAILED = STATUSES
