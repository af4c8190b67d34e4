from django import forms
from django.db.models import Q

from teams import naming as team_naming
from teams.models import Team

from .models import NAME_MAX, NOTE_MAX, Tag

NAME_RULE = f"A tag name is 1 to {NAME_MAX} characters (spaces at either end are dropped)."
# Between a team tag's name and its team's in the tag form's suggestions, as the job page's
# tag chips show team tags ("Mix · Studio").
TEAM_MARK = " · "


def suggestions(user, teams: list[Team], tags: list[Tag] | None = None) -> dict[str, Tag | None]:
    """The tag form's suggestions (its datalist), by the text each puts in the name field: the
    person's own tags by their name (None: like any name typed, the form's "For" choice says
    whose tag it is), and the tags of `teams` (those whose tags the person may put on the job:
    access.tagging_teams; the bulk bar's, on any job: access.taggable_teams) as "name ·
    team", the team tag itself. A team tag's suggestion is a choice of that tag whatever
    "For" says (TagForm.found, TagForm.chosen): picked while "Only me" is selected, it must
    not make a personal tag of the same name. Two teams of the same name are told apart
    (teams.naming). One query, unless `tags` holds the person's own tags and those of `teams`
    (and maybe others, left out) already read (access.tags_for_page)."""
    called = team_naming.labels(teams)
    by_pk = {team.pk: team for team in teams}
    if tags is None:
        tags = Tag.objects.filter(Q(owner=user) | Q(team__in=list(by_pk))).only("code", "name", "owner", "team")
    found: dict[str, Tag | None] = {}
    for tag in tags:
        if tag.team_id is None:
            found.setdefault(tag.name, None)
        elif tag.team_id in by_pk:
            tag.team = by_pk[tag.team_id]
            found[f"{tag.name}{TEAM_MARK}{called[tag.team_id]}"] = tag
    return found


class TagForm(forms.Form):
    """A tag to put on a job, by name: found (whatever its case) or made. `team` names one
    of the person's teams (by slug) for a team tag; empty for a personal one. `suggestions`:
    the job page's or the bulk bar's (suggestions()), whose team tags are chosen by their
    text exactly."""

    # The length is checked by clean_name: a team tag's suggestion may be longer than a name.
    name = forms.CharField(
        label="Tag",
        error_messages={"required": NAME_RULE},
        widget=forms.TextInput(attrs={"list": "tag-names", "autocomplete": "off", "maxlength": NAME_MAX}),
    )
    team = forms.CharField(required=False, label="For")

    def __init__(self, *args, suggestions: dict[str, Tag | None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.team_tags = {text: tag for text, tag in (suggestions or {}).items() if tag is not None}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if len(name) > NAME_MAX and name not in self.team_tags:
            raise forms.ValidationError(NAME_RULE, code="max_length")
        return name

    def found(self, whose: dict) -> Tag | None:
        """The existing tag named: the one of this name (whatever its case) of `whose` (owner=
        the person, or team=: what "For" says) when there is one; else the team tag whose
        suggestion the name is exactly; else None (a new tag of `whose`). A valid form's. The
        bulk bar asks this first: it makes a new tag only once the person confirms."""
        name = self.cleaned_data["name"]
        return Tag.objects.filter(name__iexact=name, **whose).first() or self.team_tags.get(name)

    def chosen(self, whose: dict) -> Tag:
        """The tag to put on: found(), else a new tag of `whose`, made."""
        tag = self.found(whose)
        return tag if tag is not None else Tag.make(self.cleaned_data["name"], **whose)


class NoteForm(forms.Form):
    """A person's note on a job; empty clears it."""

    text = forms.CharField(
        label="Your note",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": NOTE_MAX}),
        help_text=f"Only you see it. Up to {NOTE_MAX:,} characters of plain text.",
    )
