"""GraphQL for assurance: trouble tickets and alarms (`tickets.py`, `alarms.py`), incidents
with their repair (issue 19)."""
