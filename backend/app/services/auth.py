"""Authentication: checking a username and password, and upgrading old password hashes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import burn_password_check, off_the_loop, verify_password
from app.models import User
from app.models.base import utcnow
from app.schemas.user import normalise_username
from app.services.users import get_user_by_username


async def authenticate(*, session: AsyncSession, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (unknown, wrong password or inactive).

    Every failure costs one password verification, so timing does not tell them apart. On
    success `last_login` is set and a hash in an outdated scheme (Django PBKDF2, older Argon2
    costs) is replaced by a current one.
    """
    user = await get_user_by_username(session=session, username=normalise_username(username))
    if user is None:
        await off_the_loop(burn_password_check, password)
        return None
    matches, new_hash = await off_the_loop(verify_password, password, user.password)
    if not matches or not user.is_active:
        return None
    if new_hash is not None:
        user.password = new_hash
    user.last_login = utcnow()
    await session.flush()
    return user
