"""The HTTP API: dependencies, exception handlers and one router per resource."""
