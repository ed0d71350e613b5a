"""Bench database contents: wipe, a signed-in user, a connector and credential per vendor."""

from __future__ import annotations

from typing import Any

BENCH_USER = "bench"
BENCH_PASSWORD = "bench-Password-4-load"


def wipe() -> None:
    """Empty every OKR Hub table the benchmarks fill (users stay), so each run starts clean."""
    from django.db import connection

    tables = [t for t in connection.introspection.table_names() if t.startswith(("okrs_", "integrations_", "people_"))]
    if tables:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables) + " RESTART IDENTITY CASCADE")


def bench_user() -> Any:
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username=BENCH_USER, defaults={"email": "bench@example.com"})
    user.is_staff = True  # an admin, so admin-only pages (alignment suggestions) are measured too; data visibility is unchanged
    user.set_password(BENCH_PASSWORD)
    user.save()
    return user


def connect(vendor: str, base_url: str, secret: dict[str, str], user: Any) -> Any:
    """A connector at ``base_url`` and a credential of ``user`` holding ``secret``."""
    from dashboard.integrations.models import Connector, Credential

    connector = Connector.objects.create(vendor=vendor, name=f"{vendor} (bench)", base_url=base_url)
    credential = Credential(connector=connector, owner=user, label=f"{vendor} bench")
    credential.set_secret(dict(secret))
    credential.save()
    return credential
