"""CRM-facing capabilities: resource publishing and status feedback."""
