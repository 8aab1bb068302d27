"""Login (JSON and OAuth2 form) and the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status

from app.api.deps import CurrentUser, LoginThrottleDep, SessionDep, client_address
from app.core.security import create_access_token
from app.core.throttle import LoginThrottle
from app.schemas.auth import LoginRequest, Token, TokenForm
from app.schemas.user import UserPublic, normalise_username
from app.services.auth import authenticate

router = APIRouter(prefix="/auth", tags=["auth"])

INCORRECT_CREDENTIALS = "Incorrect username or password"

_LOGIN_RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": INCORRECT_CREDENTIALS},
    429: {
        "description": "Too many failed attempts for this username from this address (or for "
        "this username from all addresses); see Retry-After"
    },
}


async def _login(
    *, session: SessionDep, throttle: LoginThrottle, address: str, username: str, password: str
) -> Token:
    # Usernames are stored NFKC-normalised: another spelling of the same name is the same user,
    # so it shares the same failure count. Case is kept: "Bob" and "bob" are different users.
    username = normalise_username(username)
    retry_after = throttle.retry_after(username, address)
    if retry_after is not None:
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"Too many failed login attempts; try again in {retry_after} seconds",
            headers={"Retry-After": str(retry_after)},
        )
    user = await authenticate(session=session, username=username, password=password)
    if user is None:
        throttle.record_failure(username, address)
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=INCORRECT_CREDENTIALS,
            headers={"WWW-Authenticate": "Bearer"},
        )
    throttle.record_success(username, address)
    token = create_access_token(user_id=user.id, password_hash=user.password)
    return Token(access_token=token.token, expires_in=token.expires_in)


@router.post("/login", responses=_LOGIN_RESPONSES)
async def login(
    body: LoginRequest, session: SessionDep, throttle: LoginThrottleDep, request: Request
) -> Token:
    """Exchange a username and password for a bearer token."""
    return await _login(
        session=session,
        throttle=throttle,
        address=client_address(request),
        username=body.username,
        password=body.password,
    )


@router.post("/token", responses=_LOGIN_RESPONSES)
async def token(
    form: Annotated[TokenForm, Form()],
    session: SessionDep,
    throttle: LoginThrottleDep,
    request: Request,
) -> Token:
    """The same as /login, as an OAuth2 password form (used by the docs' Authorize button)."""
    return await _login(
        session=session,
        throttle=throttle,
        address=client_address(request),
        username=form.username,
        password=form.password,
    )


@router.get("/me", responses={401: {"description": "Missing, invalid, expired or revoked token"}})
async def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
