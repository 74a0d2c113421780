"""Service assurance: trouble tickets, alarms, correlation into incidents, dispatch."""
