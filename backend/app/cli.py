"""The `backend` command: serve, migrate, create-admin.

Errors are reported on one line on stderr, with a non-zero exit status and no traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.core.config import ConfigurationError, get_settings

ADMIN_PASSWORD_ENV = "BACKEND_ADMIN_PASSWORD"  # noqa: S105 (a variable name)


class CommandError(Exception):
    """A failure to report to the user as one line."""


def _database_label() -> str:
    return make_url(get_settings().DATABASE_URL).render_as_string(hide_password=True)


def migrate() -> None:
    from app.migrations import head_revision, upgrade

    get_settings()  # refuse bad settings before touching the database
    upgrade()
    print(f"Database {_database_label()} is at revision {head_revision()} (head)")


def serve(host: str, port: int) -> None:
    import uvicorn

    migrate()
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port)


def _read_password() -> str:
    password = os.environ.get(ADMIN_PASSWORD_ENV)
    if password:
        return password
    if not sys.stdin.isatty():
        raise CommandError(f"no password: set {ADMIN_PASSWORD_ENV} or run in a terminal")
    try:
        password = getpass.getpass("Password: ")
        again = getpass.getpass("Password (again): ")
    except EOFError:
        raise CommandError("no password entered") from None
    if again != password:
        raise CommandError("the passwords do not match")
    return password


def _validation_message(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"])
        parts.append(f"{field}: {item['msg']}")
    return "invalid input: " + "; ".join(parts)


async def _create_admin(username: str, email: str, password: str) -> int:
    from app.core.db import get_engine, get_sessionmaker
    from app.schemas.user import UserCreate
    from app.services.errors import ServiceError
    from app.services.users import create_user

    try:
        data = UserCreate(
            username=username, email=email, password=password, is_staff=True, is_superuser=True
        )
    except ValidationError as error:
        raise CommandError(_validation_message(error)) from None
    try:
        # Like a request: services only flush; the command commits once, or rolls back.
        async with get_sessionmaker()() as session, session.begin():
            user = await create_user(session=session, actor=None, data=data)
        return user.id
    except ServiceError as error:
        raise CommandError(error.message) from None
    finally:
        await get_engine().dispose()


def create_admin(username: str, email: str) -> None:
    from app.migrations import upgrade

    get_settings()
    password = _read_password()
    upgrade()  # like `serve`: the tables must exist
    user_id = asyncio.run(_create_admin(username, email, password))
    print(f"Created staff superuser {username!r} (id {user_id})")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="backend", description="The reference backend.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve_parser = commands.add_parser("serve", help="apply pending migrations, then serve the API")
    serve_parser.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    serve_parser.add_argument("--port", type=int, default=8000, help="default: %(default)s")

    commands.add_parser("migrate", help="apply pending migrations to DATABASE_URL")

    admin_parser = commands.add_parser(
        "create-admin",
        help="create a staff superuser (password from "
        f"{ADMIN_PASSWORD_ENV} or a prompt); applies pending migrations first",
    )
    admin_parser.add_argument("--username", required=True)
    admin_parser.add_argument("--email", default="")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            serve(args.host, args.port)
        elif args.command == "migrate":
            migrate()
        elif args.command == "create-admin":
            create_admin(args.username, args.email)
    except (CommandError, ConfigurationError) as error:
        print(f"backend {args.command}: error: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        print(f"backend {args.command}: database error: {reason}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"backend {args.command}: cannot reach the database: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the promise is one line, never a traceback
        print(f"backend {args.command}: unexpected error: {error!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
