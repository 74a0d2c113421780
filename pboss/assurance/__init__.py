"""Service assurance: trouble tickets (TMF621), alarms (TMF642), incidents correlated on the graph,
their dispatch as repair work and their assurance SLAs."""
