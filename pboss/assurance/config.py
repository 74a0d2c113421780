"""Assurance configuration: which alarms set a resource `faulty`, and utilisation thresholds.

Both are operator data, not code (`assurance.toml` beside this module, or the file named by
`PBOSS_ASSURANCE_CONFIG`): `[[alarm_rule]]` entries matched in order on alarm type and probable
cause ("*" for any) with a minimum severity, and `[[threshold]]` entries per measure (PON split
budget, splitter fill, trunk VC-12 use, partner pool use), optionally per site, with a raise and
a lower clear level so a value hovering at the line does not flap. A bad file is refused whole
with every problem named.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pboss.assurance.model import AlarmType, Severity
from pboss.inventory.errors import Issue, ValidationFailed

DEFAULT_PATH = Path(__file__).with_name("assurance.toml")
#: Severities from most to least severe (an alarm "at least major" is critical or major).
SEVERITY_RANK: dict[str, int] = {
    Severity.CRITICAL: 0,
    Severity.MAJOR: 1,
    Severity.MINOR: 2,
    Severity.WARNING: 3,
    Severity.INDETERMINATE: 4,
}
#: The utilisation measures a threshold may name.
MEASURES = ("pon_split", "splitter_fill", "trunk_vc12", "partner_pool")
ANY = "*"


@dataclass(frozen=True, slots=True)
class AlarmRule:
    """Whether alarms of this type and cause, at least this severe, set their resource faulty."""

    id: str
    alarm_type: str = ANY
    probable_cause: str = ANY
    min_severity: str = Severity.CRITICAL
    faulty: bool = True

    def matches(self, alarm_type: str, probable_cause: str) -> bool:
        """True when this rule is about alarms of this type and cause."""
        return self.alarm_type in (ANY, alarm_type) and self.probable_cause in (
            ANY,
            probable_cause,
        )


@dataclass(frozen=True, slots=True)
class Threshold:
    """A utilisation line: raise at `raise_at` of capacity used, clear below `clear_at`."""

    measure: str
    raise_at: float
    clear_at: float
    severity: str = Severity.MAJOR
    site: str | None = None


@dataclass(frozen=True, slots=True)
class AssuranceConfig:
    """The alarm rules, in order, and the utilisation thresholds."""

    alarm_rules: tuple[AlarmRule, ...] = ()
    thresholds: tuple[Threshold, ...] = ()

    def sets_faulty(self, alarm_type: str, probable_cause: str, severity: str) -> bool:
        """True when an alarm like this moves its resource to faulty (the first rule decides)."""
        for rule in self.alarm_rules:
            if rule.matches(alarm_type, probable_cause):
                at_least = SEVERITY_RANK[severity] <= SEVERITY_RANK[rule.min_severity]
                return rule.faulty and at_least
        return False

    def threshold(self, measure: str, site: str | None) -> Threshold | None:
        """The threshold for a measure at a site (a site's own rule first), or None."""
        mine = [t for t in self.thresholds if t.measure == measure]
        own = [t for t in mine if site is not None and t.site == site]
        anywhere = [t for t in mine if t.site is None]
        return (own or anywhere or [None])[0]


def _rule(n: int, d: dict[str, Any], problems: list[str]) -> AlarmRule | None:
    where = f"alarm_rule {d.get('id', n)}"
    unknown = sorted(set(d) - {"id", "alarm_type", "probable_cause", "min_severity", "faulty"})
    if unknown:
        problems.append(f"{where}: unknown keys {unknown}")
    kind = str(d.get("alarm_type", ANY))
    if kind != ANY and kind not in {t.value for t in AlarmType}:
        problems.append(f"{where}: unknown alarm_type {kind!r}")
    sev = str(d.get("min_severity", Severity.CRITICAL))
    if sev not in SEVERITY_RANK:
        problems.append(f"{where}: unknown min_severity {sev!r}")
    if not isinstance(d.get("faulty", True), bool):
        problems.append(f"{where}: faulty must be true or false")
    if problems:
        return None
    return AlarmRule(
        id=str(d.get("id", f"rule-{n}")),
        alarm_type=kind,
        probable_cause=str(d.get("probable_cause", ANY)),
        min_severity=sev,
        faulty=bool(d.get("faulty", True)),
    )


def _threshold(n: int, d: dict[str, Any], problems: list[str]) -> Threshold | None:
    where = f"threshold {n} ({d.get('measure')})"
    before = len(problems)
    unknown = sorted(set(d) - {"measure", "raise_at", "clear_at", "severity", "site"})
    if unknown:
        problems.append(f"{where}: unknown keys {unknown}")
    if d.get("measure") not in MEASURES:
        problems.append(f"{where}: measure must be one of {list(MEASURES)}")
    raise_at, clear_at = d.get("raise_at"), d.get("clear_at", d.get("raise_at"))
    if not all(isinstance(v, int | float) and 0 < v <= 1 for v in (raise_at, clear_at)):
        problems.append(f"{where}: raise_at and clear_at must be shares in (0, 1]")
    elif clear_at > raise_at:  # type: ignore[operator]
        problems.append(f"{where}: clear_at must not exceed raise_at")
    sev = str(d.get("severity", Severity.MAJOR))
    if sev not in SEVERITY_RANK:
        problems.append(f"{where}: unknown severity {sev!r}")
    if len(problems) > before:
        return None
    site = d.get("site")
    return Threshold(
        measure=str(d["measure"]),
        raise_at=float(raise_at),  # type: ignore[arg-type]
        clear_at=float(clear_at),  # type: ignore[arg-type]
        severity=sev,
        site=str(site) if site else None,
    )


def parse_config(data: dict[str, Any], source: str) -> AssuranceConfig:
    """The configuration from parsed TOML; ValidationFailed naming every problem."""
    problems: list[str] = []
    unknown = sorted(set(data) - {"alarm_rule", "threshold"})
    if unknown:
        problems.append(f"unknown sections {unknown}")
    rules = [_rule(n, d, problems) for n, d in enumerate(data.get("alarm_rule", []), 1)]
    limits = [_threshold(n, d, problems) for n, d in enumerate(data.get("threshold", []), 1)]
    if problems:
        raise ValidationFailed([Issue(source, p) for p in problems])
    return AssuranceConfig(
        alarm_rules=tuple(r for r in rules if r), thresholds=tuple(t for t in limits if t)
    )


def load_config(path: Path | str | None = None) -> AssuranceConfig:
    """Read a configuration file (the packaged one, or `PBOSS_ASSURANCE_CONFIG`, when None)."""
    source = Path(path or os.environ.get("PBOSS_ASSURANCE_CONFIG") or DEFAULT_PATH)
    with source.open("rb") as fh:
        return parse_config(tomllib.load(fh), str(source))


@lru_cache(maxsize=1)
def default_config() -> AssuranceConfig:
    """The configuration in force when none is passed (read once)."""
    return load_config()
