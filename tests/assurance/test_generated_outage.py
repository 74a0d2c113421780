"""An OLT outage on the generated `small` network, on both stores: tickets from households across
its PON ports plus alarms on those ports point one incident at the OLT; tickets under one
stage-2 splitter of another OLT stay a separate incident on that splitter."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pboss.assurance.model import Incident
from pboss.inventory.store import GraphStore
from pboss.loaders.generator import generate
from pboss.loaders.loader import load_directory
from tests.assurance.network import active, later
from tests.assurance.test_generated_helpers import busiest_olt, open_for, raise_on


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `small` network, generated once."""
    path = tmp_path_factory.mktemp("small")
    generate(path, "small", 3)
    return path


def test_an_olt_outage_on_the_small_network(store: GraphStore, bundle: Path) -> None:
    load_directory(store, bundle)
    olt, trees = busiest_olt(store)
    ports = sorted(trees)
    assert len(ports) >= 3, "the busiest OLT of `small` lights several PON ports"
    rng = random.Random(5)
    for i, port in enumerate(ports[:3]):
        raise_on(store, port, at=later(i))
    n = 0
    for port in ports:
        for svc in rng.sample(trees[port], min(4, len(trees[port]))):
            n += 1
            open_for(store, svc, at=later(100 + n))
    live = active(store)
    on_olt = [i for i in live if i.suspected == olt]
    assert len(on_olt) == 1, [(i.id, i.suspected) for i in live]
    inc: Incident = on_olt[0]
    assert len(inc.tickets) == n and len(inc.alarms) == 3
    assert len(live) == 1
