from __future__ import annotations

from django.conf import settings
from django.db import models


class Context(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contexts"
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "context"
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="uq_context_owner_name")
        ]

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.pk,
            "owner_id": self.owner_id,
            "name": self.name,
            "description": self.description,
            "data": self.data,
            "is_active": self.is_active,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }
