"""Read-side queries: visibility, flags and roll-ups, all in SQL.

The visibility rule (issue #2): a user sees an item only when one of their own credentials, or
a shared credential granted to them, returned it in its latest complete sync (``seen_by``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from connectors.base import Health, State
from dashboard.integrations.models import Credential
from dashboard.okrs.models import CheckIn, Goal, KeyResult, Person, Team, WorkItem

M = TypeVar("M", bound=models.Model)
UserLike = AbstractBaseUser | AnonymousUser


def visible_credentials(user: UserLike) -> QuerySet[Credential]:
    """Credentials whose data ``user`` may see: their own, and shared ones granted to them."""
    if not user.is_authenticated:
        return Credential.objects.none()
    group_ids = user.groups.values("id")  # type: ignore[union-attr]
    return Credential.objects.filter(connector__enabled=True).filter(
        Q(owner=user) | Q(is_shared=True, share_with_everyone=True) | Q(is_shared=True, groups__in=group_ids)
    )


def visible_credential_ids(user: UserLike) -> list[int]:
    """Evaluated once per request; the id list keeps later queries simple and index-friendly."""
    cache_attr = "_okrhub_visible_credential_ids"
    cached = getattr(user, cache_attr, None)
    if cached is not None:
        return list(cached)
    ids = sorted(set(visible_credentials(user).values_list("id", flat=True)))
    try:
        setattr(user, cache_attr, tuple(ids))
    except AttributeError:  # pragma: no cover
        pass
    return ids


def _visible(model: type[M], credential_ids: list[int]) -> QuerySet[M]:
    through = model.seen_by.through  # type: ignore[attr-defined]
    fk = f"{model._meta.model_name}_id"
    seen = through.objects.filter(**{fk: OuterRef("pk"), "credential_id__in": credential_ids})
    return model.objects.filter(Exists(seen))  # type: ignore[attr-defined, no-any-return]


def visible_teams(user: UserLike) -> QuerySet[Team]:
    return _visible(Team, visible_credential_ids(user))


def visible_people(user: UserLike) -> QuerySet[Person]:
    return _visible(Person, visible_credential_ids(user))


def visible_goals(user: UserLike) -> QuerySet[Goal]:
    return with_goal_flags(_visible(Goal, visible_credential_ids(user)))


def visible_key_results(user: UserLike) -> QuerySet[KeyResult]:
    return _visible(KeyResult, visible_credential_ids(user))


def visible_work_items(user: UserLike) -> QuerySet[WorkItem]:
    return with_work_item_flags(_visible(WorkItem, visible_credential_ids(user)))


def visible_check_ins(user: UserLike) -> QuerySet[CheckIn]:
    ids = visible_credential_ids(user)
    return CheckIn.objects.filter(
        Q(goal__in=_visible(Goal, ids)) | Q(key_result__in=_visible(KeyResult, ids)) | Q(work_item__in=_visible(WorkItem, ids))
    )


# -- flags computed in SQL ----------------------------------------------------------------------

def stale_q(now: datetime | None = None) -> Q:
    return Q(stale_at__isnull=False, stale_at__lte=now or timezone.now())


def overdue_q(today: date | None = None) -> Q:
    return Q(due_date__lt=today or timezone.localdate()) & ~Q(state__in=[State.DONE, State.ARCHIVED])


def with_goal_flags(qs: QuerySet[Goal]) -> QuerySet[Goal]:
    return qs.annotate(
        is_stale=models.ExpressionWrapper(stale_q(), output_field=models.BooleanField()),
        is_overdue=models.ExpressionWrapper(overdue_q(), output_field=models.BooleanField()),
    )


def with_work_item_flags(qs: QuerySet[WorkItem]) -> QuerySet[WorkItem]:
    return qs.annotate(is_overdue=models.ExpressionWrapper(overdue_q(), output_field=models.BooleanField()))


# -- roll-ups --------------------------------------------------------------------------------

HEALTH_KEYS = [h.value for h in Health]


def health_counts(goals: QuerySet[Goal]) -> dict[str, int]:
    """Counts per health plus ``goals`` (total), in one query."""
    agg: dict[str, Any] = goals.aggregate(
        goals=Count("id"), **{h: Count("id", filter=Q(health=h)) for h in HEALTH_KEYS}
    )
    return {k: int(v or 0) for k, v in agg.items()}
