"""A tiny FastAPI app with the benchmark workload's endpoints, written the usual way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException, Query, status
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from recipe_app import security
from recipe_app.db import get_session
from recipe_app.models import Context, User

app = FastAPI(title="recipe")
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token")

SessionDep = Annotated[AsyncSession, Depends(get_session)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class LoginIn(BaseModel):
    username: str
    password: str


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class ContextCreate(BaseModel):
    name: Name
    description: str = Field(default="", max_length=10_000)
    data: dict[str, Any] = Field(default_factory=dict)
    is_active: bool = True


class ContextPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_id: int
    name: str
    description: str
    data: dict[str, Any]
    is_active: bool
    created_at: datetime
    updated_at: datetime


class ContextsPublic(BaseModel):
    items: list[ContextPublic]
    total: int
    limit: int
    offset: int


class ContextBulkCreate(BaseModel):
    items: list[ContextCreate] = Field(min_length=1, max_length=1000)


class ContextsBulkPublic(BaseModel):
    items: list[ContextPublic]


async def get_current_user(
    session: SessionDep, token: Annotated[str, Depends(oauth2_scheme)]
) -> User:
    unauthorized = HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "Could not validate credentials",
        headers={"WWW-Authenticate": "Bearer"},
    )
    try:
        user_id = int(security.decode_access_token(token)["sub"])  # type: ignore[arg-type]
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise unauthorized from exc
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise unauthorized
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


@app.post("/api/auth/login", response_model=Token)
async def login(body: LoginIn, session: SessionDep) -> Token:
    user = await session.scalar(select(User).where(User.username == body.username))
    if (
        user is None
        or not user.is_active
        or not security.verify_password(body.password, user.password)
    ):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Incorrect username or password")
    user.last_login = datetime.now(UTC)
    await session.commit()
    return Token(
        access_token=security.create_access_token(str(user.id)),
        expires_in=security.ACCESS_TOKEN_EXPIRE_MINUTES * 60,
    )


@app.get("/api/contexts", response_model=ContextsPublic)
async def list_contexts(
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    search: str | None = None,
) -> ContextsPublic:
    query = select(Context).where(Context.owner_id == user.id)
    if search:
        query = query.where(Context.name.icontains(search))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Context.id).limit(limit).offset(offset))
    return ContextsPublic(
        items=[ContextPublic.model_validate(c) for c in rows],
        total=total or 0,
        limit=limit,
        offset=offset,
    )


@app.post("/api/contexts", response_model=ContextPublic, status_code=201)
async def create_context(body: ContextCreate, session: SessionDep, user: CurrentUser) -> Context:
    context = Context(owner_id=user.id, **body.model_dump())
    session.add(context)
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise HTTPException(
            status.HTTP_409_CONFLICT, "A context with this name already exists"
        ) from exc
    return context


@app.post("/api/contexts/bulk", response_model=ContextsBulkPublic, status_code=201)
async def bulk_create_contexts(
    body: ContextBulkCreate, session: SessionDep, user: CurrentUser
) -> ContextsBulkPublic:
    names = [item.name for item in body.items]
    existing = set(
        await session.scalars(
            select(Context.name).where(Context.owner_id == user.id, Context.name.in_(names))
        )
    )
    dupes = sorted({i for i, n in enumerate(names) if n in existing or names.index(n) != i})
    if dupes:
        raise HTTPException(
            status.HTTP_409_CONFLICT, {"msg": "Duplicate context names", "indexes": dupes}
        )
    contexts = [Context(owner_id=user.id, **item.model_dump()) for item in body.items]
    session.add_all(contexts)
    await session.commit()
    return ContextsBulkPublic(items=[ContextPublic.model_validate(c) for c in contexts])
