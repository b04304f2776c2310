"""Input and output models of the HTTP API (separate, with limits on every input).

The limits a client can hit are module constants, so the OpenAPI schema shows them and an
error names them: at most ``MAX_K`` items per list, ``MAX_BATCH_ARTICLES`` articles per batch,
``MAX_BATCH_EVENTS`` events per batch, ``MAX_SOURCE_IDS`` ids in a "more like these" request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    model_validator,
)

from recommender.experiments.tokens import MAX_TOKEN_CHARS
from recommender.ingestion.articles import MAX_BODY_CHARS, MAX_TITLE_CHARS, InvalidArticle
from recommender.ingestion.metadata import MAX_AUTHOR_CHARS, MAX_FIELD_VALUE_CHARS, MAX_FIELDS
from recommender.ranking.scoring import SIGNALS, Weights, weight_names
from recommender.serving.requests import (
    DEFAULT_LISTS,
    LIST_NAMES,
    MAX_K,
    ListRequest,
    parse_field_filters,
    parse_lists,
)

__all__ = [
    "MAX_BATCH_ARTICLES",
    "MAX_BATCH_EVENTS",
    "MAX_DRAFT_CHARS",
    "MAX_SOURCE_IDS",
    "ArticleDetailOut",
    "ArticleIn",
    "ArticleOut",
    "ArticleWithIdIn",
    "BatchIn",
    "BatchOut",
    "EventIn",
    "EventsIn",
    "EventsOut",
    "Explanation",
    "FoundOut",
    "ItemOut",
    "ListOptions",
    "ListOptionsError",
    "OverrideOut",
    "OverridesOut",
    "ProblemOut",
    "ReindexOut",
    "RejectedEventOut",
    "RelatedBatchAnswerOut",
    "RelatedBatchIn",
    "RelatedBatchOut",
    "RelatedIn",
    "RelatedOut",
    "UnpublishOut",
    "UpsertOut",
]

MAX_BATCH_ARTICLES = 500
MAX_BATCH_EVENTS = 1_000
MAX_SOURCE_IDS = 50
MAX_DRAFT_CHARS = 20_000
_MAX_FILTER_VALUES = 20
_MAX_EXCLUDED = 200
_CLOCK_SKEW = timedelta(minutes=10)

ArticleIdStr = Annotated[str, StringConstraints(min_length=1, max_length=200)]
_Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]


def _only_text(value: object) -> object:
    # The schema says an ISO 8601 string; pydantic would also read a bare number as a Unix
    # time, which no client of this schema means.
    if isinstance(value, int | float):
        raise ValueError("expected an ISO 8601 date and time as text")
    return value


#: A date and time sent as ISO 8601 text, as the schema documents it.
IsoDateTime = Annotated[datetime, BeforeValidator(_only_text)]


class ListOptionsError(ValueError):
    """List options that contradict each other; the message names them."""


def _split_commas(values: list[str]) -> frozenset[str]:
    # Query strings carry lists either as repeated parameters or as "a,b"; both are accepted.
    return frozenset(part.strip() for value in values for part in value.split(",") if part.strip())


class _ListOptionFields(BaseModel):
    """Every list option but the weights, which :data:`ListOptions` adds from the signals."""

    k: int | None = Field(
        None, ge=1, le=MAX_K, description=f"Items per list, 1 to {MAX_K} (default 5)."
    )
    k_more: int | None = Field(
        None, ge=0, le=MAX_K, description="Items in More like this (overrides k; 0: none)."
    )
    k_related: int | None = Field(
        None, ge=0, le=MAX_K, description="Items in Related (overrides k; 0 leaves it empty)."
    )
    k_popular: int | None = Field(
        None, ge=0, le=MAX_K, description="Items in Popular (overrides k; 0 leaves it empty)."
    )
    lists: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        None,
        description="The lists to compute, comma-separated (default all three): "
        + ", ".join(LIST_NAMES)
        + ". A page asks only for the boxes it shows.",
        examples=["related,popular"],
    )
    section: list[_Name] = Field(
        default_factory=list,
        max_length=_MAX_FILTER_VALUES,
        description="Only candidates from these sections (repeat the parameter or use commas).",
        examples=[["business"]],
    )
    exclude_section: list[_Name] = Field(
        default_factory=list,
        max_length=_MAX_FILTER_VALUES,
        description="Never candidates from these sections.",
    )
    language: Annotated[str, StringConstraints(min_length=2, max_length=35)] | None = Field(
        None, description="Only candidates in this language (e.g. en).", examples=["en"]
    )
    max_age_days: float | None = Field(
        None, gt=0, le=36_500, description="Only candidates published at most this many days ago."
    )
    author: list[_Name] = Field(
        default_factory=list,
        max_length=_MAX_FILTER_VALUES,
        description="Only candidates by one of these authors (repeat the parameter).",
    )
    kind: list[_Name] = Field(
        default_factory=list,
        max_length=_MAX_FILTER_VALUES,
        description="Only candidates of these kinds (news, opinion, ...; repeat or use commas).",
        examples=[["news"]],
    )
    tag: list[_Name] = Field(
        default_factory=list,
        max_length=_MAX_FILTER_VALUES,
        description="Only candidates with at least one of these tags (repeat the parameter).",
    )
    field: list[Annotated[str, StringConstraints(min_length=3, max_length=300)]] = Field(
        default_factory=list,
        max_length=_MAX_FILTER_VALUES,
        description="Only candidates whose field NAME has VALUE, as NAME=VALUE (e.g. "
        "desk=metro); in a query string also field.NAME=VALUE. Values given for one name are "
        "alternatives. A value no article has is refused (422) with the known ones.",
        examples=[["desk=metro"]],
    )
    exclude: list[ArticleIdStr] = Field(
        default_factory=list,
        max_length=_MAX_EXCLUDED,
        description="Article ids never to show (e.g. those already on the page).",
    )
    explain: bool = Field(False, description="Attach each item's score parts.")
    reader: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None,
        description="The reader's or session's id (or the X-Newsrec-Reader header): it assigns "
        "the reader to an experiment's variant, always the same one. Only its keyed hash is "
        "kept, in the answer's recommendation_id.",
        examples=["reader-42"],
    )
    variant: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = Field(
        None,
        description="Force this variant of the running experiment, for QA (422 if the "
        "experiments file names no such variant; 'default' is the configured lists).",
    )

    def to_request(self, weights: Weights) -> ListRequest:
        """The engine's request for these options; ``weights`` are the configured ones.

        Raises:
            ListOptionsError: the options contradict each other (e.g. every weight 0).
        """
        k = 5 if self.k is None else self.k
        overridden = None
        given = {s.weight: getattr(self, s.weight) for s in SIGNALS}
        if any(value is not None for value in given.values()):
            overridden = weights.overridden(given)
            if overridden.total() <= 0:
                raise ListOptionsError(f"{weight_names()} must not all be 0")
        try:
            return self._request(k, overridden)
        except ValueError as exc:
            raise ListOptionsError(str(exc)) from exc

    def _request(self, k: int, weights: Weights | None) -> ListRequest:
        shown = parse_lists(self.lists or DEFAULT_LISTS)

        def size(name: str, given: int | None) -> int:
            return (k if given is None else given) if name in shown else 0

        return ListRequest(
            k_more=size("more_like_this", self.k_more),
            k_related=size("related", self.k_related),
            k_popular=size("popular", self.k_popular),
            sections=_split_commas(self.section),
            exclude_sections=_split_commas(self.exclude_section),
            language=self.language,
            max_age_days=self.max_age_days,
            exclude_ids=_split_commas(self.exclude),
            weights=weights,
            explain=self.explain,
            # An author's name may hold a comma ("Smith, Jane"): repeated parameters only.
            authors=frozenset(a.strip() for a in self.author if a.strip()),
            kinds=_split_commas(self.kind),
            tags=frozenset(t.strip() for t in self.tag if t.strip()),
            fields=parse_field_filters(self.field),
        )


if TYPE_CHECKING:
    ListOptions = _ListOptionFields
else:
    # One optional query parameter per signal weight (w_sim, w_rec, ...), made from the one
    # list of signals, so a new signal needs no line here.
    ListOptions = create_model(
        "ListOptions",
        __base__=_ListOptionFields,
        __module__=__name__,
        __doc__="What to put in the lists: sizes, filters, weight overrides, explanations.",
        **{
            s.weight: (
                float | None,
                Field(None, ge=0, le=100, description=s.description),
            )
            for s in SIGNALS
        },
    )


class RelatedIn(ListOptions):
    """Lists for a draft that is not published, or for a set of articles ("more like these")."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "Harborview council votes to reopen Lanthorn Bridge to buses", "k": 3},
                {"ids": ["sample-001", "sample-014"], "k_more": 5, "k_related": 0},
            ]
        },
    )

    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_DRAFT_CHARS)] | None = (
        Field(None, description="Draft text: a headline and/or lead.")
    )
    ids: list[ArticleIdStr] | None = Field(
        None,
        min_length=1,
        max_length=MAX_SOURCE_IDS,
        description="Published article ids, e.g. a reader's last reads.",
    )

    @model_validator(mode="after")
    def _text_or_ids(self) -> RelatedIn:
        if (self.text is None) == (self.ids is None):
            raise ValueError("give exactly one of 'text' (a draft) or 'ids' (published articles)")
        if self.text is not None and not self.text.strip():
            raise ValueError("text: the draft is blank")
        return self


class ArticleOut(BaseModel):
    """An article as the API shows it."""

    id: str = Field(examples=["sample-001"])
    title: str
    snippet: str = Field(description="At most 160 characters of the lead.")
    url: str | None
    section: str | None
    tags: list[str] = []
    language: str | None = None
    published_at: str | None = Field(description="ISO 8601, UTC.")
    author: str | None = None
    kind: str | None = Field(None, description="The content type: news, opinion, video, ...")
    fields: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="The newsroom's own fields (scalar values)."
    )


class ArticleDetailOut(ArticleOut):
    """One article in full, as stored."""

    body: str
    popularity: float
    index_version: str = Field(description="The index version serving at the time.")


class Explanation(BaseModel):
    """How an item's score was made; ``parts`` add up to the score."""

    parts: dict[str, float]
    similarity: float
    shared_terms: list[str]
    pinned: bool = Field(False, description="An editor pinned the item here.")


class ItemOut(ArticleOut):
    """A list item: an article, its place in the list and its score."""

    position: int = Field(
        description="The item's place in its list, from 1: what a click event reports."
    )
    score: float
    explanation: Explanation | None = None


class RelatedOut(BaseModel):
    """The lists for one source article, draft or set of articles."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "recommendation_id": "eJyrVipOLSrLTE5VslIqzs8tSs7PS8tMzy1WsgIA.Zz3xkw.x9...",
                    "variant": "default",
                    "experiment": None,
                    "article": {
                        "id": "sample-002",
                        "title": "Lanthorn Bridge closed after engineers find cracks",
                        "snippet": "Lanthorn Bridge, the 1931 steel arch ...",
                        "url": "https://news.example.com/city/lanthorn-bridge-closed",
                        "section": "city",
                        "tags": ["lanthorn bridge"],
                        "language": "en",
                        "published_at": "2026-09-02T21:10:00Z",
                    },
                    "more_like_this": [
                        {
                            "id": "sample-003",
                            "title": "Bridge closure adds 25 minutes to Old Town bus trips",
                            "snippet": "Commuters from Lowmarsh faced long queues ...",
                            "url": "https://news.example.com/city/bridge-closure-buses",
                            "section": "city",
                            "tags": [],
                            "language": "en",
                            "published_at": "2026-09-03T08:00:00Z",
                            "position": 1,
                            "score": 0.71,
                        }
                    ],
                    "related": [],
                    "index_version": "v000003+2",
                    "signals_missing": [],
                }
            ]
        }
    )

    recommendation_id: str = Field(
        description="Names this served answer (signed; unique per answer): send it back with "
        "impression and click events (POST /events) so they count for its variant."
    )
    variant: str = Field(
        description="The experiment variant that made these lists ('default' outside an "
        "experiment; 'interleaved' when two variants were interleaved)."
    )
    experiment: str | None = Field(None, description="The running experiment's name, if any.")
    article: ArticleOut | None = Field(description="The source article (null for a draft).")
    more_like_this: list[ItemOut]
    related: list[ItemOut]
    index_version: str = Field(
        description="The index version that answered: the published version, plus '+N' for N "
        "catalogue changes applied on top of it."
    )
    signals_missing: list[str] = Field(
        description="Signals that could not be used (e.g. 'popularity' with no counts)."
    )
    popular: list[ItemOut] = Field(
        default_factory=list, description="The most read right now (not about the source)."
    )
    short: dict[str, str] = Field(
        default_factory=dict,
        description="For each list shorter than asked, why: e.g. too few candidates are "
        "related to the source. Lists are never padded with unrelated items.",
    )


class ArticleIn(BaseModel):
    """An article to add or update with ``PUT /articles/{id}`` (the id is in the path)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Lanthorn Bridge to reopen to buses on Monday",
                    "body": "Harborview's council said buses may cross the repaired span ...",
                    "url": "https://news.example.com/city/lanthorn-bridge-reopens",
                    "section": "city",
                    "tags": ["lanthorn bridge", "transport"],
                    "language": "en",
                    "published_at": "2026-09-20T07:30:00Z",
                }
            ]
        },
    )

    id: ArticleIdStr | None = Field(None, description="If given, it must equal the path's id.")
    title: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TITLE_CHARS)]
    body: Annotated[str, StringConstraints(max_length=MAX_BODY_CHARS)] | None = Field(
        None, description="Lead and body; the first 160 characters become the snippet."
    )
    abstract: Annotated[str, StringConstraints(max_length=MAX_BODY_CHARS)] | None = Field(
        None, description="Used as the body when no body is given."
    )
    url: Annotated[str, StringConstraints(max_length=2_000)] | None = None
    section: Annotated[str, StringConstraints(max_length=100)] | None = None
    tags: list[Annotated[str, StringConstraints(max_length=200)]] = Field(
        default_factory=list, max_length=100
    )
    language: Annotated[str, StringConstraints(max_length=35)] | None = None
    published_at: IsoDateTime | None = Field(
        None, description="ISO 8601; a time without a zone is UTC."
    )
    popularity: float | None = Field(
        None, ge=0, strict=True, description="A count of reads, if known."
    )
    author: Annotated[str, StringConstraints(max_length=MAX_AUTHOR_CHARS)] | None = None
    kind: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        None,
        description="The content type, one short word: news, opinion, analysis, video, live, ...",
        examples=["news"],
    )
    fields: dict[str, str | int | float | bool | None] | None = Field(
        None,
        max_length=MAX_FIELDS,
        description=f"The newsroom's own fields: at most {MAX_FIELDS} names (a lower-case "
        f"letter, then letters, digits or '_'), values text (at most {MAX_FIELD_VALUE_CHARS} "
        "characters), numbers or booleans; filter with field.NAME=.",
        examples=[{"desk": "metro", "premium": True}],
    )

    def fields_with_id(self, article_id: str) -> dict[str, Any]:
        """The article as the validator of :mod:`recommender.ingestion.articles` takes it.

        Raises:
            InvalidArticle: the body names another id than ``article_id``.
        """
        if self.id is not None and self.id != article_id:
            raise InvalidArticle(f"id: the body says {self.id!r} but the path says {article_id!r}")
        return {**self.model_dump(exclude_none=True), "id": article_id}


class ArticleWithIdIn(ArticleIn):
    """An article of a batch, carrying its own id."""

    id: ArticleIdStr


class BatchIn(BaseModel):
    """Articles to add or update in one call; all land or none does."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "articles": [
                        {
                            "id": "city-0193",
                            "title": "Ferry Road crossing to get a bus lane",
                            "body": "The council will paint a bus lane on the Ferry Road ...",
                            "section": "city",
                            "published_at": "2026-09-21T09:00:00Z",
                        }
                    ]
                }
            ]
        },
    )

    articles: list[ArticleWithIdIn] = Field(min_length=1, max_length=MAX_BATCH_ARTICLES)


_GENERATION = (
    "The catalogue generation that holds this write (also the X-Newsrec-Generation header): "
    "pass it as min_generation= to read the write on any worker."
)


class UpsertOut(BaseModel):
    """What ``PUT /articles/{id}`` did."""

    id: str
    result: Literal["added", "updated", "unchanged"]
    index_version: str
    generation: int = Field(description=_GENERATION)


class BatchOut(BaseModel):
    """What ``POST /articles:batch`` did."""

    added: int
    updated: int
    unchanged: int
    embedded: int = Field(description="Articles whose text changed and was embedded.")
    index_version: str
    generation: int = Field(description=_GENERATION)


class UnpublishOut(BaseModel):
    """What ``DELETE /articles/{id}`` did."""

    id: str
    unpublished: bool
    index_version: str
    generation: int = Field(description=_GENERATION)


class EventIn(BaseModel):
    """A reader viewed or clicked an article, or was shown a served list (an impression).

    An impression or click that names the answer it came from (``recommendation_id``, with the
    item's ``position`` for a click) is checked against that answer and counts for its variant.
    """

    model_config = ConfigDict(extra="forbid")

    article_id: ArticleIdStr | None = Field(
        None, description="The article viewed or clicked (required but for an impression)."
    )
    kind: Literal["view", "click", "impression"]
    at: IsoDateTime | None = Field(None, description="When (ISO 8601; default: when received).")
    user: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="An opaque reader id (no personal data)."
    )
    key: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="Idempotency key: an event whose key was stored before is skipped."
    )
    recommendation_id: (
        Annotated[str, StringConstraints(min_length=1, max_length=MAX_TOKEN_CHARS)] | None
    ) = Field(
        None,
        description="The served answer the impression or click came from (its "
        "recommendation_id): required for an impression. Such events are keyed by answer, list "
        "and position, so resending them stores nothing twice.",
    )
    position: int | None = Field(
        None, ge=1, le=MAX_K, description="A click's item position in its list, from 1."
    )
    list: Literal["more_like_this", "related", "popular"] | None = Field(
        None,
        description="The list shown or clicked in (default: an impression is of every list of "
        "the answer; a click's list is the one holding article_id at position).",
    )
    # A tuple: the field "list" above shadows the builtin in this class's annotations.
    visible: tuple[Annotated[int, Field(ge=1, le=MAX_K)], ...] | None = Field(
        None,
        max_length=MAX_K,
        description="An impression's positions the reader could see (default: all); needs list "
        "when the answer has several.",
    )

    @model_validator(mode="after")
    def _feedback_fields_fit_the_kind(self) -> EventIn:
        if self.kind == "impression":
            if self.recommendation_id is None:
                raise ValueError("recommendation_id: an impression needs the answer it showed")
            if self.article_id is not None or self.position is not None:
                raise ValueError(
                    "article_id and position are for views and clicks: an impression is of a "
                    "whole list (use visible for the positions seen)"
                )
            return self
        if self.article_id is None:
            raise ValueError(f"article_id: a {self.kind} needs the article {self.kind}ed")
        if self.visible is not None:
            raise ValueError("visible: only for an impression")
        if self.kind == "view" and (
            self.recommendation_id is not None or self.position is not None or self.list
        ):
            raise ValueError(
                "recommendation_id, position and list are for impressions and clicks, not views"
            )
        if self.recommendation_id is not None and self.position is None:
            raise ValueError(
                "position: a click with a recommendation_id needs the item's position (from 1)"
            )
        if self.recommendation_id is None and (self.position is not None or self.list):
            raise ValueError("position and list count only with the click's recommendation_id")
        return self

    @model_validator(mode="after")
    def _not_in_the_future(self) -> EventIn:
        # Popularity decays from the newest event; one dated next year would zero all others.
        if self.at is not None:
            at = self.at if self.at.tzinfo is not None else self.at.replace(tzinfo=UTC)
            if at > datetime.now(UTC) + _CLOCK_SKEW:
                raise ValueError(f"at: {self.at.isoformat()} is in the future")
        return self


class EventsIn(BaseModel):
    """A batch of reading events."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {"article_id": "sample-001", "kind": "view", "user": "u40"},
                        {
                            "article_id": "sample-002",
                            "kind": "click",
                            "at": "2026-09-02T10:00:00Z",
                            "key": "u11-sample-002-1",
                        },
                    ]
                }
            ]
        },
    )

    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)


class RejectedEventOut(BaseModel):
    """An impression or click that does not match its recommendation_id: not stored, and never
    counted for a variant."""

    index: int = Field(description="The event's place in the batch, from 0.")
    reason: str = Field(
        description="forged, expired, malformed (the id), list, position, article, ambiguous."
    )
    detail: str = Field(description="What did not match.")


class EventsOut(BaseModel):
    """What ``POST /events`` stored (``feedback_stored`` and ``rejected`` only when the batch
    held impressions or clicks with a recommendation_id)."""

    received: int
    stored: int = Field(description="Events stored; those with a key seen before are skipped.")
    feedback_stored: int = Field(
        default=0,
        description="Impressions and clicks checked against their recommendation_id and stored "
        "(one impression per list; those stored before are skipped). A click is also a stored "
        "event.",
    )
    rejected: list[RejectedEventOut] = Field(
        default_factory=list,
        description="Impressions and clicks refused: forged, expired or not matching the list.",
    )


class ReindexOut(BaseModel):
    """The state of the service's rebuild job."""

    running: bool
    index_version: str = Field(description="The index version serving now.")
    last_published: str | None = Field(description="The version the last rebuild published.")
    last_error: str | None = None


class ProblemOut(BaseModel):
    """An error: ``detail`` says what is wrong and, for limits, which limit."""

    detail: str


class RelatedBatchIn(ListOptions):
    """The lists of many published articles in one call, with the options of
    ``GET /articles/{id}/related`` applied to each."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"ids": ["sample-001", "sample-014", "sample-039"], "k": 3}]
        },
    )

    ids: list[ArticleIdStr] = Field(
        min_length=1,
        max_length=MAX_BATCH_ARTICLES,
        description=f"Published article ids, at most {MAX_BATCH_ARTICLES}; each is answered "
        "in its own slot, in this order.",
    )


class RelatedBatchAnswerOut(BaseModel):
    """One id's slot in a batch: its lists, or why there are none."""

    id: str
    status: int = Field(
        description="200 with ``lists``; 404 with ``detail`` when no published article has "
        "this id (the rest of the batch is answered all the same)."
    )
    lists: RelatedOut | None = Field(None, description="As GET /articles/{id}/related answers it.")
    detail: str | None = Field(None, description="Why this id has no lists.")


class RelatedBatchOut(BaseModel):
    """The answers of ``POST /related:batch``, one per id asked for, in the same order."""

    answers: list[RelatedBatchAnswerOut]


_Texts = list[str]  # spelled out of the models, where ``list`` names a field


class FoundOut(BaseModel):
    """The articles found, best first."""

    query: str = Field(description="The query as searched (trimmed).")
    articles: list[ArticleOut]
    more: bool = Field(description="More articles matched than `limit` shows.")


class OverrideOut(BaseModel):
    """One pin or block, with its record."""

    id: int
    kind: Literal["pin", "block"]
    source: str | None = Field(description="The article whose lists it applies to; null: all.")
    target: str
    position: int | None = Field(description="Pins: the place in the list, from 1.")
    list: Literal["related", "more_like_this"] | None = Field(description="Pins: the list.")
    by: str
    at: datetime
    reason: str
    until: datetime | None
    active: bool
    state: str = Field(description="active, expired, or removed (when and by whom).")
    warnings: _Texts = Field([], description="E.g. a pin of an article a block keeps out.")


class OverridesOut(BaseModel):
    """Overrides, oldest first."""

    overrides: list[OverrideOut]
