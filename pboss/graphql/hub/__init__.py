"""The event hub in the API: register and list listeners, see and replay dead letters."""
