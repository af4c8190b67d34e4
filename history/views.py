import functools
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.exceptions import EmptyResultSet, PermissionDenied
from django.db.models import BooleanField, ExpressionWrapper, F
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from annotations import access as annotation_access
from annotations.views import panel_context as marks_context
from archive.display import attach as attach_archive
from core import sql as core_sql
from core.pages import render_page
from core.redirects import posted_next
from preferences.history import display_for
from preferences.history import header as table_header
from preferences.history import menu as columns_menu
from preferences.models import HistoryPreferences
from providers.http import ProviderError
from providers.models import Credential
from public_links.views import card_context as public_link_card
from saved_views import access as saved_view_access
from saved_views import query as saved_view_query
from saved_views import tabs as saved_view_tabs
from teams import access, audit

from . import (
    actions,
    bulk_actions,
    dashboard,
    error_breakdown,
    export_jobs,
    more_filters,
    notices,
    row_cache,
    search,
    sorting,
)
from .filters import JobFilter
from .forms import ImportForm, RenameForm, rejected_text
from .importer import import_task_ids
from .lineage import lineage
from .models import Export, Job, SyncRun
from .presentation import facts, lyrics, media, parameters, pretty_json, timeline
from .sorting import list_url
from .tasks import enqueue_sync

PAGE_SIZE = 50
# The filter form targets this element: its answer is the page's body, not just rows.
RESULTS_TARGET = "history-results"
# The 30-day strip's fold posts to the preferences and gets the strip back from here.
STRIP_TARGET = "dash"
# More visible keys than this, and one walk down the whole history by date beats a walk per key.
MAX_KEY_WALKS = 50


@vary_on_headers("HX-Request", "HX-Target")
def job_list(request):
    filters = JobFilter(request.GET or None, request=request, min_search=search.TRIGRAM)
    params = filters.valid_data()
    sort = filters.order
    display = display_for(request)
    # What every link of the page keeps (a next page, a chip's removal, a sort, an error, a
    # day of the strip): the filters, a layout the address asked for, and the saved view
    # opened, as the filter form does (saved_views.query.marker: without JavaScript its tab
    # stays the current one). "Clear all" alone keeps none: it means "All jobs".
    links = {**params, **display.params, **saved_view_query.marker(request.GET)}
    if request.htmx and request.htmx.target == STRIP_TARGET:
        # The strip just folded or unfolded (preferences.views.strip redirects here): itself alone.
        own = Credential.objects.owned_by(request.user)
        context = {**strip_context(request, filters, links, own), "params": params}
        return render(request, "history/dashboard.html", context, using="jinja2")
    cursor_value = request.GET.get("cursor", "")
    cursor = sorting.parse_cursor(sort, cursor_value) if cursor_value else None
    fragment = request.htmx and not request.htmx.history_restore_request
    # A next page, a poll, or any other htmx request but the filter form's: the rows only.
    rows_only = fragment and request.htmx.target != RESULTS_TARGET
    keys = visible_keys(request.user, whole=not rows_only)
    # The filtered statements (the page's walks, the full page's counts) in filters.planned();
    # the rest (the person, the keys, the rows' marks) is prepared as always.
    with filters.planned():
        page = page_rows(filters, cursor, keys)
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    context = {
        "filters": filters,
        "sort": sort,
        "rows": row_cache.rows_html(request, page, display),
        "next_url": list_url({**links, "cursor": sorting.make_cursor(sort, page[-1])}) if more else "",
        "after_cursor": bool(cursor),
        "params": params,
        "display": display,
        # The table's columns with the selection column first.
        "colspan": len(display.columns) + 1,
    }
    if rows_only:  # nothing counted
        return render(request, "history/rows.html", context, using="jinja2")
    with filters.planned():
        context.update(page_context(request, filters, params, links, owned(keys, request.user), any_rows=bool(page)))
    context["bad_cursor"] = bool(cursor_value) and cursor is None
    context["first_url"] = list_url(links)
    context["active_filters"] = active_filters(filters, params, links)
    if display.table:
        context["header"] = table_header(display, sorting.headers(links))
        context["columns_menu"] = columns_menu(display.columns)
    if fragment:
        # The filter form: the results region, and a clean URL for the address bar (without
        # the view's marker: static/js/saved_views.js marks the tab by what is on screen).
        response = render(request, "history/results.html", context, using="jinja2")
        response["HX-Push-Url"] = list_url({**params, **display.params})
        return response
    context.update(more_filters.page_context(request, filters, params, links))
    if context["has_any_job"]:
        context["tabs"] = saved_view_tabs.context(request, context["memberships"], params)
    return render_page(request, "history/list.html", context, title="History", page_class="page-history")


def visible_keys(user, *, whole: bool = True) -> list[Credential]:
    """Every key whose history the person sees, with its owner, in one query: the keys the
    page walks (keys_to_walk) and, among them, the person's own (the full page's sync menu,
    summary and balances: Credential.objects.owned_by() is the first half of the rule).
    Not `whole`: only what the walks and the rows use (a key's provider and label; the rest
    deferred, read if ever asked for). Each key's owner comes with their name only (the rest
    of the person deferred likewise)."""
    if not user.is_authenticated:
        return []
    alias, person = Credential.objects.db, get_user_model()
    sql, params, slots = _visible_keys_statement(alias, whole)
    keys = list(Credential.objects.raw(sql, core_sql.filled(params, slots, user.pk)))
    for key in keys:
        key.owner = person.from_db(alias, ["id", person.USERNAME_FIELD], [key.owner_id, key.owner_name])
    return keys


@functools.cache
def _visible_keys_statement(alias: str, whole: bool) -> tuple[str, tuple, frozenset[int]]:
    """visible_keys()'s statement, compiled once for a stand-in person (core.sql.compiled)."""
    keys = Credential.objects.using(alias).history_visible_to(core_sql.someone()).order_by("pk")
    keys = keys.annotate(
        owner_name=F(f"owner__{get_user_model().USERNAME_FIELD}"),
        # Whether the person may "Refresh now" its unfinished jobs: no query per key for the rows.
        refreshable=ExpressionWrapper(access.refreshes_key(core_sql.STAND_IN), output_field=BooleanField()),
    )
    if not whole:
        keys = keys.only("owner_id", "provider", "label")
    return core_sql.compiled(keys)


def owned(keys: list[Credential], user) -> list[Credential]:
    """The person's own among the visible keys, in the keys' own order (Credential.Meta.ordering,
    as Credential.objects.owned_by() gives them): visible_keys() reads them by id."""
    return sorted((key for key in keys if key.owner_id == user.pk), key=lambda key: (key.provider, key.label))


def keys_to_walk(filters: JobFilter, keys: list[Credential]) -> dict[int, Credential]:
    """The visible keys that can hold a job matching the filters, by id: the filters on the
    provider, the key and the team rule whole keys out (a walk down a key that holds no match
    would read all of it)."""
    chosen = {}
    if filters.is_bound:
        filters.is_valid()  # cleans the form: fields in error stay out of cleaned_data, as filters.qs ignores them
        chosen = filters.form.cleaned_data
    provider, picked, team = chosen.get("provider"), chosen.get("credential"), chosen.get("team")
    shared = set(team.shares.values_list("credential_id", flat=True)) if team else set()
    return {
        key.pk: key
        for key in keys
        if (not provider or key.provider == provider)
        and (picked is None or key.pk == picked.pk)
        and (team is None or key.pk in shared)
    }


def page_rows(filters: JobFilter, cursor: sorting.Cursor | None, keys: list[Credential]) -> list[Job]:
    """The first PAGE_SIZE + 1 visible jobs that match the filters, after the cursor, in the
    filters' order (history.sorting; newest first by default): one query, whatever the depth.

    Neither SQLite nor PostgreSQL merges the per-key ranges of an index on (credential,
    created, id) for `credential IN (…) ORDER BY created`: they read every visible job and sort
    them (100,000 for a busy person), or walk the whole table by date past other people's jobs,
    which is slow deep down. So the page is read key by key: the first PAGE_SIZE + 1 of each
    visible key (a short walk down job_history_by_key, or its kind, status and model variants,
    or the sort's own indexes, from the cursor), merged. A search that a trigram index answers
    better (history.search), or a person who sees very many keys, takes one walk over all the
    keys; so do the star and tag filters, which walk the person's stars or the tag's links by
    their copy of the jobs' dates when the list is sorted by date (sorting.Through).

    The visible keys (`keys`: visible_keys(), the rule that Job.objects.visible_to() applies as
    a subquery) are fetched once and given as literal ids:
    with the subquery, PostgreSQL's planner cannot tell how many jobs the keys hold and reads
    a busy key's jobs whole, and its row estimates for the outer joins collapse."""
    key_of = keys_to_walk(filters, keys)  # validates the form
    keys = list(key_of)
    matching = Job.objects.all()  # each walk names its keys (once: PostgreSQL would count them twice)
    sort = filters.order
    if filters.is_bound:
        # Makes the search plan; a star or tag filter is walked by date (sorting.walks).
        matching = filters.filter_queryset(matching, marks_walked=sort.field == "created")
    if not keys:
        return []
    per_key = filters.search_plan.per_key and len(keys) <= MAX_KEY_WALKS
    statements = []
    visible = matching.filter(credential_id__in=[core_sql.STAND_IN] if per_key else keys)
    for walk in sorting.walks(sort, visible, cursor, filters.marks_walk):
        try:
            statements.append(core_sql.compiled(walk.values("pk", value=F(sort.field))[: PAGE_SIZE + 1]))
        except EmptyResultSet:  # a search that matched nothing
            return []
    # Every key's walk is the same statement but for the key: compiled once (compiling is
    # most of a page's CPU once rows come from the cache), the key put in its place.
    parts, params = [], []
    for key in keys if per_key else [None]:
        for sql, walk_params, slots in statements:
            parts.append(f"SELECT * FROM ({sql}) AS walk{len(parts)}")  # noqa: S608 (see below)
            params.extend(core_sql.filled(walk_params, slots, key))
    # Raw SQL only to join the walks and take the page's ids from them by (value, id), which
    # both databases do from the walks' own columns, before reading any job's row: read whole,
    # the 9 to 18 walks' 450 to 900 rows cost PostgreSQL 2 to 4 ms (QuerySet.union() refuses
    # ordered, sliced parts on SQLite, which takes them inside subqueries). Each part is SQL
    # that Django compiled, with every value a parameter.
    way = "DESC" if sort.descending else "ASC"
    newest = (
        f"SELECT pk FROM ({' UNION ALL '.join(parts)}) AS walks "  # noqa: S608 (see above)
        f"ORDER BY value {way} NULLS LAST, pk {way} LIMIT {PAGE_SIZE + 1}"
    )
    before, after, first, last = _page_statement(matching.db, sort.value, PAGE_SIZE + 1)
    rows = list(Job.objects.raw(before + newest + after, [*first, *params, *last], using=matching.db))
    for job in rows:
        # Each key made once (select_related() would make a key and a person per job: a
        # quarter of a page's CPU).
        job.credential = key_of[job.credential_id]
    return rows


@functools.cache
def _page_statement(alias: str, sort_value: str, limit: int) -> tuple[str, str, tuple, tuple]:
    """The statement that reads a page's jobs, in a sort, by the ids its walks chose (page_rows),
    compiled once: the SQL before and after the walks', and the parameters of each (Django's
    compiler costs a quarter of a millisecond each time for this one statement, whose shape
    only the sort changes). It reads what a cached row needs (row_cache.LIGHT_FIELDS, with the
    database's digest of the rest); a row to render is read whole then (row_cache.complete)."""
    marker = "SELECT walks_here"
    rows = Job.objects.using(alias).filter(pk__in=RawSQL(marker, ()))  # noqa: S611 (a constant)
    rows = row_cache.with_digest(rows.only(*row_cache.LIGHT_FIELDS)).order_by(*sorting.get(sort_value).ordering())
    sql, params = rows[:limit].query.get_compiler(using=alias).as_sql()
    before, after = sql.split(marker)
    slots = before.count("%s")
    return before, after, tuple(params[:slots]), tuple(params[slots:])


def page_context(
    request, filters: JobFilter, params: dict[str, str], links: dict[str, str], own: list[Credential], any_rows: bool
) -> dict:
    """What the results region shows around the rows (the filter form's answer; the full
    page adds the filter form's fold, history.more_filters): counts, dashboard, keys and
    syncs. `links` are the parameters its links keep (job_list), `own` the person's keys."""
    user = request.user
    # The person's teams and roles, for the tabs of saved views and the bulk bar's team tags.
    members = saved_view_access.memberships(user)
    # Read when drawn: the full page's notices, and the results' empty states (1.4 ms that a
    # filtered list with rows never needs).
    summary = SimpleLazyObject(lambda: notices.notices(own, HistoryPreferences.for_request(request).dismissed_notices))
    dashboard.read_ahead(user, filters)
    facets = dashboard.facet_options(dashboard.facet_counts(filters, user), params)
    failed = next(option["count"] for option in facets["status"] if option["value"] == Job.Status.FAILED)
    return {
        "facets": facets,
        "matching": next(option["count"] for option in facets["status"] if option["checked"]),
        # Among the failed jobs the list shows: none when another status is chosen.
        "errors": error_breakdown.top_errors(filters, user, links)
        if failed and params.get("status", Job.Status.FAILED) == Job.Status.FAILED
        else [],
        "sorts": sorting.menu(links),
        **strip_context(request, filters, links, own),
        "export_query": urlencode(params),
        "own_keys": own,
        "notices": summary,
        "usable_keys": [key for key in own if key.usable],
        "active_runs": lambda: summary.active,
        "has_any_job": bool(params) or any_rows or Job.objects.visible_to(user).exists(),
        "min_search": search.TRIGRAM,
        "bulk_tags": bulk_actions.tag_choices(members),
        "memberships": members,
    }


def strip_context(request, filters: JobFilter, links: dict[str, str], own) -> dict:
    """The 30-day strip (its days linked to their jobs, with what the page's links keep) with
    the balances of the person's own keys (a teammate's balance is theirs, not the team's), or
    only its fold when the person folded it away: a folded strip is not computed at all (its
    GROUP BY is the full page's dearest query)."""
    if HistoryPreferences.for_request(request).strip_folded:
        return {"strip_folded": True, "dash": None}
    return {
        "strip_folded": False,
        "dash": dashboard.dashboard(filters, request.user).linked(links),
        "balance_keys": [key for key in own if key.balance_amount is not None],
    }


def active_filters(filters: JobFilter, params: dict[str, str], links: dict[str, str]) -> list[dict]:
    """The filters in effect, each with the URL of the list without it: what the page's links
    keep (`links`: the filters, the layout, the view opened), less that filter."""
    chips = []
    for name, value in params.items():
        if name == "sort":  # an order, not a filter: the "Sort" menu shows it
            continue
        field = filters.form.fields[name]
        shown = value
        if name in ("provider", "kind", "status", "period"):
            shown = dict(field.choices).get(value, value)
        elif name in ("has_error", "starred"):
            shown = "yes"
        elif name == "error":
            shown = error_breakdown.short(value)
        elif name in ("credential", "team", "tag"):
            picked = filters.form.cleaned_data.get(name)
            shown = field.label_from_instance(picked) if picked is not None else value
        chips.append(
            {
                "name": name,
                "label": field.label,
                "value": shown,
                "url": list_url({k: v for k, v in links.items() if k != name}),
            }
        )
    return chips


def _visible_job(request, code, *, for_row: bool = False, for_page: bool = False) -> Job:
    """The job if the person may see it, else 404; `for_row`: with its row's digest
    (row_cache.with_digest), for an answer that is its row; `for_page`: with its public link
    (a join: its owner's card, public_links.views.card_context), for its page or panel."""
    jobs = Job.objects.visible_to(request.user).select_related("credential__owner")
    if for_row:
        jobs = row_cache.with_digest(jobs)
    if for_page:
        jobs = jobs.select_related("public_link")
    job = get_object_or_404(jobs, code=code)
    attach_archive([job])
    return job


def job_row(request, code):
    """One row of the list, for an unfinished row's poll: 204 while nothing changed."""
    job = _visible_job(request, code, for_row=True)
    if request.GET.get("v") == row_cache.row_version(job):
        return HttpResponse(status=204)
    return HttpResponse(row_cache.rows_html(request, [job])[0])


def detail_context(request, job: Job, rename_form: RenameForm | None = None) -> dict:
    """What a job's page shows (templates/jinja2/history/panel.html), each piece computed once."""
    user = request.user
    can_act = access.can_act(user, job)
    seeing = annotation_access.roles_seeing(user, job)
    return {
        "job": job,
        "details": job.details if isinstance(job.details, dict) else {},
        "m": media(job),
        "lines": lyrics(job),
        "params": parameters(job),
        "facts": facts(job),
        "timeline": timeline(job),
        "raw_record": pretty_json(job.raw),
        "can_refresh": not job.finished and access.can_refresh(user, job, roles=seeing.values()),
        "offers": {name: can_act and actions.offers(job, name) for name in ("rename", "delete", "retry")},
        "rename_form": rename_form or RenameForm(initial={"name": job.title}),
        "teams": list(seeing),
        "mine": job.credential.owner_id == user.pk,
        "due": job.next_poll is not None and job.next_poll <= timezone.now(),
        "lineage": lineage(job, user),
        "public_link": public_link_card(request, job),
        **marks_context(request, job, seeing=seeing),
    }


def _job_page(request, job: Job, rename_form: RenameForm | None = None, status: int = 200):
    """The job's page: a Jinja2 body (history/detail.html) in the site's frame."""
    context = detail_context(request, job, rename_form)
    title = f"{job.title or job.external_id} · History"
    return render_page(request, "history/detail.html", context, title=title, page_class="page-job", status=status)


def job_detail(request, code):
    return _job_page(request, _visible_job(request, code, for_page=True))


# --- actions ----------------------------------------------------------------------------


def _job_for_action(request, code, action: str) -> Job:
    """404 for anyone who cannot see the job (or for an action its provider lacks), 403
    for those who see it but may not do this."""
    job = _visible_job(request, code)
    if action == "refresh":
        allowed = access.can_refresh(request.user, job)
    else:
        if not actions.offers(job, action):
            raise Http404(f"{job.get_provider_display()} offers no {action} at its API.")
        allowed = access.can_act(request.user, job)
    if not allowed:
        raise PermissionDenied
    return job


def _answer(request, job: Job, rename_form: RenameForm | None = None):
    """After an action: with htmx the updated row or job panel (the messages swapped into
    the page's live region, a rename form with its errors in place: htmx swaps only 2xx
    answers); without, back where the person came from, or the page with the form's errors."""
    if not request.htmx:
        if rename_form is not None:
            return _job_page(request, job, rename_form, status=400)
        return redirect(posted_next(request) or job.get_absolute_url())
    as_row = request.htmx.target == f"job-{job.code}"
    job = _visible_job(request, job.code, for_row=as_row, for_page=not as_row)  # as stored now
    if as_row:
        row = row_cache.rows_html(request, [job])[0]
        live = render_to_string("history/messages_oob.html", {"messages": get_messages(request)}, request, "jinja2")
        return HttpResponse(row + live)
    context = {**detail_context(request, job, rename_form), "oob": True, "messages": get_messages(request)}
    return render(request, "history/panel.html", context, using="jinja2")


@require_POST
def job_refresh(request, code):
    job = _job_for_action(request, code, "refresh")
    try:
        actions.refresh(request.user, job)
    except actions.ActionRefused as e:
        messages.error(request, e.message)
    else:
        messages.success(request, f"Asked {job.get_provider_display()} for the latest: this updates in a moment.")
    return _answer(request, job)


@require_POST
def job_rename(request, code):
    job = _job_for_action(request, code, "rename")
    form = RenameForm(request.POST)
    if not form.is_valid():
        return _answer(request, job, rename_form=form)
    try:
        messages.success(request, actions.rename(request.user, job, form.cleaned_data["name"]))
    except (actions.ActionRefused, ProviderError) as e:
        messages.error(request, f"Not renamed: {e}")
    return _answer(request, job)


@require_POST
def job_retry(request, code):
    job = _job_for_action(request, code, "retry")
    try:
        messages.success(request, actions.retry(request.user, job))
    except (actions.ActionRefused, ProviderError) as e:
        messages.error(request, f"Not retried: {e}")
    return _answer(request, job)


@require_http_methods(["GET", "POST"])
def job_delete(request, code):
    """GET: the confirmation page. POST: delete at the provider, then here."""
    job = _job_for_action(request, code, "delete")
    if request.method != "POST":
        return render(request, "history/delete.html", {"job": job})
    try:
        messages.success(request, actions.delete(request.user, job))
    except (actions.ActionRefused, ProviderError) as e:
        messages.error(request, f"Not deleted: {e}")
        return redirect(job)
    return redirect("history:list")


# --- exports and import -------------------------------------------------------------------


def _export(request, content_type: str, extension: str):
    """Small exports stream from here; large ones run in a worker (history/export_jobs.py)."""
    filters = JobFilter(request.GET or None, queryset=Job.objects.visible_to(request.user), request=request)
    if filters.is_bound and not filters.is_valid():
        return HttpResponseBadRequest(f"Bad filter: {filters.error_text}", content_type="text/plain; charset=utf-8")
    try:
        with filters.planned():
            started = export_jobs.start(request, filters.qs, extension, request.GET.urlencode())
    except export_jobs.Busy as busy:
        response = HttpResponse(
            "Another export of yours is under way: one at a time. Try again when it is done.",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(busy.retry_after)
        return response
    if isinstance(started, Export):
        return redirect(started)
    response = StreamingHttpResponse(started, content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="genboard-history-{stamp}.{extension}"'
    return response


# Exports hold a person's whole history: no browser or proxy cache keeps a copy (no-store).
@never_cache
def export_json(request):
    return _export(request, "application/json", "json")


@never_cache
def export_csv(request):
    return _export(request, "text/csv; charset=utf-8", "csv")


def import_tasks(request):
    form = ImportForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        credential, ids = form.cleaned_data["credential"], form.cleaned_data["task_ids"]
        fresh, known = import_task_ids(credential, ids)
        if fresh:
            messages.success(
                request, f"Importing {fresh:,} task{'s' if fresh != 1 else ''}: details arrive in a moment."
            )
        if known:
            messages.info(request, f"{known:,} already in your history: left as they are.")
        if form.repeated:
            messages.info(request, f"{form.repeated:,} repeated id{'s' if form.repeated != 1 else ''} counted once.")
        if form.rejected:
            count = len(form.rejected)
            messages.warning(
                request,
                f"Not imported: {count:,} {'entry is not a task id' if count == 1 else 'entries are not task ids'}: "
                + rejected_text(form.rejected),
            )
        return redirect(f"/history/?credential={credential.code}")
    return render(request, "history/import.html", {"form": form}, status=400 if form.is_bound else 200)


# --- syncing ------------------------------------------------------------------------------


@require_POST
def sync_now(request, code):
    credential = get_object_or_404(Credential.objects.owned_by(request.user), code=code)
    if not credential.usable:
        messages.error(request, "This key is not used until you enter it again.")
        return redirect(credential)
    run = enqueue_sync(credential, SyncRun.Trigger.MANUAL)
    audit.record(request.user, audit.Verb.KEY_SYNC, subject=credential)
    if request.htmx:
        return render(request, "history/sync_progress.html", {"run": run}, using="jinja2")
    messages.success(request, f"Syncing “{credential.label}”: new jobs appear in a moment.")
    return redirect(posted_next(request) or credential.get_absolute_url())


@require_POST
def sync_all(request):
    """Sync every usable key of yours now."""
    usable = [key for key in Credential.objects.owned_by(request.user).order_by("provider", "label") if key.usable]
    runs = []
    for credential in usable:
        runs.append(enqueue_sync(credential, SyncRun.Trigger.MANUAL))
        audit.record(request.user, audit.Verb.KEY_SYNC, subject=credential)
    if request.htmx:
        return render(request, "history/sync_runs.html", {"runs": runs, "asked": True}, using="jinja2")
    if runs:
        keys = f"{len(runs)} key{'s' if len(runs) != 1 else ''}"
        messages.success(request, f"Syncing {keys}: new jobs appear in a moment.")
    else:
        messages.error(request, "None of your keys can be synced: add one, or enter a rejected one again.")
    return redirect("history:list")


def sync_progress(request, code):
    """The progress of one sync; the fragment keeps polling itself while the run is active."""
    run = get_object_or_404(SyncRun.objects.select_related("credential"), code=code, credential__owner=request.user)
    return render(request, "history/sync_progress.html", {"run": run}, using="jinja2")
