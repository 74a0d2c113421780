"""Provisioning: CRM orders, explained path choice, holds with expiry, construction orders.

Importing the package registers its kinds (Order, Reservation, WorkOrder) and their edges with the
inventory model, so any store can read them back. See docs/provisioning.md.
"""

from pboss.provisioning import model as model
