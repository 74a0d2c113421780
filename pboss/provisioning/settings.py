"""Provisioning settings, read from the environment (prefix PBOSS_PROVISIONING_)."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProvisioningSettings(BaseSettings):
    """Hold lifetimes, path search breadth and sweeper cadence (SLA terms are catalog data)."""

    model_config = SettingsConfigDict(env_prefix="PBOSS_PROVISIONING_", extra="ignore")

    hold_ttl_seconds: float = Field(default=1800, gt=0, description="hold lifetime (instant)")
    long_hold_grace_hours: float = Field(
        default=24,
        ge=0,
        description="a long-process hold lasts until its work order's SLA deadline plus this "
        "grace (the deadline, jeopardy share and escalation come from the catalog's [[sla]] "
        "rules, not from settings)",
    )
    k_paths: int = Field(default=4, ge=1, le=20, description="routes kept for a leased line")
    max_candidates: int = Field(
        default=6, ge=1, le=32, description="FTTH splitters ranked and explained"
    )
    lock_candidates: int = Field(
        default=2, ge=1, le=32, description="best candidates tried under one lock"
    )
    options_per_claim: int = Field(default=4, ge=1, le=64, description="ports tried per claim")
    reserve_attempts: int = Field(
        default=6,
        ge=1,
        le=20,
        description="recomputations after lost races (each one means "
        "another reservation won meanwhile)",
    )
    links_cache_seconds: float = Field(
        default=2.0, ge=0, description="reuse the transport-link snapshot for path search"
    )
    auto_confirm_on_acceptance: bool = True
    sweep_interval_seconds: float = Field(default=30, gt=0)
    sweep_batch: int = Field(default=500, ge=1)


def provisioning_settings(app_settings: Any = None) -> ProvisioningSettings:
    """The provisioning settings: the app's own `provisioning` attribute if it has one, else env."""
    own = getattr(app_settings, "provisioning", None)
    return own if isinstance(own, ProvisioningSettings) else ProvisioningSettings()
