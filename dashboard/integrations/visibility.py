"""Who may see which credentials' data: the one rule (issue #19).

A user sees what their own credentials returned, and what shared credentials granted to them
returned: a share with everyone, or with one of their groups. Selectors (okrs, people), the
connections page and write access all ask here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from dashboard.integrations.models import Credential


def _granted(user: Any) -> Q:
    """Shared credentials granted to ``user``: to everyone, or to one of their groups."""
    return Q(is_shared=True, share_with_everyone=True) | Q(is_shared=True, groups__in=user.groups.values("id"))


def visible_credentials(user: Any) -> QuerySet[Credential]:
    """Credentials whose data ``user`` may see: their own, and shared ones granted to them.

    Without ``distinct()`` (a subquery of ids stays cheap): the groups join can repeat a row.
    """
    if isinstance(user, AnonymousUser):
        return Credential.objects.none()
    return Credential.objects.filter(connector__enabled=True).filter(Q(owner=user) | _granted(user))


def shared_credentials_for(user: Any) -> QuerySet[Credential]:
    """The shared credentials granted to ``user`` (of enabled and disabled connectors), each once."""
    if isinstance(user, AnonymousUser):
        return Credential.objects.none()
    return Credential.objects.filter(_granted(user)).distinct()
