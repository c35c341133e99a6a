"""The REST API under /api/: token-authenticated, one typed schema per operation, OpenAPI 3.1."""
