import re

from django import forms

from providers.apikley import task_id_problem
from providers.models import Credential
from providers.registry import PROVIDERS

MAX_IDS = 1000
SEPARATORS = re.compile(r"[\s,]+")


class ImportForm(forms.Form):
    """Task ids to import through one of your keys whose provider has no history list."""

    credential = forms.ModelChoiceField(queryset=Credential.objects.none(), to_field_name="code", label="Key")
    task_ids = forms.CharField(
        label="Task ids",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off"}),
        help_text=f"Separate them with spaces, commas or new lines; up to {MAX_IDS:,} at once.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        importers = [slug for slug, cls in PROVIDERS.items() if cls.imports_ids]
        self.fields["credential"].queryset = Credential.objects.owned_by(user).filter(provider__in=importers)
        # Tokens that are not task ids, each with the reason.
        self.rejected: list[tuple[str, str]] = []
        self.repeated = 0

    def clean_task_ids(self) -> list[str]:
        tokens = [t for t in SEPARATORS.split(self.cleaned_data["task_ids"]) if t]
        unique = list(dict.fromkeys(tokens))
        self.repeated = len(tokens) - len(unique)
        if len(unique) > MAX_IDS:
            raise forms.ValidationError(f"That is {len(unique):,} ids: import at most {MAX_IDS:,} at once.")
        problems = {token: task_id_problem(token) for token in unique}
        self.rejected = [(token, problem) for token, problem in problems.items() if problem]
        valid = [token for token, problem in problems.items() if not problem]
        if not valid:
            raise forms.ValidationError(
                "None of these look like task ids (8 to 64 letters, digits, - or _, with a digit): "
                + rejected_text(self.rejected)
            )
        return valid


# Rejected tokens named in a message, and how much of each: a pasted paragraph must not
# become a wall of text.
SHOW_REJECTED = 10
SHOW_CHARS = 40


def rejected_text(rejected: list[tuple[str, str]]) -> str:
    shown = [
        f"“{token if len(token) <= SHOW_CHARS else token[: SHOW_CHARS - 1] + '…'}” ({problem})"
        for token, problem in rejected[:SHOW_REJECTED]
    ]
    more = len(rejected) - SHOW_REJECTED
    return "; ".join(shown) + (f"; and {more:,} more." if more > 0 else ".")


class RenameForm(forms.Form):
    """A job's new name at the provider (AudioPod's display_name)."""

    name = forms.CharField(label="Name", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
