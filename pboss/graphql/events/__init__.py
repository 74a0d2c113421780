"""The durable event log in the API: `events(after:, types:, first:)`, the pull half of the hub."""
