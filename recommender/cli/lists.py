"""``newsrec related`` and ``newsrec like``: an article's or a draft's lists, as a table or JSON.

Both compute the lists here, or ask a running service for them with ``--server URL`` (or
``$NEWSREC_SERVER``): then no index is opened and no model loaded, which makes ``like`` answer
in a fraction of a second instead of loading the model first. The service's key, when it needs
one, is ``NEWSREC_READ_KEY`` (or ``NEWSREC_API_KEY``), as in its own settings.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from recommender.cli.app import (
    HomeOption,
    KOption,
    app,
    console,
    fail,
    open_engine,
    settings_for,
)
from recommender.ranking.scoring import WeightError, Weights, weight_names
from recommender.serving.engine import UnknownArticle
from recommender.serving.facets import UnknownFilterValue
from recommender.serving.requests import (
    DEFAULT_LISTS,
    ListRequest,
    parse_field_filters,
    parse_lists,
)
from recommender.serving.views import lists_view
from recommender.settings import Settings

if TYPE_CHECKING:
    from service.client import Client
    from service.client.calls import ListQuery
    from service.schemas import RelatedOut

ListsOption = Annotated[
    str,
    typer.Option(help="The lists to show, comma-separated: more_like_this, related, popular."),
]
ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="NEWSREC_SERVER",
        help="Ask the newsrec service at this URL (e.g. http://127.0.0.1:8000) instead of "
        "opening the home; its key is NEWSREC_READ_KEY or NEWSREC_API_KEY.",
        show_default=False,
    ),
]

# The filters, shared by ``related`` and ``like`` (Typer reads list defaults, never mutates them).
SectionOption = Annotated[
    list[str], typer.Option(help="Only items from this section (repeatable).")
]
ExcludeSectionOption = Annotated[
    list[str], typer.Option(help="No items from this section (repeatable).")
]
LanguageOption = Annotated[str | None, typer.Option(help="Only items in this language.")]
AuthorOption = Annotated[list[str], typer.Option(help="Only items by this author (repeatable).")]
KindOption = Annotated[
    list[str], typer.Option(help="Only items of this kind: news, opinion, ... (repeatable).")
]
TagOption = Annotated[
    list[str], typer.Option(help="Only items with this tag (repeatable: any of them).")
]
FieldOption = Annotated[
    list[str],
    typer.Option(help="Only items whose field NAME has VALUE, NAME=VALUE (repeatable)."),
]


@dataclass(frozen=True)
class _Filters:
    """The filter options of a list command, as given: made into the engine's request, or
    passed to the service as they are."""

    section: list[str]
    exclude_section: list[str]
    language: str | None
    author: list[str]
    kind: list[str]
    tag: list[str]
    field: list[str]

    def request(self, k: int, lists: str, **more: Any) -> ListRequest:
        """The engine's request for ``k`` items in each of ``lists``, with ``more`` of its
        fields (max age, exclusions, weights, explain).

        Raises:
            ValueError: a list name or a ``--field`` that is not ``NAME=VALUE``.
        """
        shown = parse_lists(lists)
        return ListRequest(
            k_more=k if "more_like_this" in shown else 0,
            k_related=k if "related" in shown else 0,
            k_popular=k if "popular" in shown else 0,
            sections=frozenset(self.section),
            exclude_sections=frozenset(self.exclude_section),
            language=self.language,
            authors=frozenset(self.author),
            kinds=frozenset(self.kind),
            tags=frozenset(self.tag),
            fields=parse_field_filters(self.field),
            **more,
        )

    def query(self, request: ListRequest) -> ListQuery:
        """The same options for the service: the request's list sizes and these filters."""
        return {
            "k_more": request.k_more,
            "k_related": request.k_related,
            "k_popular": request.k_popular,
            "section": self.section,
            "exclude_section": self.exclude_section,
            "language": self.language,
            "author": self.author,
            "kind": self.kind,
            "tag": self.tag,
            "field": self.field,
            "explain": request.explain,
        }


def _print_lists(view: dict[str, Any], as_json: bool, explain: bool) -> None:
    """Print lists in the JSON shape of the API (``lists_view``, or a service's answer)."""
    if as_json:
        console.print_json(json.dumps(view, ensure_ascii=False))
        return
    source = view["article"]
    if source is not None:
        when = (source["published_at"] or "undated")[:10]
        where = f"{source['id']}, {source['section'] or '-'}, {when}"
        console.print(f"[bold]{source['title']}[/bold]  ({where})")
    short: dict[str, str] = view.get("short") or {}
    shown = (
        ("More like this", "more_like_this"),
        ("Related", "related"),
        ("Popular", "popular"),
    )
    for name, key in shown:
        items: list[dict[str, Any]] = view.get(key) or []
        if not items and key not in short:
            continue  # a list not asked for
        title = name + (f" (short: {short[key]})" if key in short else "")
        table = Table(title=title, title_justify="left", expand=False)
        for column in ("#", "id", "title", "date", "section", "score"):
            table.add_column(column, overflow="fold")
        if explain:
            table.add_column("why", overflow="fold")
        for rank, item in enumerate(items, start=1):
            why = item.get("explanation") or {}
            row = [
                str(rank),
                item["id"],
                item["title"],
                (item["published_at"] or "")[:10],
                item["section"] or "",
                f"{item['score']:.3f}" + (" pinned" if why.get("pinned") else ""),
            ]
            if explain:
                parts = " + ".join(f"{k} {v:.3f}" for k, v in (why.get("parts") or {}).items())
                shared = ", ".join(why.get("shared_terms") or ())
                row.append(parts + (f"; shares: {shared}" if shared else ""))
            table.add_row(*row)
        console.print(table)
    missing = view["signals_missing"]
    console.print(
        f"index {view['index_version']}"
        + (f"; missing signals: {', '.join(missing)}" if missing else ""),
        style="dim",
    )


@app.command()
def related(
    article_id: Annotated[str, typer.Argument(help="The source article's id.")],
    k: KOption = 5,
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, as the HTTP API.")] = False,
    explain: Annotated[
        bool, typer.Option(help="Show each score's parts and the terms shared with the source.")
    ] = False,
    section: SectionOption = [],  # noqa: B006 - Typer reads the default, it is never mutated
    exclude_section: ExcludeSectionOption = [],  # noqa: B006
    language: LanguageOption = None,
    max_age: Annotated[
        float | None, typer.Option(min=0.0, help="Only items published at most D days ago.")
    ] = None,
    exclude: Annotated[
        list[str], typer.Option(help="Never show this article id (repeatable).")
    ] = [],  # noqa: B006
    weight: Annotated[
        list[str],
        typer.Option(
            "--weight",
            "-w",
            help=f"A weight for this request, NAME=VALUE (repeatable); names: {weight_names()}.",
        ),
    ] = [],  # noqa: B006
    lists: ListsOption = DEFAULT_LISTS,
    server: ServerOption = None,
    author: AuthorOption = [],  # noqa: B006
    kind: KindOption = [],  # noqa: B006
    tag: TagOption = [],  # noqa: B006
    field: FieldOption = [],  # noqa: B006
) -> None:
    """Show More like this, Related and Popular for a published article (pins and blocks
    applied)."""
    settings = settings_for(home)
    weights = _weights(settings, weight)
    filters = _Filters(section, exclude_section, language, author, kind, tag, field)
    try:
        request = filters.request(
            k,
            lists,
            max_age_days=max_age,
            exclude_ids=frozenset(exclude),
            weights=weights,
            explain=explain,
        )
    except ValueError as exc:
        fail(str(exc), 2)
    if server is not None:
        query = filters.query(request)
        query["max_age_days"] = max_age
        query["exclude"] = exclude
        query["weights"] = _weight_pairs(weight)
        view = _ask_service(
            server,
            settings,
            lambda client: client.related(article_id, **query),
        )
        _print_lists(view, as_json, explain)
        return
    engine = open_engine(settings)
    try:
        found = engine.lists_for(article_id, request)
    except (UnknownArticle, UnknownFilterValue) as exc:
        fail(str(exc), 2)
    _print_lists(lists_view(found, explain=explain or not as_json), as_json, explain)


@app.command()
def like(
    text: Annotated[str, typer.Argument(help="Draft text: a headline and/or lead.")],
    k: KOption = 5,
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, as the HTTP API.")] = False,
    explain: Annotated[bool, typer.Option(help="Show each score's parts.")] = False,
    lists: ListsOption = DEFAULT_LISTS,
    server: ServerOption = None,
    section: SectionOption = [],  # noqa: B006
    exclude_section: ExcludeSectionOption = [],  # noqa: B006
    language: LanguageOption = None,
    author: AuthorOption = [],  # noqa: B006
    kind: KindOption = [],  # noqa: B006
    tag: TagOption = [],  # noqa: B006
    field: FieldOption = [],  # noqa: B006
) -> None:
    """Show the lists for a draft that is not published yet."""
    if not text.strip():
        fail("the draft text is empty", 2)
    filters = _Filters(section, exclude_section, language, author, kind, tag, field)
    try:
        request = filters.request(k, lists, explain=explain)
    except ValueError as exc:
        fail(str(exc), 2)
    settings = settings_for(home)
    if server is not None:
        view = _ask_service(
            server,
            settings,
            lambda client: client.related_to_text(text, **filters.query(request)),
        )
        _print_lists(view, as_json, explain)
        return
    engine = open_engine(settings)
    try:
        found = engine.lists_for_text(text, request)
    except UnknownFilterValue as exc:
        fail(str(exc), 2)
    _print_lists(lists_view(found, explain=explain or not as_json), as_json, explain)


def _ask_service(
    server: str, settings: Settings, ask: Callable[[Client], RelatedOut]
) -> dict[str, Any]:
    """The lists ``ask`` gets from the service at ``server``, in the API's JSON shape; a
    failure ends the command: exit 2 for an unknown id or invalid options, 1 for a service
    that failed or could not be reached."""
    # Imported here: only --server needs httpx and the client's retries.
    import stamina.instrumentation

    from service.client import Client, InvalidRequest, NewsrecError, NotFound, Retry

    # A retry is logged as a bare event name; the final error says what went wrong.
    stamina.instrumentation.set_on_retry_hooks(())
    key = settings.read_key or settings.api_key
    try:
        client = Client(
            server,
            api_key=key.get_secret_value() if key is not None else None,
            # Someone waits at the terminal: a few tries within seconds, not a long siege.
            retry=Retry(attempts=3, timeout=10.0, max_retry_after=5.0),
        )
    except ValueError as exc:
        fail(f"--server: {exc}", 2)
    with client:
        try:
            answer = ask(client)
        except (NotFound, InvalidRequest) as exc:
            fail(str(exc), 2)
        except NewsrecError as exc:
            fail(str(exc), 1)
    return answer.model_dump(mode="json", exclude_unset=True)


def _weight_pairs(pairs: list[str]) -> dict[str, float]:
    """``--weight NAME=VALUE`` pairs as a mapping (each checked to be a number)."""
    given: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            fail(f"--weight {pair!r}: expected NAME=VALUE, e.g. w_pop=0.5", 2)
        try:
            given[name.strip()] = float(value)
        except ValueError:
            fail(f"--weight {pair!r}: expected NAME=VALUE with a number, e.g. w_pop=0.5", 2)
    return given


def _weights(settings: Settings, pairs: list[str]) -> Weights | None:
    """The configured weights with ``--weight NAME=VALUE`` pairs applied (None: none given)."""
    if not pairs:
        return None
    given: dict[str, float | None] = dict(_weight_pairs(pairs))
    try:
        weights = Weights.from_settings(settings).overridden(given)
    except WeightError as exc:
        fail(f"--weight: {exc}", 2)
    if weights.total() <= 0:
        fail(f"--weight: {weight_names()} must not all be 0", 2)
    return weights
