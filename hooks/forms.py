from django import forms


class SecretForm(forms.Form):
    secret = forms.CharField(
        label="Secret",
        max_length=500,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        if len(secret) < 8 or any(c.isspace() for c in secret):
            raise forms.ValidationError("That does not look like a webhook secret (8 or more characters, no spaces).")
        return secret
