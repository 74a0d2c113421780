"""GraphQL area of assurance: trouble tickets and alarms (`tickets.py`, `alarms.py`), incidents."""
