"""The history's filters, validated by django-filter: shared by the list, the dashboard and
the exports.

Bad values never reach the database: they become form errors (the list shows them and
ignores those filters, the exports answer 400).
"""

from collections import Counter
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.core.validators import MinLengthValidator
from django.utils import timezone

from annotations import access as annotation_access
from annotations import search as annotation_search
from annotations.models import JobTag, Star, Tag
from providers.models import Credential
from providers.registry import CHOICES
from teams.models import Share, Team

from . import search
from .models import Job

SHORT_SEARCH = f"Type at least {search.TRIGRAM} characters to search."


def _visible_credentials(request):
    return Credential.objects.history_visible_to(request.user).order_by("label")


def _my_teams(request):
    return Team.objects.filter(members__user=request.user) if request.user.is_authenticated else Team.objects.none()


# The days the date filters take. A browser's date picker sends anything from 0001-01-01 to
# 9999-12-31; no job is older than the Unix epoch, and the day after the last one must still be
# a datetime Python and the databases hold in every time zone. Days outside are form errors:
# the list ignores them and says so, the exports answer 400.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)


def day_start(day: date) -> datetime:
    """Midnight at the start of `day` in the viewer's time zone (core.middleware activates the
    browser's; UTC when unknown)."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def day_end(day: date) -> datetime:
    """Midnight at the start of the next day (days are 23 or 25 hours long on DST changes)."""
    return day_start(day + timedelta(days=1))


class KeyChoiceField(forms.ModelChoiceField):
    """Keys by label and provider only: teammates' keys are never shown with their last four."""

    def label_from_instance(self, obj: Credential) -> str:
        return f"{obj.label} ({obj.get_provider_display()})"


class KeyChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = KeyChoiceField


class TeamChoiceField(forms.ModelChoiceField):
    """Teams by name; two of your teams that share a name (made by different people) are told
    apart by their address, so the filter never offers two identical options."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.same_names: set[str] | None = None

    def label_from_instance(self, obj: Team) -> str:
        if self.same_names is None:
            names = Counter(name.casefold() for name in self.queryset.values_list("name", flat=True))
            self.same_names = {name for name, n in names.items() if n > 1}
        return f"{obj.name} ({obj.slug})" if obj.name.casefold() in self.same_names else obj.name


class TeamChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = TeamChoiceField


def _my_tags(request):
    if not request.user.is_authenticated:
        return Tag.objects.none()
    return annotation_access.visible_tags(request.user).select_related("team").order_by("name", "team__name")


class TagChoiceField(forms.ModelChoiceField):
    """Tags by name; a team's tags say whose they are."""

    def label_from_instance(self, obj) -> str:
        return f"{obj.name} (team {obj.team.name})" if obj.team_id else obj.name


class TagChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = TagChoiceField


class JobFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        for name in ("created_after", "created_before"):
            day = data.get(name)
            if day and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, f"Choose a day from {FIRST_DAY:%Y-%m-%d} to {LAST_DAY:%Y-%m-%d}.")
        after, before = data.get("created_after"), data.get("created_before")
        if after and before and after > before:
            self.add_error("created_before", "This day is before the “From” day.")
        return data


class JobFilter(django_filters.FilterSet):
    # The search box waits for the third character (static/js/genboard.js) and says so; the
    # list refuses shorter terms too (see __init__).
    q = django_filters.CharFilter(
        method="search",
        label="Search",
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Title, prompt, file name or id",
                "autocomplete": "off",
                "aria-describedby": "search-hint",
                "data-min-length": str(search.TRIGRAM),
            }
        ),
    )
    provider = django_filters.ChoiceFilter(choices=CHOICES, empty_label="All providers")
    kind = django_filters.ChoiceFilter(choices=Job.Kind.choices, empty_label="All kinds")
    status = django_filters.ChoiceFilter(choices=Job.Status.choices, empty_label="All statuses")
    credential = KeyChoiceFilter(
        queryset=_visible_credentials, to_field_name="code", label="Key", empty_label="All keys"
    )
    team = TeamChoiceFilter(
        queryset=_my_teams, to_field_name="slug", method="shared_with", label="Team", empty_label="All teams"
    )
    # Whole days in the viewer's time zone, both ends inclusive.
    created_after = django_filters.DateFilter(
        method="after", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    created_before = django_filters.DateFilter(
        method="before", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    # The viewer's own marks (app annotations): stars are personal; a tag is the viewer's
    # own or one of their teams'.
    starred = django_filters.ChoiceFilter(
        choices=[("1", "Starred only")], method="starred_only", label="Stars", empty_label="Starred or not"
    )
    tag = TagChoiceFilter(queryset=_my_tags, to_field_name="code", method="tagged", label="Tag", empty_label="Any tag")

    class Meta:
        model = Job
        form = JobFilterForm
        fields = [
            *("q", "provider", "kind", "status", "credential", "team", "created_after", "created_before"),
            *("starred", "tag"),
        ]

    def __init__(self, *args, min_search: int = 1, **kwargs):
        """`min_search`: the shortest search term taken; a shorter one is a form error. The
        list, asked on every keystroke, takes no term that no trigram index answers (each
        would scan a whole history, a crafted URL included); an export, asked once, does."""
        super().__init__(*args, **kwargs)
        if min_search > 1:
            self.form.fields["q"].validators.append(MinLengthValidator(min_search, SHORT_SEARCH))
        # How a search narrowed the jobs, once `qs` is built: history.views reads pages by it.
        self.search_plan = search.Plan()
        self._searched = None  # the term search_plan was made for
        self._marked = None  # the viewer's jobs whose tags or note match it

    def search(self, queryset, name, value):
        """Title, prompt, file name (Munsit's jobs are titled by it) and external id; and the
        viewer's own tag names and notes (annotations.search)."""
        value = value.strip()
        if not value:
            return queryset
        # The list filters twice (history.views.page_rows): the index is asked once.
        plan = self.search_plan if self._searched == value else None
        if plan is None:
            self._marked = annotation_search.marked_jobs(self.request.user if self.request else None, value)
        queryset, self.search_plan = search.search(queryset, value, plan, also=self._marked)
        self._searched = value
        return queryset

    def shared_with(self, queryset, name, team):
        return queryset.filter(credential__shares__team=team)

    def starred_only(self, queryset, name, value):
        """The viewer's starred jobs: a page reads the viewer's stars (a person stars a
        small part of a history) rather than walking the history for them."""
        self.search_plan.per_key = False
        return queryset.filter(pk__in=Star.objects.filter(user=self.request.user).values("job_id"))

    def tagged(self, queryset, name, tag):
        """Jobs with the tag; a team's tag only on jobs shared with that team (where its
        members see it). Read from the tag's links, like the starred filter."""
        self.search_plan.per_key = False
        queryset = queryset.filter(pk__in=JobTag.objects.filter(tag=tag).values("job_id"))
        if tag.team_id:
            queryset = queryset.filter(credential__in=Share.objects.filter(team_id=tag.team_id).values("credential_id"))
        return queryset

    def after(self, queryset, name, day):
        return queryset.filter(created__gte=day_start(day))

    def before(self, queryset, name, day):
        return queryset.filter(created__lt=day_end(day))

    @property
    def error_text(self) -> str:
        """The form's errors as one sentence, for messages and 400 bodies."""
        parts = []
        for field, errors in self.form.errors.items():
            label = self.form.fields[field].label if field in self.form.fields else field
            parts.append(f"{label}: {' '.join(errors)}")
        return " ".join(parts)

    def valid_data(self) -> dict[str, str]:
        """The filters in effect, as query parameters: empty and invalid ones left out. The
        URLs the page builds (next page, pushed URL, facet links) start from these."""
        self.is_valid()
        return {
            name: self.data[name]
            for name in self.Meta.fields
            if self.data.get(name, "").strip() and name not in self.form.errors
        }
