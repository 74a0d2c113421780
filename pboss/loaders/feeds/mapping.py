"""Partner feed mappings: a TOML file says which column holds what, and how to translate values.

Two styles are understood, each producing one kind: `partner_link` (a leased-line partner's circuit
list becomes PartnerLinks between our sites) and `partner_access` (a cable partner's coverage per
building becomes PartnerAccess pools). A new partner with other column names, words for status or
rates, or another encoding is a new mapping file, not code. Shipped mappings live beside this
package in `mappings/` and can be named without their path.
"""

from __future__ import annotations

import re
import string
import tomllib
import unicodedata
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pboss.loaders.issues import LoadError

MAPPINGS_DIR = Path(__file__).resolve().parent.parent / "mappings"

#: The fields each style understands, and which of them must be mapped to a column.
STYLE_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "partner_link": (
        {"circuit_code", "a_site_code", "a_address", "z_site_code", "z_address", "spec", "status",
         "contract_id", "name", "cost", "capacity_vc12"},
        {"circuit_code", "spec"},
    ),
    "partner_access": (
        {"site_code", "address", "building_name", "technology", "spec", "total", "free",
         "status"},
        {"total", "free"},
    ),
}  # fmt: skip
#: Names an `id` or `label` template may use besides the mapped fields.
TEMPLATE_EXTRAS = {"partner", "site", "a_site", "z_site"}
STYLE_KIND = {"partner_link": "PartnerLink", "partner_access": "PartnerAccess"}


def word(text: str) -> str:
    """A partner's word as compared with a mapping's keys: half-width, trimmed, case-folded."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


class FeedMapping(BaseModel):
    """One partner feed layout, read from a mapping file."""

    model_config = ConfigDict(extra="forbid")

    name: str
    style: Literal["partner_link", "partner_access"]
    partner: str = Field(min_length=1)
    encoding: str = "utf-8"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    id: str = Field(
        min_length=1, description="template of the element id, e.g. PL-TT-{circuit_code}"
    )
    label: str | None = Field(default=None, description="template of the element name")
    columns: dict[str, str]
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    defaults: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> FeedMapping:
        """The columns, values and templates fit the style; every problem in one error."""
        known, required = STYLE_FIELDS[self.style]
        problems = [f"unknown field {f!r} in [columns]" for f in self.columns if f not in known]
        problems += [f"[columns] must map {f!r}" for f in sorted(required - set(self.columns))]
        ends = ("a_", "z_") if self.style == "partner_link" else ("",)
        for end in ends:
            if not {f"{end}site_code", f"{end}address"} & set(self.columns):
                problems.append(f"[columns] must map {end}site_code or {end}address")
        for f in self.values:
            if f not in self.columns:
                problems.append(f"[values.{f}] translates a field that no column holds")
        for template in (self.id, self.label or ""):
            for _, name, _, _ in string.Formatter().parse(template):
                if name and name not in known | TEMPLATE_EXTRAS:
                    problems.append(f"template {template!r} uses unknown name {name!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def kind(self) -> str:
        """The kind of element the feed becomes."""
        return STYLE_KIND[self.style]

    def translate(self, field: str, raw: str) -> str | None:
        """Our value for a partner's word, or None when the mapping does not know the word."""
        table = self.values.get(field)
        if table is None:
            return raw.strip()
        wanted = word(raw)
        return next((ours for theirs, ours in table.items() if word(theirs) == wanted), None)


def resolve_mapping_path(name_or_path: str | Path) -> Path:
    """A mapping file by path, or a shipped mapping by name (with or without `.toml`)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    stem = path.name.removesuffix(".toml")
    shipped = MAPPINGS_DIR / f"{stem}.toml"
    if shipped.exists():
        return shipped
    names = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.toml")))
    raise LoadError(f"no mapping file {str(name_or_path)!r}; shipped mappings: {names}")


def load_mapping(name_or_path: str | Path) -> FeedMapping:
    """Read and check a mapping file; LoadError naming the file and every problem."""
    path = resolve_mapping_path(name_or_path)
    try:
        with path.open("rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LoadError(f"{path}: cannot read the mapping: {exc}") from None
    try:
        return FeedMapping.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'mapping'}: {e['msg']}" for e in exc.errors()
        )
        raise LoadError(f"{path}: invalid mapping: {problems}") from None
