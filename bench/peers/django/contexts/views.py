"""JSON views: login returning a JWT, owner-scoped list/create, bulk create with bulk_create."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from contexts.models import Context

User = get_user_model()
MAX_BATCH = 1000


class ApiError(Exception):
    def __init__(self, status: int, detail: Any) -> None:
        self.status = status
        self.detail = detail


def _error(exc: ApiError) -> JsonResponse:
    return JsonResponse({"detail": exc.detail}, status=exc.status)


def _body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError as exc:
        raise ApiError(422, "Malformed JSON body") from exc


def _current_user(request: HttpRequest) -> Any:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "Not authenticated")
    try:
        claims = jwt.decode(
            token, settings.SECRET_KEY, algorithms=["HS256"], options={"require": ["exp", "sub"]}
        )
        user = User.objects.get(pk=int(claims["sub"]), is_active=True)
    except (jwt.InvalidTokenError, ValueError, User.DoesNotExist) as exc:
        raise ApiError(401, "Could not validate credentials") from exc
    return user


def _clean_context(item: Any, loc: list[Any]) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ApiError(422, [{"loc": loc, "msg": "Input should be an object"}])
    name = item.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        raise ApiError(422, [{"loc": [*loc, "name"], "msg": "1 to 100 characters"}])
    description = item.get("description", "")
    if not isinstance(description, str) or len(description) > 10_000:
        raise ApiError(422, [{"loc": [*loc, "description"], "msg": "up to 10000 characters"}])
    data = item.get("data", {})
    if not isinstance(data, dict):
        raise ApiError(422, [{"loc": [*loc, "data"], "msg": "Input should be an object"}])
    is_active = item.get("is_active", True)
    if not isinstance(is_active, bool):
        raise ApiError(422, [{"loc": [*loc, "is_active"], "msg": "Input should be a boolean"}])
    return {"name": name.strip(), "description": description, "data": data, "is_active": is_active}


@csrf_exempt
@require_POST
def login(request: HttpRequest) -> JsonResponse:
    try:
        body = _body(request)
        if not isinstance(body, dict):
            raise ApiError(422, "Expected an object with username and password")
        user = authenticate(request, username=body.get("username"), password=body.get("password"))
        if user is None:
            raise ApiError(401, "Incorrect username or password")
    except ApiError as exc:
        return _error(exc)
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    expires_in = settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60
    token = jwt.encode(
        {"sub": str(user.pk), "exp": datetime.now(UTC) + timedelta(seconds=expires_in)},
        settings.SECRET_KEY,
        algorithm="HS256",
    )
    return JsonResponse({"access_token": token, "token_type": "bearer", "expires_in": expires_in})


def _int_param(request: HttpRequest, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(
            422, [{"loc": ["query", name], "msg": "Input should be an integer"}]
        ) from exc
    if not lo <= value <= hi:
        raise ApiError(422, [{"loc": ["query", name], "msg": f"between {lo} and {hi}"}])
    return value


@csrf_exempt
@require_http_methods(["GET", "POST"])
def contexts(request: HttpRequest) -> JsonResponse:
    try:
        user = _current_user(request)
        if request.method == "POST":
            fields = _clean_context(_body(request), ["body"])
            try:
                with transaction.atomic():
                    context = Context.objects.create(owner=user, **fields)
            except IntegrityError as exc:
                raise ApiError(409, "A context with this name already exists") from exc
            return JsonResponse(context.to_json(), status=201)
        limit = _int_param(request, "limit", 50, 1, 500)
        offset = _int_param(request, "offset", 0, 0, 2**31)
        qs = Context.objects.filter(owner=user)
        if search := request.GET.get("search"):
            qs = qs.filter(name__icontains=search)
        total = qs.count()
        items = [c.to_json() for c in qs.order_by("id")[offset : offset + limit]]
        return JsonResponse({"items": items, "total": total, "limit": limit, "offset": offset})
    except ApiError as exc:
        return _error(exc)


@csrf_exempt
@require_POST
def contexts_bulk(request: HttpRequest) -> JsonResponse:
    try:
        user = _current_user(request)
        body = _body(request)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
            raise ApiError(422, [{"loc": ["body", "items"], "msg": f"1 to {MAX_BATCH} items"}])
        cleaned = [_clean_context(item, ["body", "items", i]) for i, item in enumerate(items)]
        names = [c["name"] for c in cleaned]
        seen: dict[str, int] = {}
        dupes = [i for i, name in enumerate(names) if seen.setdefault(name, i) != i]
        existing = set(
            Context.objects.filter(owner=user, name__in=names).values_list("name", flat=True)
        )
        dupes += [i for i, name in enumerate(names) if name in existing]
        if dupes:
            raise ApiError(409, {"msg": "Duplicate context names", "indexes": sorted(set(dupes))})
        with transaction.atomic():
            created = Context.objects.bulk_create([Context(owner=user, **c) for c in cleaned])
        return JsonResponse({"items": [c.to_json() for c in created]}, status=201)
    except ApiError as exc:
        return _error(exc)
