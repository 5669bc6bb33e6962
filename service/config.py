"""One settings object for the whole service, read from `SAHELCAST_*` environment variables."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service.ingest.actortypes import ARMED_DEFAULT
from service.measures import MEASURES, Measure

# The folder holding pyproject.toml when the package runs from a source checkout (`make run`,
# `pip install -e .`); an installed wheel has no such folder beside it.
CHECKOUT = Path(__file__).resolve().parent.parent
ACTOR_ROLES = ("actor1", "actor2", "assoc_actor_1", "assoc_actor_2")


def user_data_dir() -> Path:
    """The per-user data folder of this platform (XDG on Linux), with a `sahelcast` folder."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "sahelcast"


def default_home() -> Path:
    """Where sahelcast keeps its files when SAHELCAST_HOME is not set.

    From a source checkout, its `data` folder (where `make run` puts the demo), wherever the
    command is run from; from an installed package, the per-user data folder. Never the current
    directory: a command run from a sub-folder must find the same database.
    """
    if (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT / "migrations").is_dir():
        return CHECKOUT / "data"
    return user_data_dir()


def _comma_list(value: object, *, lower: bool = False) -> object:
    """A comma-separated environment value as a tuple of its non-empty parts, stripped (and
    lower-cased if `lower`); any other value is left for the field's own validation."""
    if isinstance(value, str):
        parts = (part.strip() for part in value.split(","))
        return tuple(part.lower() if lower else part for part in parts if part)
    return value


class Settings(BaseSettings):
    """Service settings; every field can be set as `SAHELCAST_<FIELD>` (or in a `.env` file)."""

    model_config = SettingsConfigDict(env_prefix="SAHELCAST_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    # SAHELCAST_HOME: the folder of the default SQLite database and of the drop folder.
    # (SAHELCAST_DATA_DIR, its older name, still works.) A relative path is taken from the
    # directory the command starts in, once, when the settings are read.
    data_dir: Path = Field(
        default_factory=default_home,
        validation_alias=AliasChoices("SAHELCAST_HOME", "SAHELCAST_DATA_DIR", "data_dir"),
    )
    # Empty: a SQLite file `sahelcast.db` in SAHELCAST_HOME.
    database_url: str = ""
    # Which actor columns of an event count it for an actor's series. Wagner mostly appears
    # as an associated actor, so associated actors count by default.
    actor_roles: Annotated[tuple[str, ...], NoDecode] = ACTOR_ROLES
    # Which ACLED actor types (inter codes 1-8, service/ingest/actortypes.py) are armed: a side
    # (a primary actor and its associated actors) of another type (rioters 5, protesters 6,
    # civilians 7 by default) makes no actor series; its names stay on the event.
    armed_inter: Annotated[tuple[int, ...], NoDecode] = ARMED_DEFAULT
    # Extra folders with actor_aliases.csv / region_aliases.csv that extend the shipped tables.
    alias_dirs: list[Path] = Field(default_factory=list)
    # Rows per chunk: two are parsed at once (one a step ahead, in a thread), so this bounds
    # the memory a file's reading takes (a million-row re-ingest peaks under 1 GB at 100,000).
    ingest_chunk_rows: int = Field(default=100_000, ge=1)
    # Caps on one input file (service/ingest/readers/limits): unpacked size, gzip ratio, and
    # records with blank lines counted, so a small .gz cannot unpack into gigabytes.
    ingest_max_mb: int = Field(default=8192, ge=1)
    ingest_max_ratio: float = Field(default=100.0, gt=1)
    ingest_max_records: int = Field(default=20_000_000, ge=1)
    log_level: str = "WARNING"

    # Training (see service/training): which series a default run fits, and how.
    # A series is published when it has at least `train_min_events` events inside its
    # coverage; every series of a panel is fitted regardless (roll-ups are sums of them).
    train_min_events: int = Field(1, ge=0)
    # What a default run forecasts: one run per measure (events, fatalities), in turn.
    train_measures: Annotated[tuple[Measure, ...], NoDecode, Field(min_length=1)] = MEASURES
    train_executor: Literal["inline", "processes", "dask"] = "processes"
    # Worker processes for the `processes` executor (and a local Dask cluster); 0 = all cores.
    train_workers: int = Field(0, ge=0)
    # Address of a running Dask scheduler (tcp://host:8786); empty starts a local cluster.
    dask_address: str = ""
    # Runs whose forecasts are kept in full; older ones keep only forecasts not yet scored.
    run_retention: int = Field(5, ge=1)
    # The training lease: a crashed run's lock lapses after this long; renewed every third.
    lock_lease_seconds: float = Field(300.0, gt=0)

    # Live data (service/feeds): the ACLED and UCDP APIs, and what the weekly job fetches.
    # The secrets are SecretStr: never logged, never stored, never put in an error message.
    acled_url: str = "https://acleddata.com"
    acled_username: str = ""
    acled_password: SecretStr = SecretStr("")
    ucdp_url: str = "https://ucdpapi.pcr.uu.se"
    ucdp_token: SecretStr = SecretStr("")
    # e.g. `acled:Mali,Burkina Faso,Niger;ucdp-candidate:Mali,Burkina Faso,Niger`; empty: none.
    feeds: str = ""
    feed_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    feed_max_attempts: int = Field(default=5, ge=1, le=20)
    feed_backoff_seconds: float = Field(default=2.0, ge=0, le=600)
    # Budgets of a fetch (service/feeds/http): one answer must be whole within
    # `feed_answer_seconds` (a server trickling bytes is cut off) and at most
    # `feed_answer_max_mb` unpacked; the whole fetch within `feed_fetch_seconds` and
    # `feed_fetch_max_mb` of answers; a query within `feed_max_pages` pages (endless pagers).
    feed_answer_seconds: float = Field(default=120.0, gt=0, le=3600)
    feed_answer_max_mb: float = Field(default=64.0, gt=0, le=4096)
    feed_fetch_seconds: float = Field(default=3600.0, gt=0, le=86_400)
    feed_fetch_max_mb: float = Field(default=128.0, gt=0, le=65_536)
    feed_max_pages: int = Field(default=2000, ge=1, le=1_000_000)
    # The sanity check of a fetch (service/feeds/write): an answer that would leave a country
    # with more than this share of its events gone is refused unless forced (`--force`).
    feed_max_delete_share: float = Field(default=0.1, ge=0, le=1)

    # Anomalies: the forecast interval outside which an observed month is flagged.
    # The quantile grid holds the 50%, 80% and 95% central intervals, so only those are offered.
    anomaly_level: float = 0.95
    # A flag is a material change (service/anomalies/severity.py): evidence, i.e. a tail
    # probability under the published run's own predictive distribution of at most
    # `anomaly_max_tail_probability` (or the engine's shift probability at least
    # `anomaly_min_shift_probability`), and size: an excess over the expected value of at least
    # the measure's floor and its share of the expected. Defaults from bench/alerts.py (tuned
    # on seeds apart from the reported ones; bench/RESULTS.md).
    anomaly_max_tail_probability: float = Field(default=0.01, gt=0, le=0.5)
    anomaly_min_shift_probability: float = Field(default=0.5, gt=0, le=1)
    anomaly_min_excess_events: float = Field(default=5.0, ge=0)
    anomaly_min_excess_fatalities: float = Field(default=15.0, ge=0)
    anomaly_min_excess_share_events: float = Field(default=0.5, ge=0)
    anomaly_min_excess_share_fatalities: float = Field(default=0.5, ge=0)
    # Escalations that alert per country and data month (the strongest first); the others
    # wait for the weekly digest (one message per subscription per week).
    alert_budget_per_country_month: int = Field(default=1, ge=0, le=1000)

    # The weekly job: the folder new event files are dropped into (default: SAHELCAST_HOME/
    # incoming), and when it runs (UTC).
    drop_dir: Path = Path("incoming")
    schedule: str = "0 3 * * 1"

    # REST API. Reads need a `read` key unless `public_read`; writes always need an `admin` key.
    # Public read with no keys at all is a valid deployment (an open data portal).
    public_read: bool = False
    api_upload_max_mb: int = Field(default=500, ge=1)
    # Any other request body (JSON, forms); checked before the body is read (service/api/bodyguard).
    api_body_max_kb: int = Field(default=1024, ge=1)
    # A verified key is remembered this long per API process, so a revoked key stops working
    # within this many seconds (0: check the database on every request).
    api_key_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    # The longest an API request waits for the database (half for a pooled connection, half
    # for a lock; a statement may run this long): past it the answer is 503 problem+json.
    db_timeout_seconds: float = Field(default=5.0, gt=0, le=600)
    # Commands and jobs wait this long at most for a PostgreSQL lock (never for ever).
    db_lock_timeout_seconds: float = Field(default=300.0, gt=0, le=86_400)
    # Encoded forecast responses kept per API process (about 2 kB each; 0 turns it off).
    api_response_cache_entries: int = Field(default=20_000, ge=0)

    # Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-Proto/-Host are
    # believed: behind a TLS proxy the dashboard's cookie is then Secure and form posts are
    # checked against the public https origin. Empty: forwarded headers are ignored.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    # The address users open the dashboard at (e.g. https://sahelcast.example.org): alerts link
    # to the dashboard selection there. Empty: the links are relative (`/?series=ID`).
    public_url: str = ""
    # What day the freshness checks take as today (the banner, `/v1/freshness`): empty is the
    # clock's; a date replays an older state (a demo, a test, a report as of a day).
    today: dt.date | None = None

    # Alert webhooks. Outbound hosts: names in the allow-list (exact, or `.example.org` for a
    # domain and its subdomains) may be anything; any other host must resolve to public
    # addresses only (no SSRF), unless `webhook_allow_private` (local receivers, tests).
    webhook_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    webhook_allow_private: bool = False
    # One attempt, the whole exchange (a receiver trickling its answer is cut off here).
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(default=5, ge=1, le=20)
    # A delivery round: deliveries at once, and how long it may take in all (what has not
    # started by then waits for the next round; no retry sleeps past it).
    webhook_concurrency: int = Field(default=8, ge=1, le=64)
    webhook_round_seconds: float = Field(default=60.0, gt=0, le=3600)
    webhook_backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    webhook_backoff_max_seconds: float = Field(default=60.0, ge=0, le=3600)

    @field_validator(
        "actor_roles", "armed_inter", "train_measures", "trusted_proxies", mode="before"
    )
    @classmethod
    def _split_lists(cls, value: object) -> object:
        return _comma_list(value)

    @field_validator("feeds")
    @classmethod
    def _valid_feeds(cls, value: str) -> str:
        from service.feeds.spec import parse_feeds  # light: plain string parsing

        parse_feeds(value)  # raises ValueError naming the bad part
        return value

    @field_validator("anomaly_level")
    @classmethod
    def _known_level(cls, value: float) -> float:
        if value not in (0.5, 0.8, 0.95):
            raise ValueError(f"anomaly_level must be 0.5, 0.8 or 0.95, got {value}")
        return value

    @field_validator("schedule")
    @classmethod
    def _valid_crontab(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(f"schedule must be a 5-field crontab line, got {value!r}")
        return value

    @field_validator("actor_roles")
    @classmethod
    def _known_roles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(ACTOR_ROLES))
        if unknown or not value:
            raise ValueError(
                f"actor_roles must be a non-empty subset of {', '.join(ACTOR_ROLES)}; got {unknown}"
            )
        return value

    @field_validator("armed_inter")
    @classmethod
    def _known_actor_types(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        unknown = sorted(set(value) - set(range(1, 9)))
        if unknown or not value:
            raise ValueError(
                "armed_inter must be a non-empty list of ACLED actor types 1-8 "
                f"(e.g. 1,2,3,4,8); got {', '.join(map(str, unknown)) or 'nothing'}"
            )
        return tuple(sorted(set(value)))

    @field_validator("webhook_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        return _comma_list(value, lower=True)

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as error:
                raise ValueError(
                    f"trusted_proxies entries must be IP addresses or networks, got {entry!r}"
                ) from error
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_in_production(self) -> Settings:
        if self.environment == "production" and self.webhook_allow_private:
            raise ValueError(
                "webhook_allow_private=true lets alert webhooks reach private and loopback "
                "addresses (SSRF); it is refused in production: name trusted internal "
                "receivers in SAHELCAST_WEBHOOK_ALLOWED_HOSTS instead"
            )
        return self

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        # Resolved once, here, so that nothing later depends on the current directory.
        self.data_dir = self.data_dir.expanduser().resolve()
        if "drop_dir" not in self.model_fields_set:
            self.drop_dir = self.data_dir / "incoming"
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'sahelcast.db').as_posix()}"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached; tests clear the cache to change them)."""
    return Settings()
