"""GraphQL for field work: crews, work queues, assignment, KPIs and reports."""
