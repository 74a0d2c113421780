"""GraphQL for assurance: trouble tickets, alarms and incidents with their repair (issue 19)."""
