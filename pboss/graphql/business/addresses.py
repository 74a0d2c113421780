"""A site from an address as CRM types it: one rule for availability and for submitOrder.

The site index (`pboss.graphql.network.sites`) compares normalised text; the best-scoring visible
sites win. One winner is the site; none means the address is not in our inventory; several are
ambiguous, and the caller is asked for the site id.
"""

from __future__ import annotations

from dataclasses import dataclass

from pboss.graphql.context import Context
from pboss.graphql.errors import ValidationError
from pboss.graphql.network.sites import SiteIndex

#: Longest address text compared (longer input is cut, not refused).
MAX_ADDRESS = 200


@dataclass(frozen=True)
class NoSuchAddress:
    """No site this caller may see matches the address."""

    address: str

    @property
    def reason(self) -> str:
        """Why nothing can be answered for it, in CRM's words."""
        return (
            f"no site in our inventory matches the address {self.address!r}: check the "
            "spelling, or give the site id"
        )


async def site_by_address(
    ctx: Context, address: str, field: str = "address", item: str | None = None
) -> str | NoSuchAddress | ValidationError:
    """The id of the one site matching an address best, NoSuchAddress when none matches, or a
    ValidationError on `field` (the GraphQL argument's name; of `item`, an input, if given)
    when several match equally."""
    index: SiteIndex = ctx.state["site_index"]
    hits = await ctx.call(index.search, ctx.store, address[:MAX_ADDRESS], 50)
    hits = [(score, s) for score, s in hits if ctx.sees(s)]
    if not hits:
        return NoSuchAddress(address)
    best = [s for score, s in hits if score == hits[0][0]]
    if len(best) > 1:
        shown = ", ".join(f"{s.id} ({s.name})" for s in best[:10])
        reason = f"matches {len(best)} sites: {shown}; give the site id"
        return ValidationError.single(item or field, reason, field)
    return best[0].id
