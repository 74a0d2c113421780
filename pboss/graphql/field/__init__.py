"""GraphQL for field work: crews, work queues and the field engineer's step reports."""
