"""Settings, database plumbing, security, throttling and ASGI middleware."""
