"""A person across vendors in Debian's Chromium: the person page of someone who owns goals at
North and Operately (same e-mail) and OGSM actions (a name match an admin confirmed), at desktop
and phone widths (screenshots in tests/artifacts/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from dashboard.people.models import Identity, NameMatchProposal
from dashboard.people.services import confirm_proposal
from tests.e2e.test_dashboard import DESKTOP, shoot, sign_in
from tests.factories import UserFactory
from tests.people.conftest import OGSM_NAME
from tests.people.conftest import world as world  # the synced sandboxes fixture

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_person_page_with_items_from_two_vendors(page: Page, live_server, world, artifacts_dir):
    admin = UserFactory(username="root", is_staff=True)
    confirm_proposal(NameMatchProposal.objects.get(member__owner_name=OGSM_NAME).pk, admin)
    identity = Identity.objects.get(members__person__email__iexact=world.shared_email, members__person__vendor="north")
    page.set_viewport_size(DESKTOP)
    sign_in(page, live_server.url, "alice")
    page.get_by_role("link", name="People", exact=True).click()
    page.get_by_label("Name or e-mail").fill(world.shared_email)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=identity.name).click()
    expect(page.get_by_role("heading", name=identity.name, level=1)).to_be_visible()
    accounts = page.locator(".person-accounts")
    expect(accounts.locator(".vendor-north")).to_be_visible()
    expect(accounts.locator(".vendor-operately")).to_be_visible()
    expect(accounts.get_by_text("Same e-mail")).to_be_visible()
    goals = page.locator("section[aria-labelledby='h-goals'] tbody tr")
    expect(goals.locator(".vendor-north").first).to_be_visible()
    expect(goals.locator(".vendor-operately").first).to_be_visible()
    expect(page.get_by_role("heading", name="Needs attention")).to_be_visible()
    shoot(page, artifacts_dir, "person")

    # the OGSM person whose name an admin confirmed shows their OGSM actions too
    confirmed = NameMatchProposal.objects.get(member__owner_name=OGSM_NAME).identity
    page.goto(f"{live_server.url}/people/{confirmed.pk}/")
    expect(page.locator(".person-accounts").get_by_text("Name match confirmed by admin")).to_be_visible()
    expect(page.locator("section[aria-labelledby='h-work'] tbody tr .vendor-ogsm").first).to_be_visible()
    shoot(page, artifacts_dir, "person-ogsm")
    page.goto(f"{live_server.url}/people/")
    shoot(page, artifacts_dir, "people")
