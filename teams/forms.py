from django import forms
from django.contrib.auth import get_user_model

from providers.models import Credential

from .models import Member, Share, Team


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name"]
        help_texts = {"name": "Such as “Studio” or “Podcast crew”. You become its owner."}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the team a name.")
        # Unique among your own teams (not across Genboard: that would tell anyone which team
        # names others use); the history's team filter tells apart any that still collide.
        if Team.objects.filter(members__user=self.user, name__iexact=name).exists():
            raise forms.ValidationError(f"You are already in a team called “{name}”. Choose another name.")
        return name


class RoleField(forms.ChoiceField):
    """A role, limited to those the person choosing may give (see access.assignable_roles)."""

    def __init__(self, roles: list[str], **kwargs):
        super().__init__(choices=[(value, label) for value, label in Member.Role.choices if value in roles], **kwargs)

    def validate(self, value):
        if value in self.empty_values:
            raise forms.ValidationError("Choose a role.", code="required")
        if value not in Member.Role.values:
            raise forms.ValidationError("Choose owner, admin, member or viewer.", code="invalid_choice")
        if not self.valid_value(value):
            raise forms.ValidationError("Only owners can make owners.", code="invalid_choice")


class AddMemberForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        help_text="They need a Genboard account already; otherwise make an invite link below.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}),
    )

    def __init__(self, *args, team: Team, roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["role"] = RoleField(roles, initial=Member.Role.MEMBER)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username__iexact=username).first()
        if user is None:
            raise forms.ValidationError(f"There is no Genboard user called “{username}”. Check the spelling.")
        if Member.objects.filter(team=self.team, user=user).exists():
            raise forms.ValidationError(f"{user.get_username()} is already a member of {self.team}.")
        return user


class RoleForm(forms.Form):
    def __init__(self, *args, roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"] = RoleField(roles)


class InviteForm(forms.Form):
    def __init__(self, *args, roles: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"] = RoleField(roles, initial=Member.Role.MEMBER, label="Role for whoever uses it")


class KeyChoiceField(forms.ModelChoiceField):
    """One of your keys, by its public id; those already shared with the team say so."""

    shared: frozenset = frozenset()

    def label_from_instance(self, obj):
        label = f"{obj.label} — {obj.get_provider_display()} …{obj.last4}"
        return f"{label} (already shared)" if obj.pk in self.shared else label


class ShareForm(forms.Form):
    credential = KeyChoiceField(
        queryset=Credential.objects.none(),
        to_field_name="code",
        label="Key",
        empty_label="Choose one of your keys…",
        error_messages={"invalid_choice": "Choose one of your own keys.", "required": "Choose one of your keys."},
    )

    def __init__(self, *args, team: Team, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        field = self.fields["credential"]
        field.queryset = Credential.objects.owned_by(user).order_by("label")
        field.shared = frozenset(team.shares.filter(credential__owner=user).values_list("credential_id", flat=True))

    def clean_credential(self):
        credential = self.cleaned_data["credential"]
        if Share.objects.filter(team=self.team, credential=credential).exists():
            raise forms.ValidationError(f"“{credential.label}” is already shared with {self.team}.")
        if credential.fingerprint:
            # The same secret shared by two people: the team would see its history twice.
            same = Credential.objects.filter(
                shares__team=self.team, provider=credential.provider, fingerprint=credential.fingerprint
            ).exclude(pk=credential.pk)
            if existing := same.select_related("owner").first():
                raise forms.ValidationError(
                    f"{self.team} already sees the history of this key through “{existing.label}”, "
                    f"shared by {existing.owner.get_username()}."
                )
        return credential
