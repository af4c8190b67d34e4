"""Saved views: a named set of the history's URL parameters (filters, sort, layout), kept for
one person or shared with a team, shown as tabs above the history."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from teams.models import Team


class SavedViewQuerySet(models.QuerySet):
    def visible_to(self, user, team_ids: list[int] | None = None) -> "SavedViewQuerySet":
        """One's own private views and the views of every team one is in (any role).
        `team_ids`: the ids of those teams, when the caller has read them already."""
        if not user.is_authenticated:
            return self.none()
        # The teams as a subquery: a join on their members would repeat rows.
        teams = Team.objects.filter(members__user=user).values("pk") if team_ids is None else team_ids
        return self.filter(Q(team__isnull=True, user=user) | Q(team__in=teams))

    def group(self, *, team, user) -> "SavedViewQuerySet":
        """The views a tab is ordered among: the team's (a team or its id), or, with none,
        the person's private ones."""
        return self.filter(team=team) if team else self.filter(user=user, team=None)

    def next_position(self) -> int:
        """The place after the last of these views (0 for none)."""
        last = self.aggregate(last=models.Max("position"))["last"]
        return 0 if last is None else last + 1


class SavedView(models.Model):
    """`user` made the view; a view with a `team` belongs to that team (its members see it,
    members and above edit it: see saved_views.access), one without is the user's alone.
    Made by a person, a team view goes when its maker's account goes (Genboard offers no
    account deletion; the admin's is the only one)."""

    # The most views one person keeps (private and team views they made).
    LIMIT = 50

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="saved_views")
    team = models.ForeignKey(Team, models.CASCADE, null=True, blank=True, related_name="saved_views")
    name = models.CharField(max_length=60)
    # The history's query string, validated when saved ("status=failed&sort=-credits"): what
    # /history/ is opened with. Checked again on every opening (a key or team may be gone).
    query = models.CharField(max_length=2000, blank=True)
    # The tab's place among its group's (a person's private views, or a team's), left first.
    position = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)

    objects = SavedViewQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            # The tabs: a person's private views, and each team's, in order.
            models.Index(fields=["user", "position"], name="savedview_user_position", condition=Q(team=None)),
            models.Index(fields=["team", "position"], name="savedview_team_position"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("saved_views:open", args=[self.code])

    def group(self) -> "SavedViewQuerySet":
        """The views this one is ordered among."""
        return SavedView.objects.group(team=self.team_id, user=self.user_id)
