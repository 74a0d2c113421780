"""Field work over GraphQL: crews, work queues, assignment, KPIs, ratings and reports."""
