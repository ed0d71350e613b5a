"""What a sync does once a stream has ended: fix forward links, rebuild the team tree, and
(after a complete read only) make ``seen_by`` match exactly what the credential returned.

Each step writes only rows that actually change, so a sync with nothing changed writes none.
"""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils.functional import Promise

from connectors.base import Kind
from dashboard.integrations.models import Connector, Credential
from dashboard.integrations.sync.store import KIND_MODELS, SPECS
from dashboard.okrs.models import Team


def rebuild_team_tree(connector: Connector) -> int:
    """Resolve team parents by external id and recompute the materialised paths ("/1/4/9/").

    Loads (pk, external id, parent) of the connector's teams only: an id map, not the org.
    Returns the number of teams written.
    """
    rows = list(
        Team.objects.filter(connector=connector).values_list("pk", "external_id", "parent_external_id", "parent_id", "path", "depth")
    )
    pk_of = {ext: pk for pk, ext, *_ in rows}
    parent_of: dict[int, int | None] = {}
    for pk, _ext, parent_ext, *_rest in rows:
        parent = pk_of.get(parent_ext) if parent_ext else None
        parent_of[pk] = parent if parent != pk else None

    paths: dict[int, tuple[str, int]] = {}

    def path_of(pk: int) -> tuple[str, int]:
        chain: list[int] = []
        on_chain: set[int] = set()
        node: int | None = pk
        while node is not None and node not in paths:
            if node in on_chain:  # a cycle at the vendor: cut it, the last team becomes a root
                parent_of[chain[-1]] = None
                node = None
                break
            on_chain.add(node)
            chain.append(node)
            node = parent_of.get(node)
        base, depth = paths[node] if node is not None else ("/", -1)
        for item in reversed(chain):
            base, depth = f"{base}{item}/", depth + 1
            paths[item] = (base, depth)
        return paths[pk]

    changed: list[Team] = []
    for pk, _ext, _parent_ext, parent_id, path, depth in rows:
        new_path, new_depth = path_of(pk)
        if parent_id != parent_of[pk] or path != new_path or depth != new_depth:
            changed.append(Team(pk=pk, parent_id=parent_of[pk], path=new_path, depth=new_depth))
    if changed:
        with transaction.atomic():
            Team.objects.bulk_update(changed, ["parent", "path", "depth"], batch_size=settings.SYNC_UPSERT_BATCH_SIZE)
    return len(changed)


def fix_forward_links(connector: Connector, kind: Kind) -> int:
    """Set same-stream parent links whose target appeared later in the stream (one UPDATE)."""
    if kind == Kind.TEAM:
        return rebuild_team_tree(connector)
    spec = SPECS[kind]
    written = 0
    for link in spec.links:
        if not link.same_stream:
            continue
        field = link.attname.removesuffix("_id")
        ext_field = f"{field}_external_id"
        model = spec.model
        target = KIND_MODELS[link.target].objects.filter(connector_id=connector.pk, external_id=OuterRef(ext_field)).order_by("pk")  # type: ignore[attr-defined]
        written += (
            model.objects.filter(connector_id=connector.pk, **{f"{field}__isnull": True})  # type: ignore[attr-defined]
            .exclude(**{ext_field: ""})
            .filter(Exists(target))
            .update(**{field: Subquery(target.values("pk")[:1])})
        )
    return written


HELD_BACK = "Removal held back"


class MassRemovalHeldBack(Exception):
    """A complete read that would remove (nearly) everything the credential saw at once."""

    def __init__(self, kind: str | Promise, kept: int, linked: int) -> None:
        self.kind, self.kept, self.linked = kind, kept, linked
        super().__init__(
            f"{HELD_BACK}: the vendor suddenly listed {kept} of the {linked} {kind} items this credential saw, "
            "so nothing was removed. If they were really deleted, the next sync that lists the same removes them."
        )


def reconcile_visibility(
    model: type[models.Model], connector: Connector, credential: Credential, seen: set[int], *, guard: bool = True
) -> int:
    """After a COMPLETE read: ``credential`` sees exactly ``seen`` among the connector's items.

    Removes the credential from items it no longer returned, then deletes those items that no
    credential sees any more. Atomic: a crash leaves either the old or the new visibility.
    Returns how many items this credential stopped seeing. With ``guard``, a read that would
    take away nearly everything at once (a vendor answering an empty list by fault) raises
    :class:`MassRemovalHeldBack` instead; the caller lifts the guard once a second read agrees.
    """
    through = model.seen_by.through  # type: ignore[attr-defined]
    fk = f"{model._meta.model_name}_id"
    linked = set(
        through.objects.filter(credential_id=credential.pk, **{f"{model._meta.model_name}__connector_id": connector.pk}).values_list(
            fk, flat=True
        )
    )
    gone = sorted(linked - seen)
    if not gone:
        return 0
    if guard and len(gone) >= settings.SYNC_MASS_REMOVAL_MIN_ITEMS and len(gone) >= settings.SYNC_MASS_REMOVAL_RATIO * len(linked):
        plural = cast("str | Promise", model._meta.verbose_name_plural)  # never None once the model class is prepared
        raise MassRemovalHeldBack(plural, len(linked) - len(gone), len(linked))
    with transaction.atomic():
        for start in range(0, len(gone), 1000):
            chunk = gone[start : start + 1000]
            through.objects.filter(credential_id=credential.pk, **{f"{fk}__in": chunk}).delete()
            still_seen = through.objects.filter(**{fk: OuterRef("pk")})
            model.objects.filter(pk__in=chunk).exclude(Exists(still_seen)).delete()  # type: ignore[attr-defined]
    return len(gone)
