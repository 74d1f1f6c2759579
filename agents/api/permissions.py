"""The API's permission classes: thin wrappers over ``agents.permissions``, which holds every
rule (the pages and the admin ask the same functions)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from .. import permissions


class SignedIn(BasePermission):
    """Every endpoint: a person with an account that may be used."""

    message = "Sign in, or send a personal access token: Authorization: Bearer <token>."

    def has_permission(self, request: Request, view: Any) -> bool:
        return permissions.is_signed_in(request.user)


class CanAuthor(BasePermission):
    """Creating agents and importing files: the author role."""

    message = "You may not create agents: that needs the author role."

    def has_permission(self, request: Request, view: Any) -> bool:
        return permissions.can_author(request.user)


class CanEdit(BasePermission):
    """Changing an agent's content: its owner or a maintainer (while an author), or an admin."""

    message = "You may not edit this agent."

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return permissions.can_edit(request.user, obj)
