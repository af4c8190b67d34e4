"""How a person's history is shown: cards or a dense table, and which table columns in what
order. Kept in HistoryPreferences; the `layout` URL parameter overrides the kept layout for
one address (so a saved view or a shared link carries it).

The column ids are the ones issue 14's plan names: every part that adds to the table (the
selection checkbox, tags) reads and writes them.
"""

from dataclasses import dataclass

from .models import HistoryPreferences

LAYOUTS = {value for value, _ in HistoryPreferences.Layout.choices}


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    # The `sort` parameter's name for it (history.sorting), if the table sorts by it.
    sort: str = ""
    numeric: bool = False


# Every column the table can show, in the order the Columns menu first lists them.
COLUMNS = {
    c.id: c
    for c in [
        # The viewer's star toggle (app annotations; the rows' DOM contract: K's `s` clicks it).
        Column("star", "Star"),
        Column("status", "Status"),
        Column("title", "Title"),
        Column("provider", "Provider"),
        Column("model", "Model"),
        Column("kind", "Kind"),
        Column("key", "Key"),
        Column("created", "Created", sort="created"),
        Column("completed", "Completed", sort="completed"),
        Column("duration", "Duration", sort="duration", numeric=True),
        Column("credits", "Credits", sort="credits", numeric=True),
        Column("play", "Play"),
        # The viewer's tags on the job (their own, their teams') and a mark for their note.
        Column("tags", "Tags"),
    ]
}
DEFAULT_COLUMNS = (
    *("star", "status", "title", "provider", "model", "kind"),
    *("key", "created", "duration", "credits", "play"),
)
# The title holds the row's link to the job page (the rows' DOM contract: a.job-link): always shown.
REQUIRED = "title"
# The selection checkbox's column, always first and not in the menu (history/bulk_actions.py fills it).
SELECT = "select"


def clean_columns(ids: list[str]) -> tuple[list[str], list[str]]:
    """The known column ids in the order given, each once, with the title; and the unknown
    ids that were dropped."""
    known, unknown = [], []
    for column in ids:
        if column in COLUMNS:
            if column not in known:
                known.append(column)
        elif column != SELECT:
            unknown.append(column)
    if REQUIRED not in known:
        known.insert(0, REQUIRED)
    return known, unknown


@dataclass(frozen=True)
class Display:
    """What one answer of the history shows."""

    layout: str
    # The table's columns (without the selection column), in order; empty for cards.
    columns: tuple[str, ...]
    # The layout came from the URL (so the page's own links carry it on).
    from_url: bool = False

    @property
    def table(self) -> bool:
        return self.layout == HistoryPreferences.Layout.TABLE

    @property
    def key(self) -> str:
        """The part of a rendered row's cache key that this display decides."""
        return f"table={','.join(self.columns)}" if self.table else "cards"

    @property
    def params(self) -> dict[str, str]:
        """What the history's own links carry on to keep this display."""
        return {"layout": self.layout} if self.from_url else {}


def saved_columns(prefs: HistoryPreferences) -> tuple[str, ...]:
    return tuple(clean_columns(prefs.columns)[0]) if prefs.columns else DEFAULT_COLUMNS


def display_for(request) -> Display:
    """The layout the address asks for, else the person's own; the columns they keep. Reads
    the person's preferences at most once per request (one small query)."""
    asked = request.GET.get("layout", "")
    if asked == HistoryPreferences.Layout.CARDS:
        return Display(asked, (), from_url=True)
    prefs = HistoryPreferences.for_request(request)
    if asked in LAYOUTS:
        return Display(asked, saved_columns(prefs), from_url=True)
    if prefs.layout == HistoryPreferences.Layout.TABLE:
        return Display(prefs.layout, saved_columns(prefs))
    return Display(HistoryPreferences.Layout.CARDS, ())


def menu(columns: tuple[str, ...]) -> list[dict]:
    """The Columns menu: the shown columns in their order, then the others."""
    shown = [COLUMNS[c] for c in columns]
    hidden = [c for c in COLUMNS.values() if c.id not in columns]
    return [{"column": c, "shown": c.id in columns, "required": c.id == REQUIRED} for c in shown + hidden]


def moved(order: list[str], move: str) -> list[str]:
    """The order with one column moved a place: `move` is "up:<id>" or "down:<id>"."""
    direction, _, column = move.partition(":")
    if column not in order or direction not in ("up", "down"):
        return order
    order = list(order)
    at = order.index(column)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(order):
        order[at], order[to] = order[to], order[at]
    return order


def header(display: Display, sort_headers: dict[str, dict]) -> list[dict]:
    """The table's header cells: each column's name and, for the sortable ones, the link that
    sorts by it and its aria-sort, from `sort_headers` ({url, aria_sort} by sort column, as
    history.sorting.headers makes them)."""
    unsorted = {"url": "", "aria_sort": ""}
    return [{"column": COLUMNS[c], **sort_headers.get(COLUMNS[c].sort, unsorted)} for c in display.columns]
