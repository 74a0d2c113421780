"""The CRM area of the API: status feedback from CRM and the mismatches it finds."""
