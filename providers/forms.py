from django import forms

from .fingerprint import fingerprint
from .models import Credential


def refuse_same_secret(owner, provider: str, secret: str, exclude: Credential | None = None) -> None:
    """Two keys holding one secret would import the same history twice (doubled jobs, counts
    and credits): name the key that already holds it."""
    same = Credential.objects.filter(owner=owner, provider=provider, fingerprint=fingerprint(secret))
    if exclude is not None:
        same = same.exclude(pk=exclude.pk)
    existing = same.first()
    if existing is not None:
        raise forms.ValidationError(
            f"This key is already saved as “{existing.label}” (…{existing.last4}). "
            "Adding it twice would import its history twice.",
            code="same_secret",
        )


class SecretField(forms.CharField):
    """A provider secret: typed once, never rendered back into the page."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_length", 8)
        kwargs.setdefault("max_length", 500)
        kwargs.setdefault(
            "widget", forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"})
        )
        kwargs.setdefault(
            "help_text", "Stored encrypted. Genboard never shows it again, only its last four characters."
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if any(c.isspace() for c in value) or not value.isprintable() or not value.isascii():
            raise forms.ValidationError(
                "An API key is one word of letters, digits and punctuation: check for spaces or line breaks "
                "copied with it."
            )
        return value


class LabelMixin:
    owner = None

    def clean_label(self):
        label = self.cleaned_data["label"].strip()
        taken = Credential.objects.filter(owner=self.owner, label__iexact=label)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("You already have a key with this label. Choose another one.")
        return label


class CredentialForm(LabelMixin, forms.ModelForm):
    secret = SecretField(label="API key")

    class Meta:
        model = Credential
        fields = ["provider", "label"]
        help_texts = {"label": "A name to tell your keys apart, such as “Studio account”."}

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.fields["provider"].choices = [("", "Choose a provider…"), *self.fields["provider"].choices[1:]]

    def clean(self):
        data = super().clean()
        if data.get("provider") and data.get("secret"):
            try:
                refuse_same_secret(self.owner, data["provider"], data["secret"])
            except forms.ValidationError as e:
                self.add_error("secret", e)
        return data

    def save(self, commit: bool = True) -> Credential:
        self.instance.owner = self.owner
        self.instance.set_secret(self.cleaned_data["secret"])
        return super().save(commit)


class RenameForm(LabelMixin, forms.ModelForm):
    class Meta:
        model = Credential
        fields = ["label"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = self.instance.owner


class ReplaceSecretForm(forms.Form):
    secret = SecretField(label="New API key")
    # Offered once a check could not be made (the provider down or unreachable): a key the
    # provider refused is never saved over a working one.
    anyway = forms.BooleanField(
        required=False,
        label="Replace anyway, without a check",
        help_text="The provider could not be asked. Genboard checks the new key on its next sync.",
    )

    def __init__(self, *args, credential: Credential, offer_anyway: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.credential = credential
        self.offer_anyway = offer_anyway
        if not offer_anyway:
            del self.fields["anyway"]

    def clean_secret(self):
        secret = self.cleaned_data["secret"]
        refuse_same_secret(self.credential.owner, self.credential.provider, secret, exclude=self.credential)
        return secret
