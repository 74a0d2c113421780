"""GraphQL of provisioning: CRM orders, reservations and construction orders."""
