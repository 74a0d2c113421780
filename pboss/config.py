"""Settings, read from the environment (prefix PBOSS_) or a .env file."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can configure without touching code."""

    model_config = SettingsConfigDict(env_prefix="PBOSS_", env_file=".env", extra="ignore")

    store: Literal["memory", "neo4j"] = "memory"
    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str | None = None
    neo4j_password: str | None = None
    neo4j_database: str | None = None
    # ---- waiting for Neo4j (pboss/inventory/neo4j/outage.py; docs/api.md) ----
    neo4j_connect_timeout: float = Field(
        default=3.0, gt=0, description="seconds to open one connection to Neo4j"
    )
    neo4j_acquire_timeout: float = Field(
        default=5.0, gt=0, description="seconds to get a pooled connection (opening included)"
    )
    neo4j_retry_time: float = Field(
        default=3.0, ge=0, description="seconds a transaction is retried after transient errors"
    )
    neo4j_probe_every: float = Field(
        default=1.0, gt=0, description="while Neo4j is away, seconds between probes for it"
    )
    store_retry_after: int = Field(
        default=2, ge=1, description="Retry-After (s) of a 503 answered while the store is away"
    )
    catalog: Path | None = Field(
        default=None, description="catalog TOML; the packaged one if unset"
    )
    demo: bool = Field(default=True, description="load the demo network into an empty store")
    load_dir: Path | None = Field(
        default=None, description="bundles `pboss serve` loads at start-up (loaders' format)"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    # ---- API access and limits (pboss/graphql) ----
    api_keys: dict[str, str] = Field(
        default_factory=dict,
        repr=False,
        description='API key -> role ("crm", "engineer", "admin", "partner:<id>"), as JSON',
    )
    api_keys_file: Path | None = Field(
        default=None, description="TOML file of [[key]] tables with key, role and name"
    )
    graphiql: bool = Field(default=True, description="serve GraphiQL at /graphql (off in prod)")
    introspection: bool = Field(default=True, description="allow schema introspection")
    max_depth: int = Field(default=12, ge=1, description="deepest selection a query may nest")
    max_aliases: int = Field(default=50, ge=1, description="aliases one document may use")
    max_tokens: int = Field(default=5000, ge=10, description="tokens one document may hold")
    max_body_bytes: int = Field(default=64_000, ge=1024, description="largest request body")
    store_threads: int = Field(default=16, ge=1, description="threads running store calls")
    cursor_key: SecretStr | None = Field(
        default=None,
        description="secret sealing partners' cursors (any string; the same on every replica); "
        "unset: a random key per process, so such cursors do not survive a restart",
    )

    @property
    def neo4j_auth(self) -> tuple[str, str] | None:
        """Basic auth for the driver, or None when Neo4j runs without auth."""
        if self.neo4j_user is None:
            return None
        return (self.neo4j_user, self.neo4j_password or "")


@cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
