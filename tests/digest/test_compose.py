"""The digest's content (issue #18): what changed in the last 7 days and what needs attention,
only what the user may see, capped lists with "and N more", absolute links, HTML and text.
Dates are offsets from the pinned "now" (shifted in CI)."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.digest.compose import MAX_PER_LIST, compose, render
from dashboard.digest.models import week_start_in
from tests.factories import (
    CheckInFactory,
    CredentialFactory,
    GoalFactory,
    KeyResultFactory,
    SnapshotFactory,
    UserFactory,
    WorkItemFactory,
    build_org,
    see,
)

pytestmark = pytest.mark.django_db
SITE = "https://okr.example.com"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def world():
    now = timezone.now()
    today = timezone.localdate()
    ann, other = UserFactory(username="ann"), UserFactory(username="otto")
    cred = CredentialFactory(owner=ann, connector__vendor="north", connector__name="North")
    hidden_cred = CredentialFactory(owner=other, connector=cred.connector)
    c = cred.connector
    moved = GoalFactory(connector=c, title="Grow revenue", health="needs_attention", progress=35.0)
    SnapshotFactory(goal=moved, taken_at=now - timedelta(days=10), progress=20.0, health="on_track")
    SnapshotFactory(goal=moved, taken_at=now - timedelta(days=2), progress=35.0, health="needs_attention")
    steady = GoalFactory(connector=c, title="Keep the lights on", health="on_track", progress=80.0)
    SnapshotFactory(goal=steady, taken_at=now - timedelta(days=3), progress=80.0, health="on_track")
    kr = KeyResultFactory(connector=c, goal=steady, title="Uptime 99.9", progress=30.0)
    SnapshotFactory(key_result=kr, taken_at=now - timedelta(days=6), progress=10.0, health="on_track")
    SnapshotFactory(key_result=kr, taken_at=now - timedelta(days=1), progress=30.0, health="on_track")
    behind = GoalFactory(
        connector=c, title="Open Nordics", health="needs_attention", progress=20.0,
        start_date=today - timedelta(days=50), due_date=today + timedelta(days=50),
    )  # fmt: skip
    pace_only = GoalFactory(
        connector=c, title="Quietly late", health="on_track", progress=20.0,
        start_date=today - timedelta(days=50), due_date=today + timedelta(days=50),
    )  # fmt: skip
    stale = GoalFactory(
        connector=c, title="Hire well", health="on_track", progress=None,
        last_check_in_at=now - timedelta(days=19), stale_at=now - timedelta(days=9),
    )  # fmt: skip
    overdue = GoalFactory(connector=c, title="Ship v2", health="on_track", progress=60.0, due_date=today - timedelta(days=3))
    work = WorkItemFactory(connector=c, title="Migrate billing", health="off_track", state="active")
    CheckInFactory(goal=moved, author="Ann Lee", comment="Pipeline is thin", health="needs_attention", created_at=now - timedelta(days=1))
    CheckInFactory(goal=moved, author="Ann Lee", comment="Old news", created_at=now - timedelta(days=9))
    secret = GoalFactory(connector=c, title="Secret merger", health="off_track", progress=5.0)
    SnapshotFactory(goal=secret, taken_at=now - timedelta(days=2), progress=5.0, health="off_track")
    SnapshotFactory(goal=secret, taken_at=now - timedelta(days=4), progress=1.0, health="on_track")
    CheckInFactory(goal=secret, author="Otto", comment="Top secret", created_at=now - timedelta(days=1))
    see(cred, moved, steady, kr, behind, pace_only, stale, overdue, work)
    see(hidden_cred, secret)
    return {"ann": ann, "other": other, "cred": cred, "moved": moved, "behind": behind}


def test_changes_check_ins_and_attention_of_what_the_user_sees(world):
    digest = compose(world["ann"])
    changes = {c.title: c for c in digest.changes.items}
    assert set(changes) == {"Grow revenue", "Uptime 99.9"}  # "Keep the lights on" did not move
    assert changes["Grow revenue"].delta_text == "+15 points to 35 %"  # against the snapshot before the window
    assert changes["Grow revenue"].health_text == "On track → Needs attention"
    assert changes["Uptime 99.9"].delta_text == "+20 points to 30 %" and changes["Uptime 99.9"].kind == "Key result"
    assert [c.comment for c in digest.check_ins.items] == ["Pipeline is thin"]  # the older one is outside the window
    reasons = {a.title: a.reasons for a in digest.attention.items}
    assert reasons["Grow revenue"] == []  # its health (a chip in the e-mail) is the reason
    assert reasons["Open Nordics"] == ["Behind pace by 30 points"]  # listed for its health; pace is one more reason
    assert "Quietly late" not in reasons  # behind pace alone: not listed, as on the Review page
    assert reasons["Hire well"] == ["No check-in for 19 days"]
    assert reasons["Ship v2"] == ["Due 3 days ago"]
    assert "Keep the lights on" not in reasons
    assert [(a.title, a.health_label, a.reasons) for a in digest.work_attention.items] == [("Migrate billing", "Off track", [])]
    everything = str(digest.changes) + str(digest.check_ins) + str(digest.attention)
    assert "Secret" not in everything and "Top secret" not in everything
    assert not digest.is_empty


def test_links_are_absolute_and_both_parts_render(world):
    digest = compose(world["ann"])
    subject, text, html = render(digest)
    assert subject.startswith("OKR Hub digest, week of ") and "need attention" in subject
    for part in (text, html):
        assert f"{SITE}/goals/{world['moved'].pk}/" in part
        assert f"{SITE}/digest/" in part
        assert "Open Nordics" in part and "Behind pace by 30 points" in part
        assert "Secret merger" not in part and "Top secret" not in part
    assert 'href="/' not in html  # no relative link reaches a mail client
    assert "<a " not in text and "Pipeline is thin" in text


def test_vendor_text_is_escaped_in_html_and_plain_in_text(world):
    see(world["cred"], GoalFactory(connector=world["cred"].connector, title="<b>Bold</b> & co", health="off_track"))
    _subject, text, html = render(compose(world["ann"]))
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in html and "<b>Bold</b>" not in html
    assert "<b>Bold</b> & co" in text


def test_lists_are_capped_with_and_n_more(world):
    c = world["cred"].connector
    extra = [GoalFactory(connector=c, title=f"Fire {n:02d}", health="off_track") for n in range(MAX_PER_LIST + 2)]
    see(world["cred"], *extra)
    digest = compose(world["ann"])
    assert len(digest.attention.items) == MAX_PER_LIST
    assert digest.attention.total == MAX_PER_LIST + 2 + 4  # plus two needing attention, stale, overdue
    assert digest.attention.more == digest.attention.total - MAX_PER_LIST
    _subject, text, html = render(digest)
    assert f"and {digest.attention.more} more goals" in text and f"{SITE}/review/" in text
    assert f"and {digest.attention.more} more goals" in html


def test_an_empty_digest_says_so(world):
    digest = compose(world["other"])  # sees only a goal that is off track: not empty
    assert not digest.is_empty
    nobody = UserFactory(username="nobody")
    empty = compose(nobody)
    assert empty.is_empty
    subject, text, html = render(empty)
    assert "nothing new" in subject
    assert "Nothing changed; nothing needs attention." in text and "Nothing changed; nothing needs attention." in html


def test_week_start_is_the_monday_in_the_users_zone():
    now = timezone.now()
    for zone in ("UTC", "Asia/Tokyo", "America/Los_Angeles", "Pacific/Kiritimati"):
        monday = week_start_in(zone, now)
        assert monday.weekday() == 0
        local_day = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
        assert 0 <= (local_day - monday).days <= 6
    # Sunday 23:00 UTC is already Monday 08:00 in Tokyo: a new week there, the old one in UTC.
    utc_monday = week_start_in("UTC", now)
    sunday_late = datetime.combine(utc_monday + timedelta(days=6), time(23, 0), tzinfo=zoneinfo.ZoneInfo("UTC"))
    assert week_start_in("UTC", sunday_late) == utc_monday
    assert week_start_in("Asia/Tokyo", sunday_late) == utc_monday + timedelta(days=7)


def test_compose_runs_the_same_queries_at_two_sizes():
    user = UserFactory(username="sizer")
    credential = CredentialFactory(owner=user)

    def count() -> int:
        fresh = type(user).objects.get(pk=user.pk)  # the visible credentials are cached per user object
        with CaptureQueriesContext(connection) as ctx:
            render(compose(fresh))
        return len(ctx.captured_queries)

    build_org(credential, teams=3, goals_per_team=2, krs_per_goal=1, work_items_per_team=1, prefix="s")
    small = count()
    build_org(credential, teams=30, goals_per_team=4, krs_per_goal=2, work_items_per_team=3, prefix="L")
    assert count() == small <= 12
