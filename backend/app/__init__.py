"""The reference FastAPI backend: `app.main:create_app`, the `backend` command in `app.cli`."""
