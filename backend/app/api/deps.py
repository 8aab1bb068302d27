"""Dependencies, as `Annotated` aliases: the session, the current user, paging parameters."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import get_session
from app.core.security import InvalidTokenError, decode_access_token, fingerprint_matches
from app.core.throttle import LoginThrottle
from app.models import User
from app.schemas.common import DEFAULT_PAGE_LIMIT, MAX_OFFSET, MAX_PAGE_LIMIT
from app.services.common import PageRequest

# scope="function": the session's commit runs when the endpoint returns, before the response
# is sent (the default scope would commit after the client already has its answer).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]

NOT_AUTHENTICATED = "Not authenticated"
INVALID_CREDENTIALS = "Could not validate credentials"
STAFF_REQUIRED = "Staff access required"


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


# Built once: every authenticated request runs it, and building a statement (and its cache
# key) costs more than running it on SQLite. populate_existing: a user object already in this
# session must show the current row.
_USER_BY_ID = (
    select(User).where(User.id == bindparam("user_id")).execution_options(populate_existing=True)
)


async def get_current_user(session: SessionDep, token: TokenDep) -> User:
    """The active user the bearer token names; 401 for any token that is not valid now."""
    if not token:
        raise _unauthorized(NOT_AUTHENTICATED)
    try:
        claims = decode_access_token(token)
    except InvalidTokenError:
        raise _unauthorized(INVALID_CREDENTIALS) from None
    user = await session.scalar(_USER_BY_ID, {"user_id": claims.user_id})
    if user is None or not user.is_active or not fingerprint_matches(claims, user.password):
        raise _unauthorized(INVALID_CREDENTIALS)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_admin_user(user: CurrentUser) -> User:
    if not user.is_staff:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=STAFF_REQUIRED)
    return user


AdminUser = Annotated[User, Depends(get_admin_user)]


# async: a plain `def` dependency would run in a worker thread, a thread hop per login.
async def get_login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


LoginThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]


def client_address(request: Request) -> str:
    """The client's address, as the server reports it (behind a reverse proxy, the server
    must take it from the proxy's headers: uvicorn's --forwarded-allow-ips).

    A function of the `Request` the route takes, not a dependency of its own: each dependency
    costs FastAPI a resolution per request, and this one only reads an attribute.
    """
    return request.client.host if request.client else ""


def _blank_to_none(value: Any) -> Any:
    # `?is_active=` (an empty value, as URL templates often send) means "no filter".
    return None if value == "" else value


def _plain_digits(value: Any) -> Any:
    # Python's int() also reads "1_0", "+5", " 5" and other scripts' digits: an id in a URL
    # is ASCII digits only, so that one resource has one address.
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise PydanticCustomError("id_digits", "Id must be written in plain digits (0-9)")
    return value


PathId = Annotated[int, BeforeValidator(_plain_digits)]
"""An id in the path: plain ASCII digits, else 422."""

OptionalBool = Annotated[bool | None, BeforeValidator(_blank_to_none), Query()]
OptionalId = Annotated[
    int | None, BeforeValidator(_plain_digits), BeforeValidator(_blank_to_none), Query()
]


class PageQuery(BaseModel):
    """The list routes' shared query parameters: `limit`, `offset` and `search`.

    A query parameter model rather than a dependency taking the three parameters: FastAPI
    validates it with the route's own parameters, without resolving one more dependency per
    request. Routes take it last, keyword-only (`*, page: PageDep`), so that the OpenAPI
    document lists their own parameters first, as it did for the dependency's.
    """

    limit: int = Field(
        DEFAULT_PAGE_LIMIT, ge=1, le=MAX_PAGE_LIMIT, description="Page size (1 to 500)"
    )
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip")
    search: str | None = Field(
        None, max_length=1000, pattern=r"^[^\x00]*$", description="Case-insensitive substring"
    )

    def request(self) -> PageRequest:
        return PageRequest(limit=self.limit, offset=self.offset, search=self.search)


PageDep = Annotated[PageQuery, Query()]
