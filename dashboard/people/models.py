"""One person across vendors (issue #18): OKR Hub's own records, never written to a vendor.

An :class:`Identity` is OKR Hub's person. Its members are what the vendors know of that person:
a vendor ``Person`` row (North memberships, Operately people), or, for a vendor without people
(OGSM names owners only), an owner name at one connector. ``how`` says why a member is where it
is; automatic links (same e-mail, own identity) are recomputed by each run of
:func:`dashboard.people.services.link_people`, manual ones (confirmed name match, merge, split)
never are. The rules are in ``docs/people.md``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


def name_key(name: str) -> str:
    """What exact name matching compares: case-folded, whitespace collapsed."""
    return " ".join(name.split()).casefold()


class Identity(models.Model):
    name = models.CharField(max_length=300)
    email = models.EmailField(blank=True, default="", help_text="Primary e-mail (lower-cased), if any member has one.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return self.name


class IdentityMember(models.Model):
    class How(models.TextChoices):
        OWN = "own", "Own identity"
        EMAIL = "email", "Same e-mail"
        NAME_CONFIRMED = "name-confirmed", "Name match confirmed by an admin"
        MANUAL = "manual", "Merged by an admin"
        SPLIT = "split", "Split out by an admin"

    AUTOMATIC = (How.OWN, How.EMAIL)

    identity = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="members")
    person = models.OneToOneField("okrs.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="identity_member")
    # A name-only member (a vendor without a people stream): the owner name at one connector.
    connector = models.ForeignKey("integrations.Connector", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    owner_name = models.CharField(max_length=300, blank=True, default="", help_text="The vendor's display name (name-only members).")
    owner_key = models.CharField(max_length=300, blank=True, default="", help_text="name_key(owner_name).")
    how = models.CharField(max_length=20, choices=How.choices, default=How.OWN)
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connector", "owner_key"], condition=models.Q(person__isnull=True), name="people_member_unique_name"
            ),
            models.CheckConstraint(
                condition=models.Q(person__isnull=False) | (models.Q(connector__isnull=False) & ~models.Q(owner_key="")),
                name="people_member_person_or_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.owner_name or self.person_id} in {self.identity_id}"

    @property
    def is_manual(self) -> bool:
        return self.how not in self.AUTOMATIC


class NameMatchProposal(models.Model):
    """ "This e-mail-less member may be that identity": an admin confirms or rejects it, and a
    rejected proposal stays rejected (the next link run does not propose it again)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        REJECTED = "rejected", "Rejected"

    member = models.ForeignKey(IdentityMember, on_delete=models.CASCADE, related_name="proposals")
    identity = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="proposals")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "identity"], name="people_proposal_unique")]

    def __str__(self) -> str:
        return f"proposal {self.member_id} -> {self.identity_id} ({self.status})"
