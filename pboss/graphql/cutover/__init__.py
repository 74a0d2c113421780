"""GraphQL for cutover plans: plan, approve, schedule, execute, roll back, cancel; read plans
with their impact and steps (issue 18)."""
