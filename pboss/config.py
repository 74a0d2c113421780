"""Settings, read from the environment (prefix PBOSS_) or a .env file."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pboss.hub.urls import parse_allow_list


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
    data_dir: Path | None = Field(
        default=Path("var/pboss"),
        description="where the embedded store keeps its snapshot and journal (every write is "
        "on disk before it is answered); empty (PBOSS_DATA_DIR=): in memory only, lost at exit",
    )
    data_compact_mb: int = Field(
        default=256,
        ge=1,
        description="journal size (MB) at which the embedded store writes a new snapshot",
    )
    catalog: Path | None = Field(
        default=None, description="catalog TOML; the packaged one if unset"
    )
    demo: bool = Field(default=True, description="load the demo network into an empty store")
    load_dir: Path | None = Field(
        default=None,
        description="bundles `pboss serve` loads at start-up (loaders' format), and partner "
        "feeds in its feeds/<mapping>/*.csv",
    )
    load_feeds: str | None = Field(
        default=None,
        description="partner feeds `pboss serve` applies at start-up, after the bundles and the "
        "demo: path.csv:mapping[:encoding],... (mapping: a shipped name or a TOML file)",
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
    graphiql: bool | None = Field(
        default=None,
        description="serve GraphiQL at /graphql to browsers; unset: only while no API keys are "
        "configured (the development keys), so a production setup has it off unless asked",
    )
    console: bool = Field(
        default=True,
        description="serve the console for people at /ui (same API keys and roles as the API)",
    )
    metrics_open: bool | None = Field(
        default=None,
        description="serve /metrics without a key; unset: only while no API keys are configured",
    )
    metrics_key: SecretStr | None = Field(
        default=None,
        description="bearer token a scraper sends for /metrics when it is not open (any admin "
        "API key works too)",
    )
    introspection: bool = Field(default=True, description="allow schema introspection")
    max_depth: int = Field(default=12, ge=1, description="deepest selection a query may nest")
    max_aliases: int = Field(default=50, ge=1, description="aliases one document may use")
    max_tokens: int = Field(default=5000, ge=10, description="tokens one document may hold")
    max_body_bytes: int = Field(default=64_000, ge=1024, description="largest request body")
    max_cost: dict[str, int] = Field(
        default_factory=lambda: {
            "partner": 25_000,
            "crm": 50_000,
            "engineer": 100_000,
            "admin": 100_000,
        },
        description="largest estimated cost of one operation, by role (JSON); a role not listed "
        "gets the smallest (docs/api.md, Limits)",
    )
    cost_list_size: int = Field(
        default=20, ge=1, description="items the cost estimate assumes for a list without first"
    )
    max_response_bytes: int = Field(
        default=2_000_000, ge=1024, description="largest encoded GraphQL answer"
    )
    graphql_threads: int = Field(
        default=4,
        ge=0,
        description="event loops (one thread each) running GraphQL operations, off the loop "
        "that answers /healthz (0: on that loop, for embedding only)",
    )
    store_threads: int = Field(default=16, ge=1, description="threads running store calls")
    cursor_key: SecretStr | None = Field(
        default=None,
        description="secret sealing partners' cursors (any string; the same on every replica); "
        "unset: a random key per process, so such cursors do not survive a restart",
    )
    # ---- the event hub: listeners and delivery (pboss/hub; docs/api.md) ----
    hub_deliver: bool = Field(
        default=True, description="run the delivery worker in this process (any replica may)"
    )
    hub_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="where listener callbacks may point: host names (`crm.example.com`, "
        "`*.example.com`), addresses or networks (`10.0.0.0/8`), each optionally `:port`, as "
        "JSON; empty: no callback may be registered",
    )
    hub_max_attempts: int = Field(
        default=8, ge=1, description="tries of one event before it becomes a dead letter"
    )
    hub_backoff_seconds: float = Field(
        default=0.5, gt=0, description="first retry delay; doubled each try, with jitter"
    )
    hub_backoff_max_seconds: float = Field(
        default=60.0, gt=0, description="longest delay between two tries of one event"
    )
    hub_timeout_seconds: float = Field(
        default=5.0, gt=0, description="seconds a callback has to answer one delivery"
    )
    hub_lease_seconds: float = Field(
        default=15.0, gt=0, description="how long a deliverer holds a listener between renewals"
    )
    hub_poll_seconds: float = Field(
        default=0.25,
        gt=0,
        description="how often a deliverer looks for events other processes "
        "committed (this process's own wake it at once)",
    )
    hub_max_listeners: int = Field(default=200, ge=1, description="listeners the hub accepts")
    # ---- utilisation alarms (pboss/assurance/utilisation.py) ----
    utilisation_sweep_seconds: float = Field(
        default=300,
        ge=0,
        description="how often this process compares every resource's utilisation with the "
        "thresholds and raises or clears utilisation alarms (0: never, only on request)",
    )
    # ---- resource publishing to CRM (pboss/crm; docs/api.md, Resource publishing) ----
    publish_resources: bool = Field(
        default=True, description="publish businessResourceChanged events from this process"
    )
    publish_debounce_seconds: float = Field(
        default=0.5, ge=0, description="wait after a change before publishing, to coalesce"
    )
    publish_reconcile_seconds: float | None = Field(
        default=None,
        ge=0,
        description="how often every package is compared with what was last published (0: "
        "only at start-up); unset: every 300 s on Neo4j, only at start-up on the embedded store "
        "(every write to it passes this process's triggers; bench/README.md has the costs)",
    )
    publish_low_free_percent: list[float] = Field(
        default_factory=lambda: [10.0],
        description="free capacity thresholds, in % of a package's capacity, whose crossing "
        "publishes (JSON list; crossing zero always publishes)",
    )

    @field_validator("data_dir", mode="before")
    @classmethod
    def empty_data_dir_is_none(cls, value: object) -> object:
        """PBOSS_DATA_DIR= (empty) means no data directory: the store lives in memory only."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("hub_allowed_hosts")
    @classmethod
    def allow_list_parses(cls, value: list[str]) -> list[str]:
        """Refuse a malformed callback allow-list at start-up, naming the entry."""
        parse_allow_list(value)
        return value

    @field_validator("max_cost")
    @classmethod
    def costs_are_positive(cls, value: dict[str, int]) -> dict[str, int]:
        """At least one role, every limit at least 1."""
        if not value or any(limit < 1 for limit in value.values()):
            raise ValueError('max_cost maps roles to limits of at least 1, e.g. {"crm": 20000}')
        return value

    @property
    def keys_configured(self) -> bool:
        """True when API keys are configured (PBOSS_API_KEYS or PBOSS_API_KEYS_FILE)."""
        return bool(self.api_keys) or self.api_keys_file is not None

    @property
    def graphiql_enabled(self) -> bool:
        """Whether GraphiQL is served: as set, else only without configured keys."""
        return self.graphiql if self.graphiql is not None else not self.keys_configured

    @property
    def metrics_public(self) -> bool:
        """Whether /metrics answers without a key: as set, else only without configured keys."""
        return self.metrics_open if self.metrics_open is not None else not self.keys_configured

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
