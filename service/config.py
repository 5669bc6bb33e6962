"""One settings object for the whole service, read from `SAHELCAST_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")
ACTOR_ROLES = ("actor1", "actor2", "assoc_actor_1", "assoc_actor_2")


class Settings(BaseSettings):
    """Service settings; every field can be set as `SAHELCAST_<FIELD>` (or in a `.env` file)."""

    model_config = SettingsConfigDict(env_prefix="SAHELCAST_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    # Which actor columns of an event count it for an actor's series. Wagner mostly appears
    # as an associated actor, so associated actors count by default.
    actor_roles: Annotated[tuple[str, ...], NoDecode] = ACTOR_ROLES
    # Extra folders with actor_aliases.csv / region_aliases.csv that extend the shipped tables.
    alias_dirs: list[Path] = Field(default_factory=list)
    ingest_chunk_rows: int = 200_000
    log_level: str = "WARNING"

    @field_validator("actor_roles", mode="before")
    @classmethod
    def _split_roles(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
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

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
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
