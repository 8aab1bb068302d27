from __future__ import annotations

from contexts import views
from django.urls import path

urlpatterns = [
    path("api/auth/login", views.login),
    path("api/contexts", views.contexts),
    path("api/contexts/bulk", views.contexts_bulk),
]
