"""Provisioning: CRM orders, explained path choice, holds with expiry, construction orders.

Its kinds (Order, Reservation, WorkOrder) join the inventory model through the explicit
`pboss.provisioning.model.register_kinds()` (made by `bootstrap.open_store`, by
`ProvisioningService` and by the test fixtures), not by importing this package. See
docs/provisioning.md.
"""
