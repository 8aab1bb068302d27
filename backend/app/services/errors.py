"""Domain errors raised by services; the API turns them into HTTP errors."""

from __future__ import annotations

from collections.abc import Sequence


class ServiceError(Exception):
    """Base of domain errors: a message plus, for bulk work, the failing items."""

    def __init__(
        self,
        message: str,
        *,
        indexes: Sequence[int] | None = None,
        ids: Sequence[int] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.indexes = list(indexes) if indexes is not None else None
        self.ids = list(ids) if ids is not None else None


class NotFound(ServiceError):
    """The object does not exist, or is not visible to the caller."""

    @classmethod
    def for_items(
        cls, kind: str, ids: Sequence[int], missing_indexes: Sequence[int], outcome: str
    ) -> NotFound:
        """The batch items at `missing_indexes` name no visible `kind`; ids listed once each."""
        missing_ids = list(dict.fromkeys(ids[index] for index in missing_indexes))
        return cls(
            f"{kind} not found: ids {describe_ids(missing_ids)}"
            f" ({describe_items(missing_indexes)}); {outcome}",
            indexes=missing_indexes,
            ids=missing_ids,
        )


class Conflict(ServiceError):
    """The change would break a uniqueness rule or another invariant."""


class Forbidden(ServiceError):
    """The caller is authenticated but may not do this."""


class InvalidItems(ServiceError):
    """Items of a batch are invalid together (e.g. one id twice); `errors` are pydantic-style."""

    def __init__(self, message: str, *, errors: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.errors = errors


def describe_items(indexes: Sequence[int]) -> str:
    label = "item" if len(indexes) == 1 else "items"
    return f"{label} {', '.join(str(index) for index in indexes)}"


def describe_ids(ids: Sequence[int]) -> str:
    return ", ".join(str(id_) for id_ in ids)
