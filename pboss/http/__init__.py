"""The HTTP service: the FastAPI app, API keys, the body limit, probes and the /graphql
endpoint."""
