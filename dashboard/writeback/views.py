"""Write-back pages (issue #10): actions (create, edit, delete), goal and project check-ins,
target values, task status, team memberships, and the audit log for admins. Which vendor offers
which page follows the connectors' declared write operations (issue #19). Each view finds the item among what the user may
see (404 otherwise), describes its form as a ``WritePage`` and lets ``flow`` run it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from connectors.base import ConnectorError, WorkItemKind
from connectors.registry import VENDOR_CHOICES
from dashboard.accounts.roles import admin_required
from dashboard.core.http import AppRequest, wants_region
from dashboard.core.logging import scrub_text
from dashboard.integrations.models import Connector
from dashboard.okrs import selectors
from dashboard.okrs.views_common import render_region
from dashboard.writeback import operations as ops
from dashboard.writeback import services as writes
from dashboard.writeback.flow import REGION, WritePage, handle, render_page
from dashboard.writeback.forms import (
    ActionCreateForm,
    ActionForm,
    GoalCheckInForm,
    MembershipForm,
    ProjectCheckInForm,
    TargetValueForm,
    TaskStatusForm,
    declared,
    vendors_offering,
)
from dashboard.writeback.models import AuditLog

ACTION_LABELS = {
    "title": "Title",
    "description": "Description",
    "progress": "Progress",
    "status": "Status",
    "traffic_light": "Traffic light",
    "due_date": "Due date",
}
GET_POST = require_http_methods(["GET", "POST"])


def _cd(form: forms.Form, name: str, default: Any = None) -> Any:
    return getattr(form, "cleaned_data", {}).get(name, default)


# -- actions -----------------------------------------------------------------------------------


def _action(request: AppRequest, pk: int) -> Any:
    items = selectors.visible_work_items(request.user).filter(vendor__in=vendors_offering("update_action"), kind=WorkItemKind.ACTION)
    return get_object_or_404(items.select_related("connector"), pk=pk)


def _action_values(form: forms.Form) -> dict[str, Any]:
    return {name: _cd(form, name, "" if name != "progress" else None) for name in ops.ACTION_FIELDS}


def item_page(request: AppRequest, item: Any, kind: str, **fields: Any) -> WritePage:
    """The :class:`WritePage` of a change to one stored item: write access through the item's
    connector, the stored row as the local copy, and a fresh read of it at the vendor."""
    return WritePage(
        access=writes.write_access(request.user, item.connector),
        local=item,
        fetch=lambda connector: connector.fetch_item(kind, item.external_id),
        **fields,
    )


@GET_POST
def action_edit(request: AppRequest, pk: int) -> HttpResponse:
    item = _action(request, pk)

    def make_form(data: Any, record: Any, initial: Any) -> forms.Form:
        light = ops.action_light(record.raw)
        if data is not None:  # keep what the user chose valid even if it is a vendor-only spelling
            light = data.get("traffic_light") or light
        status = (initial or {}).get("status") or record.vendor_status or ""
        return ActionForm(data, initial=initial, current_status=status, current_light=light)

    page = item_page(
        request,
        item,
        "work_item",
        template="writes/action_form.html",
        snapshot=ops.action_snapshot,
        make_form=make_form,
        spec=lambda form: ops.update_action_spec(item, _action_values(form)),
        labels=ACTION_LABELS,
        context={"item": item, "mode": "edit"},
        unchanged=lambda form, base: not ops.changed_action_fields(_action_values(form), base),
    )
    return handle(request, page)


@GET_POST
def action_new(request: AppRequest) -> HttpResponse:
    connectors = Connector.objects.filter(
        vendor__in=vendors_offering("create_action"), enabled=True, credentials__in=selectors.visible_credential_ids(request.user)
    )
    connectors = connectors.distinct().order_by("name")
    chosen = request.GET.get("connector") or request.POST.get("connector")
    connector = next((c for c in connectors if str(c.pk) == chosen), None) if chosen else connectors.first()
    if connector is None:
        raise Http404("No connection to create actions in.")
    canvases = list(selectors.visible_teams(request.user).filter(connector=connector).order_by("name").values_list("id", "name"))
    canvas_choices = [(str(pk), name) for pk, name in canvases]

    def spec(form: forms.Form) -> writes.WriteSpec:
        canvas = selectors.visible_teams(request.user).filter(connector=connector, pk=_cd(form, "canvas") or 0).first()
        if canvas is None:
            canvas = selectors.visible_teams(request.user).filter(connector=connector).first()
        if canvas is None:
            raise Http404("No canvas to create the action on.")
        return ops.create_action_spec(canvas, _action_values(form))

    page = WritePage(
        template="writes/action_form.html",
        access=writes.write_access(request.user, connector),
        local=None,
        snapshot=lambda _record: {"status": "todo"},
        fetch=None,
        make_form=lambda data, _record, initial: ActionCreateForm(data, initial=initial, canvases=canvas_choices),
        spec=spec,
        context={"mode": "new", "connector": connector, "connectors": connectors},
        success_url="/actions/",
        done_template="writes/action_created.html",
    )
    return handle(request, page)


@GET_POST
def action_delete(request: AppRequest, pk: int) -> HttpResponse:
    item = _action(request, pk)
    page = item_page(
        request,
        item,
        "work_item",
        template="writes/action_delete.html",
        snapshot=ops.action_snapshot,
        make_form=lambda data, _record, initial: forms.Form(data, initial=initial),
        spec=lambda _form: ops.delete_action_spec(item),
        labels=ACTION_LABELS,
        context={"item": item},
        success_url="/actions/",
        done_template="writes/action_deleted.html",
    )
    return handle(request, page)


# -- check-ins, targets, tasks--------------------------------------------------------------------------------


@GET_POST
def goal_check_in(request: AppRequest, pk: int) -> HttpResponse:
    goal = get_object_or_404(
        selectors.visible_goals(request.user).filter(vendor__in=vendors_offering("goal_check_in")).select_related("connector"), pk=pk
    )

    def make_form(data: Any, record: Any, initial: Any) -> forms.Form:
        targets = ops.goal_targets(record.raw)
        start = {f"target_{t['id']}": t.get("value") for t in targets}
        status = (initial or {}).get("status")
        start["status"] = {"caution": "caution", "off_track": "off_track"}.get(status or "", "on_track")
        return GoalCheckInForm(data, initial=start, targets=targets)

    def spec(form: forms.Form) -> writes.WriteSpec:
        values = form.new_target_values() if isinstance(form, GoalCheckInForm) and form.is_valid() else {}
        return ops.goal_check_in_spec(goal, _cd(form, "status", ""), _cd(form, "message", ""), values)

    targets = ops.goal_targets(goal.raw)
    labels = {"status": "Status", "last_check_in": "Last check-in", **{f"targets.{t['id']}": t.get("name") or "Target" for t in targets}}
    page = item_page(
        request,
        goal,
        "goal",
        template="writes/goal_check_in.html",
        snapshot=ops.goal_snapshot,
        make_form=make_form,
        spec=spec,
        labels=labels,
        context={"goal": goal, "goal_url": f"/goals/{goal.pk}/"},
    )
    return handle(request, page)


@GET_POST
def project_check_in(request: AppRequest, pk: int) -> HttpResponse:
    items = selectors.visible_work_items(request.user).filter(vendor__in=vendors_offering("project_check_in"), kind=WorkItemKind.PROJECT)
    project = get_object_or_404(items.select_related("connector"), pk=pk)
    page = item_page(
        request,
        project,
        "project",
        template="writes/project_check_in.html",
        snapshot=ops.project_snapshot,
        make_form=lambda data, _record, initial: ProjectCheckInForm(data, initial={"status": "on_track"}),
        spec=lambda form: ops.project_check_in_spec(project, _cd(form, "status", ""), _cd(form, "message", "")),
        labels={"status": "Status", "health": "Health", "last_check_in": "Last check-in"},
        context={"project": project},
    )
    return handle(request, page)


@GET_POST
def key_result_value(request: AppRequest, pk: int) -> HttpResponse:
    items = (
        selectors.visible_key_results(request.user)
        .filter(vendor__in=vendors_offering("update_target_value"))
        .select_related("connector", "goal")
    )
    kr = get_object_or_404(items, pk=pk)
    page = item_page(
        request,
        kr,
        "key_result",
        template="writes/key_result_value.html",
        snapshot=ops.target_snapshot,
        make_form=lambda data, _record, initial: TargetValueForm(data, initial=initial),
        spec=lambda form: ops.target_value_spec(kr, _cd(form, "value", 0.0)),
        labels={"value": "Value"},
        context={"kr": kr},
        unchanged=lambda form, base: _cd(form, "value") == base.get("value"),
    )
    return handle(request, page)


@GET_POST
def task_status(request: AppRequest, pk: int) -> HttpResponse:
    items = selectors.visible_work_items(request.user).filter(vendor__in=vendors_offering("update_task_status"), kind=WorkItemKind.TASK)
    task = get_object_or_404(items.select_related("connector", "parent"), pk=pk)
    project_raw = task.parent.raw if task.parent and isinstance(task.parent.raw, dict) else None

    def make_form(data: Any, record: Any, initial: Any) -> forms.Form:
        choices = ops.task_status_choices(record.raw, project_raw) or ops.task_status_choices(task.raw, project_raw)
        current = (initial or {}).get("status") or record.vendor_status
        if current and current not in dict(choices):
            choices.append((current, current))
        return TaskStatusForm(data, initial={"status": current}, choices=choices)

    page = item_page(
        request,
        task,
        "task",
        template="writes/task_status.html",
        snapshot=ops.task_snapshot,
        make_form=make_form,
        spec=lambda form: ops.task_status_spec(task, _cd(form, "status", "")),
        labels={"status": "Status"},
        context={"task": task},
        unchanged=lambda form, base: _cd(form, "status") == base.get("status"),
    )
    return handle(request, page)


# -- team memberships ---------------------------------------------------------------------------


def _membership_team(request: AppRequest, pk: int) -> Any:
    return get_object_or_404(
        selectors.visible_teams(request.user).filter(vendor__in=vendors_offering("update_membership")).select_related("connector"), pk=pk
    )


def _members(access: writes.WriteAccess, team: Any) -> tuple[list[Any], str]:
    if not access.allowed or access.credential is None:
        return [], ""
    try:
        return writes.read_current(access.credential, lambda connector: ops.list_members(connector, team.external_id)), ""
    except ConnectorError as exc:
        return [], f"Could not read the members from {access.connector.get_vendor_display()} ({scrub_text(str(exc))})."


def _member_rows(members: list[Any], disabled: bool) -> list[dict[str, Any]]:
    rows = []
    for member in members:
        snap = ops.membership_snapshot([member], member.person.external_id)
        form = MembershipForm(
            initial={"user_id": member.person.external_id, "type": member.type}, auto_id=f"m{member.person.external_id}_%s"
        )
        if disabled:
            for f in form.fields.values():
                f.disabled = True
        rows.append({"member": member, "form": form, "version": writes.version_token(snap)})
    return rows


@GET_POST
def team_members(request: AppRequest, pk: int) -> HttpResponse:
    """The team's members with their membership type; each row changes one membership."""
    team = _membership_team(request, pk)
    access = writes.write_access(request.user, team.connector, scope=declared("update_membership").scope)
    context: dict[str, Any] = {"team": team, "access": access, "disabled": not access.allowed, "reason": access.reason}
    status = 200
    if request.method == "POST":
        user_id = request.POST.get("user_id", "")
        form = MembershipForm(request.POST)
        name = request.POST.get("name", "")[:200] or user_id
        form.is_valid()
        spec = ops.membership_type_spec(team, user_id, name, _cd(form, "type", ""))
        try:
            if access.allowed and not form.is_valid():
                # cast: an ErrorList yields its messages as str (its __getitem__ unwraps each ValidationError).
                errors = cast("dict[str, Sequence[str]]", dict(form.errors))
                raise writes.WriteFailed("Choose a membership type.", outcome="rejected", field_errors=errors)
            result = writes.perform(request.user, access, spec, version=request.POST.get("version", ""))
            context["success"] = f"{team.connector.get_vendor_display()} accepted the change: {result.summary}."
            if not wants_region(request):
                messages.success(request, context["success"])
                return HttpResponseRedirect(request.path)
        except writes.WriteConflict as conflict:
            context["conflict"] = {"user_id": user_id, "name": name, "theirs": conflict.theirs.get("type"), "mine": _cd(form, "type")}
            context["conflict_token"] = conflict.token
            status = 409
        except writes.WriteFailed as failure:
            messages_for_field = [m for msgs in failure.field_errors.values() for m in msgs]
            context["error"] = failure.message + (" " + " ".join(messages_for_field) if messages_for_field else "")
            context["error_user"] = user_id
            context["retryable"] = failure.retryable
            status = 503 if failure.retryable else 403 if failure.outcome == "refused" else 422
    members, notice = _members(access, team)
    context.update(rows=_member_rows(members, not access.allowed), notice=notice, is_root=ops.is_root_team(team))
    return render_region(request, "writes/team_members.html", context, REGION, status=200 if wants_region(request) else status)


@GET_POST
def member_remove(request: AppRequest, pk: int, user_id: str) -> HttpResponse:
    """Confirm, then remove one membership (the root team: from every team)."""
    team = _membership_team(request, pk)
    access = writes.write_access(request.user, team.connector, scope=declared("update_membership").scope)
    members, notice = _members(access, team)
    member = next((m for m in members if m.person.external_id == user_id), None)
    name = member.person.name if member else request.POST.get("name", "") or f"user {user_id}"
    page = WritePage(
        template="writes/member_remove.html",
        access=access,
        local={"type": member.type if member else None},
        snapshot=lambda record: dict(record) if isinstance(record, dict) else {"type": None},
        fetch=None,
        make_form=lambda data, _record, initial: forms.Form(data, initial=initial),
        spec=lambda _form: ops.membership_remove_spec(team, user_id, name),
        labels={"type": "Membership"},
        context={
            "team": team,
            "member": member,
            "name": name,
            "is_root": ops.is_root_team(team),
            "notice": notice,
            "user_id": user_id,
            "members_url": f"/teams/{team.pk}/members/",
        },
        success_url=f"/teams/{team.pk}/members/",
        done_template="writes/member_removed.html",
    )
    if request.method == "GET" and member is None and access.allowed and not notice:
        raise Http404("Not a member of this team.")
    return handle(request, page) if request.method == "POST" else render_page(request, page)


# -- audit log (admins only) ---------------------------------------------------------------------


@admin_required
def audit(request: AppRequest) -> HttpResponse:
    entries = AuditLog.objects.all()
    vendor = request.GET.get("vendor", "")
    outcome = request.GET.get("outcome", "")
    if vendor:
        entries = entries.filter(vendor=vendor)
    if outcome:
        entries = entries.filter(outcome=outcome)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    context = {"page": page, "vendor": vendor, "outcome": outcome, "outcomes": AuditLog.Outcome.choices, "vendors": VENDOR_CHOICES}
    return render(request, "writes/audit.html", context)
