"""Synthetic people and companies: names, phones and room numbers (no real person's data)."""

from __future__ import annotations

import random

from pboss.loaders.generator.names import COMPANY_WORDS, ESTATE_HEADS, GIVEN, SURNAMES


def person_name(rng: random.Random) -> str:
    """A plausible Chinese personal name."""
    return (
        rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.5 else "")
    )


def company_name(rng: random.Random) -> str:
    """A plausible Shanghai company name."""
    return f"上海{rng.choice(ESTATE_HEADS)}{rng.choice(COMPANY_WORDS)}有限公司"


def phone(rng: random.Random) -> str:
    """A mobile number of the right shape."""
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def room(rng: random.Random, address: str, estate: bool) -> str:
    """A unit at an address: building and room in an estate, a floor in a tower."""
    if estate:
        return f"{address}{rng.randint(1, 40)}号{rng.randint(1, 18)}{rng.randint(1, 4):02d}室"
    return f"{address}{rng.randint(2, 40)}楼"
