"""CRM-facing capabilities: resource publishing (资源发布) of business resource packages."""
