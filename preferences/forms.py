from django import forms


class StripForm(forms.Form):
    folded = forms.TypedChoiceField(choices=[("0", "Unfold"), ("1", "Fold")], coerce=lambda value: value == "1")


class DismissForm(forms.Form):
    # history.notices.digest: 32 hex characters.
    digest = forms.RegexField(regex=r"^[0-9a-f]{32}$")
