import re

from django import forms

from providers.apikley import TASK_ID
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
        self.malformed: list[str] = []
        self.repeated = 0

    def clean_task_ids(self) -> list[str]:
        tokens = [t for t in SEPARATORS.split(self.cleaned_data["task_ids"]) if t]
        unique = list(dict.fromkeys(tokens))
        self.repeated = len(tokens) - len(unique)
        if len(unique) > MAX_IDS:
            raise forms.ValidationError(f"That is {len(unique):,} ids: import at most {MAX_IDS:,} at once.")
        self.malformed = [t for t in unique if not TASK_ID.match(t)]
        valid = [t for t in unique if TASK_ID.match(t)]
        if not valid:
            raise forms.ValidationError(
                "None of these look like task ids (3–100 letters, digits, dashes or underscores)."
            )
        return valid


class RenameForm(forms.Form):
    """A job's new name at the provider (AudioPod's display_name)."""

    name = forms.CharField(label="Name", max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
