from __future__ import annotations

from django.urls import path

from contexts import views

urlpatterns = [
    path("api/auth/login", views.login),
    path("api/contexts", views.contexts),
    path("api/contexts/bulk", views.contexts_bulk),
]
