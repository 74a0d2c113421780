"""GraphQL of the business view: availability, business resources, products."""
