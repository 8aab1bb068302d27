"""Database work as keyword-only async functions returning ORM objects.

Services raise the domain errors of `app.services.errors`; the API turns them into HTTP errors.
"""
