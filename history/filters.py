"""The history's filters, validated by django-filter: shared by the list, the dashboard and
the exports.

Bad values never reach the database: they become form errors (the list shows them and
ignores those filters, the exports answer 400).
"""

import copy
import functools
import hashlib
from datetime import date, datetime, time, timedelta
from functools import cache as once

import django_filters
from django import forms
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator
from django.db.models import Q
from django.forms.renderers import Jinja2 as Jinja2Renderer
from django.http import QueryDict
from django.utils import timezone
from django.utils.choices import CallableChoiceIterator

from annotations import access as annotation_access
from annotations import search as annotation_search
from annotations.models import JobTag, Star, Tag
from core import sql as core_sql
from providers.models import Credential
from providers.registry import CHOICES
from teams import naming as team_naming
from teams.models import Share, Team

from . import search, sorting
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


# The date presets beside the date fields: from a moment relative to now (the viewer's days).
PERIODS = [("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days"), ("month", "This month")]


def period_start(period: str, now: datetime | None = None) -> datetime:
    """Where a preset begins: 24 hours ago, the start of the day 6 (29) days before today
    (so "7 days" is today and the 6 before it, as the dashboard counts), or of this month's
    first day, in the viewer's time zone."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if period == "24h":
        return now - timedelta(hours=24)
    if period in ("7d", "30d"):
        return day_start(today - timedelta(days=int(period[:-1]) - 1))
    return day_start(today.replace(day=1))


# The model choices are read at most this often per person (and set of visible keys).
MODELS_CACHE_SECONDS = 300


def visible_models(user, keys: list[int] | None = None) -> list[str]:
    """The models of the jobs this person can see, by name: one index-only pass over their
    keys (job_history_by_key_model), kept a few minutes. The cache entry is named by the
    visible keys too, so a key shared or unshared changes what is offered at once. `keys`:
    the ids of the keys this person sees, when the caller read them already."""
    if not user.is_authenticated:
        return []
    if keys is None:
        keys = Credential.objects.history_visible_to(user).order_by().values_list("pk", flat=True)
    keys = sorted(keys)
    digest = hashlib.blake2b(",".join(map(str, keys)).encode(), digest_size=12).hexdigest()

    def compute():
        jobs = Job.objects.filter(credential_id__in=keys).exclude(model="")
        return list(jobs.order_by("model").values_list("model", flat=True).distinct())

    return cache.get_or_set(f"history:models:{user.pk}:{digest}", compute, MODELS_CACHE_SECONDS)


class ViewerChoiceField(forms.ModelChoiceField):
    """A choice of the viewer's keys, teams or tags whose queryset is made when first read
    (`choose_from`): most of the list's answers neither validate nor draw these fields, and
    making the three querysets cost 0.8 ms of each (bench/pages_bench.py)."""

    _make_queryset = None

    def choose_from(self, make) -> None:
        self._make_queryset = make

    def _get_queryset(self):
        if self._make_queryset is not None:
            make, self._make_queryset = self._make_queryset, None
            self._set_queryset(make())
        return self._queryset

    queryset = property(_get_queryset, forms.ModelChoiceField._set_queryset)


class KeyChoiceField(ViewerChoiceField):
    """Keys by label and provider only: teammates' keys are never shown with their last four."""

    def label_from_instance(self, obj: Credential) -> str:
        return f"{obj.label} ({obj.get_provider_display()})"


class KeyChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = KeyChoiceField


class TeamChoiceField(ViewerChoiceField):
    """Teams by name; two of your teams that share a name (made by different people) are told
    apart by their address, so the filter never offers two identical options."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.labels: dict[int, str] | None = None

    def label_from_instance(self, obj: Team) -> str:
        if self.labels is None:
            # From the teams this field offers (the queryset keeps them once read).
            self.labels = team_naming.labels(self.queryset)
        return self.labels[obj.pk]


class TeamChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = TeamChoiceField


class CheckFilter(django_filters.Filter):
    """A checkbox sent as "1" (django-filter's BooleanFilter is a yes/no/unknown select)."""

    field_class = forms.BooleanField


def _my_tags(request):
    if not request.user.is_authenticated:
        return Tag.objects.none()
    return annotation_access.visible_tags(request.user).select_related("team").order_by("name", "team__name")


class TagChoiceField(ViewerChoiceField):
    """Tags by name; a team's tags say whose they are (teams.naming: two teams of the same
    name told apart)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.team_labels: dict[int, str] | None = None
        self.viewer = None  # the person whose tags these are (JobFilter.__init__)

    def to_python(self, value):
        """The tag chosen, read alone by a statement compiled once (annotations.access.visible_tag)
        rather than through the queryset of every tag the field offers, which only drawing the
        field needs."""
        if value in self.empty_values:
            return None
        tag = annotation_access.visible_tag(self.viewer, value) if self.viewer is not None else None
        if tag is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return tag

    def label_from_instance(self, obj) -> str:
        if not obj.team_id:
            return obj.name
        if self.team_labels is None:
            # The teams of the tags this field offers (the queryset keeps them once read).
            self.team_labels = team_naming.labels({tag.team for tag in self.queryset if tag.team_id})
        return f"{obj.name} (team {self.team_labels[obj.team_id]})"


class TagChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = TagChoiceField


class JobFilterForm(forms.Form):
    # Its widgets drawn by Django's Jinja2 templates of them (django/forms/jinja2/), like the
    # history's pages (config/jinja.py): the search box and the hidden fields come with every
    # page, and Django's template engine took 0.22 ms to draw them against 0.09. One renderer
    # for every form, made once. (Not the site's FORM_RENDERER: the admin's widgets have
    # templates in Django's language only.)
    default_renderer = Jinja2Renderer()

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


def bound_copy(filter_: django_filters.Filter, filterset: "JobFilter") -> django_filters.Filter:
    """The class's filter, copied for one filterset. django-filter deep-copies every filter
    with all it was declared with (choices, widgets) for each filterset: 0.4-0.7 ms of every
    history request. A filter keeps nothing of a request but its filterset and model, set on
    the copy; what it was declared with is shared and never changed (the viewer's choices go
    to the form's fields, __init__)."""
    bound = copy.copy(filter_)
    bound.model, bound.parent = Job, filterset
    if filter_.method is not None:
        bound.method = filter_.method  # its FilterMethod calls this copy's filterset, not None's
    return bound


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
    # The choices of the key, team and tag fields, and of the model, are the viewer's: declared
    # empty here, given to each form in __init__ (VIEWER_CHOICES).
    credential = KeyChoiceFilter(
        queryset=Credential.objects.none(), to_field_name="code", label="Key", empty_label="All keys"
    )
    team = TeamChoiceFilter(
        queryset=Team.objects.none(), to_field_name="slug", method="shared_with", label="Team", empty_label="All teams"
    )
    model = django_filters.ChoiceFilter(label="Model", empty_label="All models")
    has_error = CheckFilter(
        method="with_error",
        label="With an error",
        widget=forms.CheckboxInput(attrs={"value": "1"}),
    )
    # One exact message (the failed-count breakdown links to it): not typed, so hidden.
    error = django_filters.CharFilter(label="Error", max_length=2000, widget=forms.HiddenInput)
    # Whole days in the viewer's time zone, both ends inclusive.
    created_after = django_filters.DateFilter(
        method="after", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    created_before = django_filters.DateFilter(
        method="before", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    period = django_filters.ChoiceFilter(
        choices=PERIODS, method="within", label="Presets", empty_label="Any time", widget=forms.RadioSelect
    )
    # The viewer's own marks (app annotations): stars are personal; a tag is the viewer's
    # own or one of their teams'.
    starred = CheckFilter(method="starred_only", label="Starred only", widget=forms.CheckboxInput(attrs={"value": "1"}))
    tag = TagChoiceFilter(
        queryset=Tag.objects.none(), to_field_name="code", method="tagged", label="Tag", empty_label="Any tag"
    )
    # The order (history.sorting), kept in the form so that filtering keeps it; the list's
    # "Sort" menu and the table's headers link to it.
    sort = django_filters.ChoiceFilter(
        choices=sorting.CHOICES, method="sorted_by", label="Sort", widget=forms.HiddenInput
    )

    class Meta:
        model = Job
        form = JobFilterForm
        fields = [
            "q",
            "provider",
            "kind",
            "status",
            "model",
            "credential",
            "team",
            "has_error",
            "error",
            "created_after",
            "created_before",
            "period",
            "starred",
            "tag",
            "sort",
        ]

    # Each choice field's options for the person asking.
    VIEWER_CHOICES = {"credential": _visible_credentials, "team": _my_teams, "tag": _my_tags}

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, min_search: int = 1):
        """`queryset`: the jobs to filter; by default the ones the request's person may see,
        built only when asked for (a next page reads its rows key by key, history.views).
        `min_search`: the shortest search term taken; a shorter one is a form error. The
        list, asked on every keystroke, takes no term that no trigram index answers (each
        would scan a whole history, a crafted URL included); an export, asked once, does."""
        # django_filters.FilterSet.__init__, but for its copy of the filters (see bound_copy).
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self._queryset = queryset  # None: the person's visible jobs, when first asked for
        self.request = request
        self.form_prefix = prefix
        self.filters = {name: bound_copy(filter_, self) for name, filter_ in self.base_filters.items()}
        user = request.user if request is not None else None
        fields = self.form.fields
        for name, choices in self.VIEWER_CHOICES.items():
            fields[name].choose_from(functools.partial(choices, request))
        fields["tag"].viewer = user
        fields["model"].choices = CallableChoiceIterator(once(lambda: self._model_choices(user)))
        if min_search > 1:
            fields["q"].validators.append(MinLengthValidator(min_search, SHORT_SEARCH))
        # How a search narrowed the jobs, once `qs` is built: history.views reads pages by it.
        self.search_plan = search.Plan()
        self._searched = None  # the term search_plan was made for
        self._marked_jobs = None  # the viewer's jobs whose tags or note match it
        self._marks_walked, self.marks_walk = False, None  # see filter_queryset()
        self.summaries_read: dict = {}  # the page's counts and strip, read at once (history.dashboard)

    def _model_choices(self, user) -> list[tuple[str, str]]:
        if user is None:
            return []
        # The keys that the key field offers (read once for both when the form is drawn).
        keys = [key.pk for key in self.form.fields["credential"].queryset]
        return [(name, name) for name in visible_models(user, keys)]

    @property
    def queryset(self):
        if self._queryset is None:
            self._queryset = Job.objects.visible_to(self.request.user)
        return self._queryset

    @queryset.setter
    def queryset(self, jobs):
        self._queryset = jobs

    def get_form_class(self):
        """One form class for the process rather than one per request: django-filter makes a
        class and every field of it for each filterset (1.3 ms of a 13 ms rows fragment,
        bench/pages_bench.py). Nothing in it is the viewer's: their choices are given to each
        form in __init__."""
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def search(self, queryset, name, value):
        """Title, prompt, file name (Munsit's jobs are titled by it) and external id; and the
        viewer's own tag names and notes (annotations.search)."""
        value = value.strip()
        if not value:
            return queryset
        # The list filters twice (history.views.page_rows): the index is asked once.
        plan = self.search_plan if self._searched == value else None
        if plan is None:
            self._marked_jobs = annotation_search.marked_jobs(self.request.user if self.request else None, value)
        queryset, self.search_plan = search.search(queryset, value, plan, also=self._marked_jobs)
        self._searched = value
        return queryset

    def shared_with(self, queryset, name, team):
        return queryset.filter(credential__shares__team=team)

    def with_error(self, queryset, name, wanted):
        """Jobs whose provider said what went wrong: not a succeeded job's message (Munsit
        fills `error` on those too, and the pages leave it out)."""
        return queryset.exclude(error="").exclude(status=Job.Status.SUCCEEDED) if wanted else queryset

    def within(self, queryset, name, period):
        return queryset.filter(created__gte=period_start(period))

    def sorted_by(self, queryset, name, value):
        return queryset.order_by(*sorting.get(value).ordering())

    def filter_queryset(self, queryset, *, marks_walked: bool = False):
        """`marks_walked`: the caller walks the jobs by date through the links of the first
        mark filter in use (`marks_walk`: history.sorting.walks), so that filter leaves
        the jobs to the walk rather than narrowing them here."""
        self._marks_walked, self.marks_walk = marks_walked, None
        try:
            return super().filter_queryset(queryset)
        finally:
            self._marks_walked = False

    def _marked(self, queryset, links, relation: str, condition: Q):
        """The jobs with one of these links (stars or tag links): read from the links (a
        person marks a small part of a history) rather than walking the history for them.
        For a walk by date, the links' own index in the jobs' date order (sorting.walks)."""
        self.search_plan.per_key = False
        if self._marks_walked and self.marks_walk is None:
            self.marks_walk = sorting.Through(relation, condition)
            return queryset
        return queryset.filter(pk__in=links.values("job_id"))

    def starred_only(self, queryset, name, value):
        """The viewer's starred jobs."""
        if not value:
            return queryset
        user = self.request.user
        return self._marked(queryset, Star.objects.filter(user=user), "stars", Q(stars__user=user))

    def tagged(self, queryset, name, tag):
        """Jobs with the tag; a team's tag only on jobs shared with that team (where its
        members see it)."""
        if tag.team_id:
            queryset = queryset.filter(credential__in=Share.objects.filter(team_id=tag.team_id).values("credential_id"))
        return self._marked(queryset, JobTag.objects.filter(tag=tag), "tag_links", Q(tag_links__tag=tag))

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
            if self.data.get(name, "").strip()
            and name not in self.form.errors
            and not (name == "sort" and self.data[name] == sorting.DEFAULT.value)
        }

    def rendering_digest(self, names: list[str]) -> str:
        """Changes whenever the markup of these fields would: their values, errors and choices
        (the viewer's keys, teams, tags and models, read here). The list caches the rendered
        "More filters" under it: Django's widget templates made that grid a quarter of the
        full page's CPU (12 ms of 50, bench/pages_bench.py)."""
        self.is_valid()
        shown = []
        for name in names:
            field = self.form[name]
            choices = getattr(field.field, "choices", ())
            if isinstance(field.field, forms.ModelChoiceField):
                # Read from the queryset itself: the choices' iterator reads through a
                # server-side cursor on PostgreSQL (a held cursor and three round trips each).
                model_field = field.field
                choices = [
                    (model_field.prepare_value(obj), model_field.label_from_instance(obj))
                    for obj in model_field.queryset
                ]
            shown.append(
                (name, field.value(), self.form.errors.get(name), [(str(v), str(label)) for v, label in choices])
            )
        return hashlib.blake2b(repr(shown).encode(), digest_size=12).hexdigest()

    @property
    def values_decide_plans(self) -> bool:
        """Whether the best plan for the list depends on the filters' values, not only on which
        filters are set (core.sql.planned_each_time): how common a search's words are, how
        many of the viewer's jobs a star or tag filter keeps."""
        self.is_valid()
        chosen = getattr(self.form, "cleaned_data", {})
        return bool(chosen.get("q") or chosen.get("starred") or chosen.get("tag"))

    def planned(self):
        """The block in which this filter's statements run (the list's walks and counts, a
        bulk selection, an export's size, a zip's jobs): planned each time for their values
        when values_decide_plans, else prepared like any other (core.sql.planned_each_time)."""
        return core_sql.planned_each_time(self.values_decide_plans, using=self.queryset.db)

    @property
    def order(self) -> sorting.Sort:
        """The order asked for: the default when none is, or when the one asked is unknown."""
        self.is_valid()
        return sorting.get(getattr(self.form, "cleaned_data", {}).get("sort"))
