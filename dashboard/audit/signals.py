"""Model signals that write the audit trail, so every path (pages, Django admin, the command
line) is recorded the same way. Only configuration fields are compared; secrets never are:
a new secret shows as ``secret: replaced``, detected from ``secret_set_at``, which only
``Credential.set_secret`` changes (key rotation re-encrypts without touching it)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from dashboard.audit.context import current_actor
from dashboard.audit.models import AuditEvent

CONNECTOR_FIELDS = ("name", "vendor", "base_url", "interval_minutes", "enabled", "allow_shared_writes", "options")
CREDENTIAL_FIELDS = ("connector_id", "owner_id", "label", "is_shared", "share_with_everyone", "secret_set_at")
SECRET_MARKER = "secret_set_at"  # noqa: S105 - a field name; compared, never shown: recorded as "secret: replaced"
_OLD = "_okrhub_audit_old"
_OLD_GROUPS = "_okrhub_audit_old_groups"


def record(
    area: str, action: str, *, target_id: Any = "", target_label: str = "", summary: str = "", changes: dict[str, Any] | None = None
) -> AuditEvent:
    actor = current_actor()
    user = actor.user if getattr(actor.user, "pk", None) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=actor.name[:150],
        source=actor.source,
        area=area,
        action=action,
        target_id=str(target_id)[:64],
        target_label=target_label[:300],
        summary=summary[:500],
        changes=changes or {},
    )


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    return str(value)


def _values(model: type[Model], pk: Any, fields: tuple[str, ...]) -> dict[str, Any] | None:
    return model._default_manager.filter(pk=pk).values(*fields).first()  # type: ignore[no-any-return]


def _remember_old(fields: tuple[str, ...]) -> Any:
    def handler(sender: type[Model], instance: Model, raw: bool = False, update_fields: Any = None, **_: Any) -> None:
        instance.__dict__.pop(_OLD, None)  # never compare against an earlier save's snapshot
        if raw or instance.pk is None or instance._state.adding:
            return
        names = {f.removesuffix("_id") for f in fields} | set(fields)
        if update_fields is not None and not names & set(update_fields):
            return  # e.g. a sync recording its status: nothing audited changes
        setattr(instance, _OLD, _values(sender, instance.pk, fields))

    return handler


def _diff(old: dict[str, Any] | None, instance: Model, fields: tuple[str, ...]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field in fields:
        new = getattr(instance, field)
        before = None if old is None else old.get(field)
        if old is not None and before == new:
            continue
        if old is None and new in (None, "", {}, [], False):
            continue  # a new row: list only what was set
        if field == SECRET_MARKER:
            changes["secret"] = ["…", "replaced" if before is not None else "set"]
        else:
            changes[field.removesuffix("_id")] = [_plain(before), _plain(new)]
    return changes


def _connector_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **_: Any) -> None:
    if raw:
        return
    old = None if created else instance.__dict__.pop(_OLD, None)
    if not created and old is None:
        return
    changes = _diff(old, instance, CONNECTOR_FIELDS)
    if not created and not changes:
        return
    action = "connector.created" if created else "connector.changed"
    summary = f"{instance.vendor} connector at {instance.base_url}" if created else "changed " + ", ".join(changes)
    record(AuditEvent.Area.CONNECTOR, action, target_id=instance.pk, target_label=instance.name, summary=summary, changes=changes)


def _connector_deleted(sender: Any, instance: Any, **_: Any) -> None:
    record(
        AuditEvent.Area.CONNECTOR,
        "connector.deleted",
        target_id=instance.pk,
        target_label=instance.name,
        summary=f"{instance.vendor} connector",
    )


def _credential_label(credential: Any) -> str:
    who = (
        f"shared “{credential.label or credential.account_name or credential.pk}”" if credential.is_shared else str(credential.owner or "")
    )
    try:
        connector = credential.connector.name
    except Exception:  # the connector is being deleted with it
        connector = f"connector {credential.connector_id}"
    return f"{connector} / {who}"


def _named_users(changes: dict[str, Any]) -> dict[str, Any]:
    if "owner" in changes:
        names = dict(get_user_model()._default_manager.filter(pk__in=[v for v in changes["owner"] if v]).values_list("pk", "username"))
        changes["owner"] = [names.get(v, v) for v in changes["owner"]]
    return changes


def _credential_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **_: Any) -> None:
    if raw:
        return
    old = None if created else instance.__dict__.pop(_OLD, None)
    if not created and old is None:
        return
    changes = _named_users(_diff(old, instance, CREDENTIAL_FIELDS))
    if created:
        changes.pop("connector", None)  # the label names it
    if not created and not changes:
        return
    if created:
        action, summary = "credential.added", "shared credential added" if instance.is_shared else "credential added"
    elif changes == {"secret": ["…", "replaced"]}:
        action, summary = "credential.secret_replaced", "secret replaced"
    else:
        action, summary = "credential.changed", "changed " + ", ".join(changes)
    record(
        AuditEvent.Area.CREDENTIAL,
        action,
        target_id=instance.pk,
        target_label=_credential_label(instance),
        summary=summary,
        changes=changes,
    )


def _credential_deleted(sender: Any, instance: Any, **_: Any) -> None:
    record(
        AuditEvent.Area.CREDENTIAL,
        "credential.removed",
        target_id=instance.pk,
        target_label=_credential_label(instance),
        summary="credential removed",
    )


def _grants_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **_: Any) -> None:
    if reverse:
        return  # group.shared_credentials.add(...): not a path the product uses
    if action in ("pre_add", "pre_remove", "pre_clear"):
        setattr(instance, _OLD_GROUPS, sorted(instance.groups.values_list("name", flat=True)))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    before = getattr(instance, _OLD_GROUPS, [])
    after = sorted(instance.groups.values_list("name", flat=True))
    if before == after:
        return
    added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    parts = ([f"granted to {', '.join(added)}"] if added else []) + ([f"revoked from {', '.join(removed)}"] if removed else [])
    record(
        AuditEvent.Area.GRANT,
        "grant.changed",
        target_id=instance.pk,
        target_label=_credential_label(instance),
        summary="; ".join(parts),
        changes={"groups": [before, after]},
    )


def _writeback_recorded(sender: Any, instance: Any, created: bool, raw: bool = False, **_: Any) -> None:
    if raw or not created:
        return
    what = " ".join(p for p in (instance.item_kind, instance.item_external_id) if p)
    record(
        AuditEvent.Area.WRITEBACK,
        f"writeback.{instance.operation}"[:40],
        target_id=instance.pk,
        target_label=f"{instance.connector_name}: {instance.item_title or what}",
        summary=f"{instance.get_outcome_display()}: {instance.operation} on {what}",
        changes={"sent": instance.sent} if instance.sent else {},
    )


def _alignment_label(alignment: Any) -> str:
    try:
        parent = alignment.parent_goal.title if alignment.parent_goal_id else alignment.parent_team.name
        return f"{alignment.child_goal.title} → {parent}"
    except Exception:  # an end is being deleted with it
        return f"goal {alignment.child_goal_id} → {'goal' if alignment.parent_goal_id else 'team'} {alignment.parent_goal_id or alignment.parent_team_id}"


def _alignment_saved(sender: Any, instance: Any, created: bool, raw: bool = False, **_: Any) -> None:
    if raw or not created:
        return
    how = "accepted suggestion" if getattr(instance, "source", "") == "suggestion" else "aligned by hand"
    record(AuditEvent.Area.ALIGNMENT, "alignment.created", target_id=instance.pk, target_label=_alignment_label(instance), summary=how)


def _alignment_deleting(sender: Any, instance: Any, **_: Any) -> None:
    # Before anything of a cascade is deleted: both ends can still be read.
    instance.__dict__[_OLD] = _alignment_label(instance)


def _alignment_deleted(sender: Any, instance: Any, **_: Any) -> None:
    record(
        AuditEvent.Area.ALIGNMENT,
        "alignment.removed",
        target_id=instance.pk,
        target_label=instance.__dict__.pop(_OLD, None) or _alignment_label(instance),
        summary="link removed",
    )


def connect() -> None:
    from dashboard.integrations.models import Connector, Credential
    from dashboard.writeback.models import AuditLog

    pre_save.connect(_remember_old(CONNECTOR_FIELDS), sender=Connector, weak=False, dispatch_uid="audit-connector-old")
    post_save.connect(_connector_saved, sender=Connector, dispatch_uid="audit-connector-saved")
    post_delete.connect(_connector_deleted, sender=Connector, dispatch_uid="audit-connector-deleted")
    pre_save.connect(_remember_old(CREDENTIAL_FIELDS), sender=Credential, weak=False, dispatch_uid="audit-credential-old")
    post_save.connect(_credential_saved, sender=Credential, dispatch_uid="audit-credential-saved")
    post_delete.connect(_credential_deleted, sender=Credential, dispatch_uid="audit-credential-deleted")
    m2m_changed.connect(_grants_changed, sender=Credential.groups.through, dispatch_uid="audit-grants")
    post_save.connect(_writeback_recorded, sender=AuditLog, dispatch_uid="audit-writeback")
    if apps.is_installed("dashboard.alignment"):
        alignment = apps.get_model("alignment", "Alignment")
        post_save.connect(_alignment_saved, sender=alignment, dispatch_uid="audit-alignment-saved")
        pre_delete.connect(_alignment_deleting, sender=alignment, dispatch_uid="audit-alignment-deleting")
        post_delete.connect(_alignment_deleted, sender=alignment, dispatch_uid="audit-alignment-deleted")
