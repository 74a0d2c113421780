"""A site's view for availability: its splitters with free outputs, the chain above each and the
load of its PON port; its partner pools; its NEs and their ports, busy or not. One query."""

from __future__ import annotations

from pboss.inventory.neo4j.queries.base import READ, Query
from pboss.inventory.neo4j.queries.fragments import ne_port_busy, pon_load, splitter_port_busy

SITE_VIEW = Query(
    "site_view",
    READ,
    f"""
    MATCH (site:Entity {{id: $site}})
    CALL (site) {{
      MATCH (spl:Entity {{site: site.id}}) WHERE spl:Splitter
      CALL (spl) {{
        OPTIONAL MATCH (sp:SplitterPort)-[:PART_OF]->(spl)
        WITH sp ORDER BY sp.index, sp.id
        RETURN collect([sp.id, sp.status, {splitter_port_busy("sp")}]) AS ports
      }}
      CALL (spl) {{
        OPTIONAL MATCH p = (spl)-[:FED_BY|PART_OF*1..16]->(top)
        WHERE NOT EXISTS {{ (top)-[:FED_BY|PART_OF]->() }}
        WITH p ORDER BY length(p) DESC LIMIT 1
        RETURN CASE WHEN p IS NULL THEN [] ELSE nodes(p)[1..] END AS chain
      }}
      WITH spl, ports, chain, [n IN chain WHERE n:PonPort][0] AS pon ORDER BY spl.id
      WITH collect([properties(spl), ports, [n IN chain | properties(n)], pon.id,
                    pon.max_split]) AS splitters, collect(DISTINCT pon) AS pons
      CALL (pons) {{
        UNWIND pons AS pon
        OPTIONAL MATCH {pon_load("pon")}
        WITH pon, count(DISTINCT o) AS load
        RETURN collect([pon.id, load]) AS loads
      }}
      RETURN splitters, loads
    }}
    CALL (site) {{
      OPTIONAL MATCH (pa:Entity {{site: site.id}}) WHERE pa:PartnerAccess
      WITH pa ORDER BY pa.id
      RETURN collect(properties(pa)) AS pools
    }}
    CALL (site) {{
      OPTIONAL MATCH (ne:Entity {{site: site.id}}) WHERE ne:NE
      WITH ne ORDER BY ne.id
      RETURN collect(properties(ne)) AS nes
    }}
    CALL (site) {{
      MATCH (ne:Entity {{site: site.id}}) WHERE ne:NE
      MATCH (p:Port)-[:PART_OF]->(ne)
      WITH p, ne ORDER BY p.id
      RETURN collect([properties(p), ne.id, {ne_port_busy("p")}]) AS ports
    }}
    RETURN properties(site) AS site, splitters, loads, pools, nes, ports
    """,
)
