"""docker-compose.yml runs pboss as replicas behind the nginx balancer, on Neo4j's routing URI."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_serves_replicas_behind_the_balancer_only() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    api, balancer, neo4j = services["pboss"], services["balancer"], services["neo4j"]
    assert api["deploy"]["replicas"] >= 2
    assert "ports" not in api  # replicas are reached through the balancer only
    assert balancer["ports"] == ["127.0.0.1:8000:8080"]
    assert balancer["depends_on"]["pboss"]["condition"] == "service_healthy"
    assert api["environment"]["PBOSS_NEO4J_URI"].startswith("neo4j://")
    # the routing table must name an address the replicas reach, not the default localhost
    assert neo4j["environment"]["NEO4J_server_default__advertised__address"] == "neo4j"
    (mount,) = balancer["volumes"]
    source, target = mount.split(":")[:2]
    assert target == "/etc/nginx/nginx.conf"
    conf = (ROOT / source).read_text()
    assert re.search(r"server pboss:8000 resolve;", conf)
    assert "listen 8080;" in conf
    assert "proxy_next_upstream error;" in conf  # a write is never replayed on another replica
