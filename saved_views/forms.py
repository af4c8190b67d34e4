from django import forms

from .access import teams_to_share_with

NAME_HELP = "Shown on its tab; at most 60 characters."


class NameField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=60, label="Name", help_text=NAME_HELP, strip=True, **kwargs)

    def clean(self, value):
        value = " ".join((value or "").split())  # one line, single spaces
        return super().clean(value)


class RenameForm(forms.Form):
    name = NameField()


class SaveForm(forms.Form):
    """Save the history's current parameters (`query`, filled from the page's URL) as a view."""

    name = NameField()
    shared = forms.ChoiceField(label="Who sees it", required=False)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.teams = {team.slug: team for team in teams_to_share_with(user)}
        self.fields["shared"].choices = [("", "Only me")] + [
            (slug, f"Team {team.name}") for slug, team in self.teams.items()
        ]

    def clean_shared(self):
        slug = self.cleaned_data.get("shared") or ""
        return self.teams.get(slug)
