"""The sync service in-process against the fake vendor's sandbox over real HTTP + PostgreSQL."""
# ruff: noqa: F811 - pytest fixtures imported from fake_connector are redefined as arguments

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.integrations.models import Credential, StreamResult, SyncRun
from dashboard.integrations.sync import SyncRetry, create_runs, enqueue_sync, run_sync
from dashboard.integrations.sync.engine import retry_countdown
from dashboard.integrations.sync.enqueue import expire_stuck_runs
from dashboard.okrs.models import CheckIn, Goal, KeyResult, Person, ProgressSnapshot, Team, WorkItem
from tests.conftest import require
from tests.integrations.fake_connector import fake_sandbox, make_credential  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def okrs_rows_written() -> dict[str, tuple[int, int, int]]:
    """Rows inserted/updated/deleted per okrs table so far in this transaction (PostgreSQL)."""
    require(connection.vendor == "postgresql", "PostgreSQL (row counting uses pg_stat_xact_user_tables)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables WHERE relname LIKE 'okrs_%%'")
        return {name: (ins, upd, dele) for name, ins, upd, dele in cursor.fetchall()}


def sync(credential: Credential, **kwargs) -> SyncRun:
    (run,) = create_runs([credential], trigger="manual")
    assert run.status == "queued", run.error
    return run_sync(run.pk, **kwargs)


def results(run: SyncRun) -> dict[str, StreamResult]:
    return {r.stream: r for r in run.stream_results.all()}


def test_first_sync_stores_every_item_once_with_links_paths_snapshots_and_visibility(fake_sandbox, make_credential):
    sandbox, server = fake_sandbox(teams=3, goals_per_team=2, krs_per_goal=2)
    alice = make_credential(server)

    run = sync(alice)

    assert run.status == "succeeded", run.error
    assert (Team.objects.count(), Person.objects.count(), Goal.objects.count(), KeyResult.objects.count()) == (3, 3, 6, 12)
    assert (WorkItem.objects.count(), CheckIn.objects.count()) == (3, 6)
    root, child = Team.objects.get(external_id="t1"), Team.objects.get(external_id="t2")
    assert child.parent == root and root.path == f"/{root.pk}/" and child.path == f"/{root.pk}/{child.pk}/" and child.depth == 1
    goal = Goal.objects.get(external_id="g2-1")
    assert goal.team == child and goal.progress == 10.0 and goal.vendor == "fake"
    assert KeyResult.objects.get(external_id="k2-1-2").goal == goal
    assert list(WorkItem.objects.get(external_id="w2").teams.all()) == [child]
    assert CheckIn.objects.get(external_id="c-g2-1").goal == goal
    # stale_at: last check-in (2026-01-01 minus one day) + STALE_AFTER_DAYS, for an active goal
    assert goal.stale_at.isoformat().startswith("2026-01-10")
    # one snapshot per goal, key result and work item on first sight
    assert ProgressSnapshot.objects.count() == 6 + 12 + 3
    for model in (Team, Person, Goal, KeyResult, WorkItem):
        assert set(model.objects.values_list("seen_by", flat=True)) == {alice.pk}
    # per-stream counts and progress fields
    by_stream = results(run)
    assert by_stream["goals"].fetched == 6 and by_stream["goals"].created == 6 and by_stream["goals"].complete
    assert run.counts()["created"] == 3 + 3 + 6 + 12 + 3 + 6
    assert (run.streams_total, run.streams_done, run.items_done, run.current_stream) == (6, 6, 33, "")
    assert run.requests_made == sum(1 for _t, path, _s in sandbox.state.requests if path.startswith("/api/"))
    alice.refresh_from_db()
    assert alice.last_success_at is not None and alice.consecutive_failures == 0


def test_a_second_sync_with_nothing_changed_writes_no_rows(fake_sandbox, make_credential):
    _sandbox, server = fake_sandbox()
    alice = make_credential(server)
    sync(alice)

    before = okrs_rows_written()
    run = sync(alice)

    assert okrs_rows_written() == before  # not one row inserted, updated or deleted
    assert run.status == "succeeded"
    totals = run.counts()
    assert totals["created"] == totals["updated"] == totals["removed"] == 0 and totals["unchanged"] == totals["fetched"] == 33


def test_changes_at_the_vendor_update_snapshot_and_remove_only_what_vanished(fake_sandbox, make_credential):
    sandbox, server = fake_sandbox()
    alice = make_credential(server)
    sync(alice)
    state = sandbox.state
    state.goals["g1-1"]["progress"] = 55.0
    state.goals["g1-2"]["title"] = "Renamed"  # changes, but not progress/health: no snapshot
    del state.goals["g3-2"]
    for kid in [k for k, kr in state.key_results.items() if kr["goal"] == "g3-2"]:
        del state.key_results[kid]
    del state.check_ins["c-g3-2"]
    # a new team whose parent comes later in the listing (forward link inside one stream)
    state.teams["t0"] = {"id": "t0", "name": "Child first", "parent": "t9"}
    state.teams["t9"] = {"id": "t9", "name": "Parent later", "parent": "t1"}

    run = sync(alice)

    assert run.status == "succeeded", run.error
    by_stream = results(run)
    assert (by_stream["goals"].updated, by_stream["goals"].removed, by_stream["goals"].created) == (2, 1, 0)
    assert not Goal.objects.filter(external_id="g3-2").exists()  # nobody sees it any more
    g = Goal.objects.get(external_id="g1-1")
    assert [s.progress for s in g.snapshots.order_by("taken_at")] == [10.0, 55.0]
    assert Goal.objects.get(external_id="g1-2").snapshots.count() == 1
    t0, t9, t1 = (Team.objects.get(external_id=e) for e in ("t0", "t9", "t1"))
    assert t0.parent == t9 and t0.path == f"/{t1.pk}/{t9.pk}/{t0.pk}/" and t0.depth == 2
    assert Goal.objects.filter(external_id="g1-1").count() == 1


def test_visibility_follows_each_credentials_latest_complete_read(fake_sandbox, make_credential):
    sandbox, server = fake_sandbox()
    alice = make_credential(server, "tok-alice")
    bob = make_credential(server, "tok-bob")
    sync(alice)
    sync(bob)
    assert Goal.objects.count() == 6  # one row per vendor item, whoever synced it
    bob_goals = set(Goal.objects.filter(seen_by=bob).values_list("external_id", flat=True))
    assert bob_goals == {"g1-1", "g1-2"}
    assert set(Team.objects.filter(seen_by=bob).values_list("external_id", flat=True)) == {"t1"}

    sandbox.state.goals["g1-2"]["team"] = "t2"  # bob can no longer see it; alice still can
    sync(bob)
    assert set(Goal.objects.filter(seen_by=bob).values_list("external_id", flat=True)) == {"g1-1"}
    moved = Goal.objects.get(external_id="g1-2")
    assert list(moved.seen_by.all()) == [alice]  # kept: alice's latest complete sync returned it


def test_a_failing_stream_makes_the_run_partial_and_removes_nothing(fake_sandbox, make_credential):
    sandbox, server = fake_sandbox()
    alice = make_credential(server)
    sync(alice)
    del sandbox.state.goals["g3-2"]
    del sandbox.state.teams["t3"]
    sandbox.faults = "500=1,match=/api/goals"

    run = sync(alice)

    assert run.status == "partial"
    by_stream = results(run)
    assert by_stream["goals"].status == "failed" and "GET /api/goals" in by_stream["goals"].error and "500" in by_stream["goals"].error
    assert "GET /api/goals" in run.error
    assert by_stream["key_results"].status == "succeeded" and by_stream["check_ins"].status == "succeeded"
    assert by_stream["teams"].removed == 1  # the teams stream was complete: t3 went
    assert Goal.objects.filter(external_id="g3-2", seen_by=alice).exists()  # goals failed: nothing removed
    alice.refresh_from_db()
    assert alice.consecutive_failures == 0 and "GET /api/goals" in alice.last_error


def test_401_marks_the_credential_for_reentry_and_later_runs_are_skipped(fake_sandbox, make_credential):
    _sandbox, server = fake_sandbox()
    cred = make_credential(server, "tok-wrong-secret-123")

    run = sync(cred, allow_retry=True)  # never retried, even when retries are allowed

    assert run.status == "failed" and "401" in run.error and "GET /api/teams" in run.error
    assert "tok-wrong-secret-123" not in run.error
    cred.refresh_from_db()
    assert cred.status == Credential.Status.NEEDS_REENTRY and "refused" in cred.status_reason
    (skipped,) = enqueue_sync([cred], trigger="schedule")
    assert skipped.status == "skipped" and "re-entry" in skipped.error
    cred.set_secret({"token": "tok-alice"})
    cred.save()
    (queued,) = create_runs([cred], trigger="manual")
    assert queued.status == "queued"
    assert run_sync(queued.pk).status == "succeeded"


def test_a_missing_scope_skips_that_stream_and_names_the_scope(fake_sandbox, make_credential):
    _sandbox, server = fake_sandbox()
    cred = make_credential(server, "tok-noscope")

    run = sync(cred)

    assert run.status == "partial"
    kr = results(run)["key_results"]
    assert kr.status == "skipped" and "key_results:read" in kr.error
    assert KeyResult.objects.count() == 0 and Goal.objects.count() == 6
    cred.refresh_from_db()
    assert cred.missing_scopes == ["key_results:read"]


def test_rate_limit_asks_for_a_retry_honouring_retry_after_then_finishes_on_exhaustion(fake_sandbox, make_credential, settings):
    settings.SYNC_RETRY_BASE_DELAY = 0.1
    settings.SYNC_RETRY_AFTER_CAP = 30
    sandbox, server = fake_sandbox()
    cred = make_credential(server)
    sandbox.faults = "429=1,retry_after=7,match=/api/goals"
    (run,) = create_runs([cred], trigger="manual")

    with pytest.raises(SyncRetry) as retry:
        run_sync(run.pk, allow_retry=True)

    assert 7 <= retry.value.countdown < 8
    run.refresh_from_db()
    assert run.status == "queued" and "Retrying" in run.error
    assert results(run)["teams"].status == "succeeded" and "key_results" not in results(run)  # stopped at the 429

    final = run_sync(run.pk, allow_retry=False)  # retries exhausted
    assert final.status == "partial" and final.attempt == 2
    assert final.streams_done <= final.streams_total == 6
    by_stream = results(final)
    assert by_stream["goals"].status == "failed" and "Rate limited" in by_stream["goals"].error
    assert by_stream["key_results"].status == "skipped" and "rate-limited" in by_stream["key_results"].error
    teams_reads = [p for _t, p, _s in sandbox.state.requests if p == "/api/teams"]
    assert len(teams_reads) == 1  # the resumed attempt did not read the finished stream again


def test_repeated_failures_pause_the_credential_until_the_owner_acts(fake_sandbox, make_credential, settings):
    settings.SYNC_PAUSE_AFTER_FAILURES = 2
    sandbox, server = fake_sandbox()
    cred = make_credential(server)
    sandbox.faults = "500=1"

    assert sync(cred).status == "failed"
    cred.refresh_from_db()
    assert cred.status == "active" and cred.consecutive_failures == 1
    assert sync(cred).status == "failed"
    cred.refresh_from_db()
    assert cred.status == Credential.Status.PAUSED and "2 failed syncs in a row" in cred.status_reason and "500" in cred.status_reason

    (skipped,) = create_runs([cred], trigger="manual")
    assert skipped.status == "skipped" and "paused" in skipped.error.lower()
    sandbox.faults = ""
    cred.set_secret({"token": "tok-alice"})  # the owner re-enters the secret
    cred.save()
    assert create_runs([cred], trigger="schedule")[0].status == "skipped"  # the scheduler still waits
    (manual,) = create_runs([cred], trigger="manual")
    assert run_sync(manual.pk).status == "succeeded"
    cred.refresh_from_db()
    assert cred.status == "active" and cred.consecutive_failures == 0


def test_enqueue_records_a_second_request_as_skipped_and_dispatches_on_commit(
    fake_sandbox, make_credential, django_capture_on_commit_callbacks
):
    _sandbox, server = fake_sandbox()
    cred = make_credential(server)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = enqueue_sync([cred], trigger="manual")
        second = enqueue_sync([cred], trigger="manual")
    assert [r.status for r in first + second] == ["queued", "skipped"]
    assert f"run {first[0].pk}" in second[0].error
    assert len(callbacks) == 1
    with pytest.raises(ValueError, match="Unknown sync trigger"):
        enqueue_sync([cred], trigger="whenever")


def test_running_the_same_run_twice_changes_nothing_the_second_time(fake_sandbox, make_credential):
    sandbox, server = fake_sandbox()
    cred = make_credential(server)
    (run,) = create_runs([cred], trigger="manual")
    first = run_sync(run.pk)
    requests = len(sandbox.state.requests)
    again = run_sync(run.pk)
    assert first.status == again.status == "succeeded" and again.attempt == 1
    assert len(sandbox.state.requests) == requests


def test_a_run_left_running_by_a_dead_worker_resumes_without_duplicates(fake_sandbox, make_credential):
    sandbox, server = fake_sandbox()
    cred = make_credential(server)
    (run,) = create_runs([cred], trigger="manual")
    run_sync(run.pk)
    # Rewind the run to the state a SIGKILL leaves: running, teams done, goals half written.
    SyncRun.objects.filter(pk=run.pk).update(status="running", finished_at=None, heartbeat_at=timezone.now())
    StreamResult.objects.filter(run=run).exclude(stream="teams").delete()
    StreamResult.objects.create(run=run, stream="goals", status="running", fetched=3)
    sandbox.state.requests.clear()

    resumed = run_sync(run.pk)

    assert resumed.status == "succeeded" and resumed.attempt == 2
    assert not [p for _t, p, _s in sandbox.state.requests if p == "/api/teams"]
    assert Goal.objects.count() == 6 and KeyResult.objects.count() == 12 and Team.objects.count() == 3
    assert set(results(resumed)) == {"teams", "people", "goals", "key_results", "work_items", "check_ins"}


def test_retry_countdown_is_capped_exponential_with_jitter_and_honours_retry_after(settings):
    settings.SYNC_RETRY_BASE_DELAY, settings.SYNC_RETRY_MAX_DELAY, settings.SYNC_RETRY_AFTER_CAP = 10, 60, 120
    first = [retry_countdown(0, None) for _ in range(50)]
    assert all(5 <= c <= 10 for c in first) and len(set(first)) > 1  # jitter
    assert all(30 <= retry_countdown(9, None) <= 60 for _ in range(20))  # capped
    assert retry_countdown(0, 90) == 90  # the vendor's wait beats a shorter backoff
    assert retry_countdown(0, 5000) == 120  # Retry-After honoured up to the cap


def test_runs_whose_task_was_lost_are_expired_so_they_stop_blocking(fake_sandbox, make_credential, settings):
    _sandbox, server = fake_sandbox()
    cred = make_credential(server)
    (lost,) = create_runs([cred], trigger="manual")
    window = max(settings.SYNC_LOCK_TTL, settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600))
    assert expire_stuck_runs() == 0  # a fresh run may still be delivered
    SyncRun.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(seconds=window + settings.SYNC_HEARTBEAT_TIMEOUT + 60))
    assert expire_stuck_runs() == 1
    lost.refresh_from_db()
    assert lost.status == "failed" and "lost" in lost.error
    assert create_runs([cred], trigger="manual")[0].status == "queued"


def test_a_sudden_empty_list_is_held_back_once_then_a_second_read_confirms_it(fake_sandbox, make_credential):
    sandbox, server = fake_sandbox(teams=3, goals_per_team=8, krs_per_goal=0, page_size=10)
    alice = make_credential(server)
    assert sync(alice).status == "succeeded" and Goal.objects.filter(seen_by=alice).count() == 24
    saved = dict(sandbox.state.goals)
    sandbox.state.goals.clear()  # the vendor answers an empty list that looks fine

    held = sync(alice)

    assert held.status == "partial" and "Removal held back" in held.error and "0 of the 24" in held.error
    assert Goal.objects.filter(seen_by=alice).count() == 24
    sandbox.state.goals.update(saved)  # it was a fault: the next read lists them again
    assert sync(alice).status == "succeeded" and Goal.objects.filter(seen_by=alice).count() == 24

    sandbox.state.goals.clear()  # now they are really gone: held back once, then removed
    assert sync(alice).status == "partial"
    confirmed = sync(alice)
    assert confirmed.status == "succeeded" and results(confirmed)["goals"].removed == 24
    assert Goal.objects.count() == 0


def test_a_stream_that_fails_while_storing_leaves_the_streams_read_ahead_intact(fake_sandbox, make_credential, monkeypatch):
    """The reader runs ahead across streams: when storing goals fails on its first page, the goals
    pages already read are dropped and the later streams' pages are stored as usual."""
    from dashboard.integrations.sync import engine as sync_module

    _sandbox, server = fake_sandbox(teams=3, goals_per_team=3, krs_per_goal=1, page_size=2)  # goals span 5 pages
    alice = make_credential(server)
    real_upsert = sync_module.upsert_page

    def failing_for_goals(ctx, records, seen):
        if any(getattr(r, "kind", None) == "goal" for r in records):
            raise RuntimeError("disk full")
        return real_upsert(ctx, records, seen)

    monkeypatch.setattr(sync_module, "upsert_page", failing_for_goals)
    run = sync(alice)

    assert run.status == "partial"
    by_stream = results(run)
    assert by_stream["goals"].status == "failed" and "while storing goals" in by_stream["goals"].error
    assert by_stream["key_results"].status == "succeeded" and by_stream["key_results"].fetched == 9
    assert KeyResult.objects.count() == 9 and Goal.objects.count() == 0
    assert run.items_done == sum(r.fetched for r in by_stream.values())


def test_postgres_upsert_skips_a_row_another_sync_already_wrote_alike(fake_sandbox, make_credential, monkeypatch):
    """Two credentials of one connector writing the same item at once: the second write of identical
    values is skipped by the fingerprint guard of the ON CONFLICT update, yet its pk is still known."""
    from connectors.base import Kind
    from dashboard.integrations.sync import store as sync_store
    from tests.integrations.fake_connector import to_record

    require(connection.vendor == "postgresql", "PostgreSQL (the ON CONFLICT upsert path)")
    sandbox, server = fake_sandbox()
    alice = make_credential(server)
    sync(alice)
    goal = Goal.objects.get(external_id="g1-1")
    real_existing = sync_store._existing
    calls: list[int] = []

    def existing_before_the_other_commit(spec, ctx, keys):
        calls.append(1)  # the first look (classification) sees nothing, as in the race
        return {} if len(calls) == 1 else real_existing(spec, ctx, keys)

    monkeypatch.setattr(sync_store, "_existing", existing_before_the_other_commit)
    seen: set[int] = set()
    ctx = sync_store.StoreContext(connector=alice.connector, credential=alice)
    with CaptureQueriesContext(connection) as queries:
        counts = sync_store.upsert_records(ctx, Kind.GOAL, [to_record("goals", sandbox.state.goals["g1-1"])], seen)

    assert counts.created == 1 and seen == {goal.pk}
    assert Goal.objects.get(pk=goal.pk).synced_at == goal.synced_at  # the row was not rewritten
    assert len(calls) == 2  # the upsert returned no id, so the pk was looked up
    assert any("IS DISTINCT FROM EXCLUDED" in q["sql"] for q in queries.captured_queries)
