from django import forms

from teams import naming as team_naming

from .access import teams_to_share_with

# Not a slug: slugs are made of letters, digits and hyphens, so no team has this one.
ONLY_ME = "_me"
NAME_HELP = "Shown on its tab; at most 60 characters."


class NameField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=60, label="Name", help_text=NAME_HELP, strip=True, **kwargs)

    def clean(self, value):
        value = " ".join((value or "").split())  # one line, single spaces
        return super().clean(value)


class RenameForm(forms.Form):
    name = NameField()


class QueryForm(forms.Form):
    """The history's current parameters (`query`, filled from the page's URL by
    static/js/saved_views.js after htmx filtering), checked by query.kept once valid."""

    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)


class ShareForm(forms.Form):
    """Who sees a view: only oneself, or a team where one may share views (the save form's
    choice, and "Who sees it" in a view's edit menu)."""

    shared = forms.ChoiceField(
        label="Who sees it",
        initial=ONLY_ME,
        error_messages={"invalid_choice": "Choose “Only me” or a team where you are a member, admin or owner."},
    )

    def __init__(self, *args, user, members=None, **kwargs):
        """`members`: the user's memberships when the caller has them (access.memberships)."""
        super().__init__(*args, **kwargs)
        self.teams = {team.slug: team for team in teams_to_share_with(user, members)}
        self.fields["shared"].choices = [(ONLY_ME, "Only me")] + [
            (slug, f"Team {label}") for slug, label in team_naming.choices(self.teams.values())
        ]

    def clean_shared(self):
        """The team to share with, or None for a private view."""
        return self.teams.get(self.cleaned_data["shared"])


class SaveForm(QueryForm, ShareForm):
    """Save the history's current parameters as a new view."""

    name = NameField()
