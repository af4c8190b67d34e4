from django import forms

from .models import NAME_MAX, NOTE_MAX

NAME_RULE = f"A tag name is 1 to {NAME_MAX} characters (spaces at either end are dropped)."


class TagForm(forms.Form):
    """A tag to put on a job, by name: found (whatever its case) or made. `team` names one
    of the person's teams (by slug) for a team tag; empty for a personal one."""

    name = forms.CharField(
        label="Tag",
        max_length=NAME_MAX,
        error_messages={"required": NAME_RULE, "max_length": NAME_RULE},
        widget=forms.TextInput(attrs={"list": "tag-names", "autocomplete": "off", "maxlength": NAME_MAX}),
    )
    team = forms.CharField(required=False, label="For")


class NoteForm(forms.Form):
    """A person's note on a job; empty clears it."""

    text = forms.CharField(
        label="Your note",
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": NOTE_MAX}),
        help_text=f"Only you see it. Up to {NOTE_MAX:,} characters of plain text.",
    )
