"""Field work: crews (own and partners'), assignment of work orders, SLAs from the catalog, work
queues, KPIs and reports."""
