"""The only reader of TOML and the environment.

Precedence, highest first: environment (`COUNTERPOINT_SECTION__KEY`, conventional secret names), a `.env` file in
the working directory, the TOML file, the defaults below. Settings are frozen once loaded.

The TOML file is, first found: `--config PATH`, `$COUNTERPOINT_CONFIG`, `settings.toml` in the per-user config
folder (`counterpoint init` writes one), the packaged defaults (`bot.config`, read with importlib.resources; in the
repository they are config/). The database and model files live in the per-user data and cache folders
(platformdirs), never in the working directory.
"""

from __future__ import annotations

import json
import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from bot.errors import ConfigError
from bot.text.files import read_capped

APP = "counterpoint"
CONFIG_ENV = "COUNTERPOINT_CONFIG"
ENV_FILE = ".env"  # read from the working directory only


def packaged_config_dir() -> Path:
    """The defaults shipped in the wheel (bot.config; config/ in the repository). A real folder: the project is
    never installed zipped."""
    return Path(str(resources.files("bot.config")))


PACKAGE_CONFIG = packaged_config_dir() / "settings.toml"


def user_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def user_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def default_store_path() -> str:
    return str(user_data_dir() / "counterpoint.sqlite3")


def _split_list(value: Any) -> Any:
    """Lists from the environment come as JSON (`["a","b"]`) or comma-separated (`a,b`)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"is not a valid JSON list ({exc.msg})") from exc
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


StrList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]


def _url_check(schemes: tuple[str, ...], example: str, *, optional: bool = False) -> AfterValidator:
    """URLs are checked when settings load, so a typo stops the bot at once instead of leaving it silently offline."""

    def check(value: str) -> str:
        if optional and not value:
            return value
        try:
            parts = urlsplit(value)
            ok = parts.scheme in schemes and bool(parts.hostname) and (parts.port or 0) >= 0  # .port checks it
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"must be a URL starting with {' or '.join(s + '://' for s in schemes)}, such as {example}"
            )
        return value

    return AfterValidator(check)


HttpUrl = Annotated[str, _url_check(("http", "https"), "http://127.0.0.1:8080/v1")]
OptionalHttpUrl = Annotated[str, _url_check(("http", "https"), "http://127.0.0.1:8081/api/v10", optional=True)]
OptionalWsUrl = Annotated[str, _url_check(("ws", "wss"), "wss://gateway.example/", optional=True)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LLMSettings(_Section):
    base_url: HttpUrl = "http://127.0.0.1:8080/v1"
    model: str = ""
    api_key: SecretStr | None = None
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(60.0, gt=0)
    deadline: float = Field(120.0, gt=0)
    max_retries: int = Field(3, ge=0, le=10)
    concurrency: int = Field(2, ge=1, le=256)
    temperature: float = Field(0.2, ge=0, le=2)
    max_tokens: int = Field(512, ge=16)
    context_tokens: int = Field(4096, ge=512)
    json_mode: Literal["auto", "json_schema", "json_object", "prompt"] = "auto"


class StorageSettings(_Section):
    path: str = ""  # empty: counterpoint.sqlite3 in the per-user data folder
    retention_days: int = Field(90, ge=0)
    busy_timeout_ms: int = Field(5000, ge=0)

    @field_validator("path")
    @classmethod
    def _default_path(cls, value: str) -> str:
        return value.strip() or default_store_path()


class DiscordSettings(_Section):
    mode: Literal["off", "shadow", "reply"] = "shadow"
    watch_channels: StrList = []
    mod_channel: str = ""
    mod_role: str = ""
    dev_guild: str = ""
    api_base: OptionalHttpUrl = ""
    gateway_url: OptionalWsUrl = ""
    cooldown_seconds: int = Field(600, ge=0)
    hourly_cap: int = Field(6, ge=0)
    digest_time: str = Field("09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    shard_count: int = Field(0, ge=0)
    shard_ids: StrList = []


class RedditSettings(_Section):
    mode: Literal["off", "queue", "reply"] = "queue"
    subreddits: StrList = []
    oauth_url: HttpUrl = "https://oauth.reddit.com"
    reddit_url: HttpUrl = "https://www.reddit.com"
    cooldown_seconds: int = Field(3600, ge=0)
    hourly_cap: int = Field(6, ge=0)
    poll_seconds: float = Field(5.0, gt=0)


class FramingSettings(_Section):
    engine: Literal["auto", "llm", "lexical"] = "auto"
    llm_threshold: float = Field(0.6, ge=0, le=1)
    lexical_threshold: float = Field(0.75, ge=0, le=1)
    use_parent: bool = True


class CounterpointSettings(_Section):
    max_words: int = Field(120, ge=20, le=400)
    sources: int = Field(3, ge=1, le=5)
    library: str = "sources.toml"  # relative: next to the settings file, else the working directory, else packaged
    reuse_similarity: float = Field(0.85, ge=0, le=1)


class SummarizeSettings(_Section):
    concurrency: int = Field(2, ge=1, le=64)
    chunk_tokens: int = Field(0, ge=0)
    digest_hours: int = Field(24, ge=1)
    digest_threads: int = Field(5, ge=1)


class LimitsSettings(_Section):
    """Limits on everything the bot does unasked, on both platforms, per author and per server/subreddit."""

    user_replies_per_hour: int = Field(2, ge=0)
    user_reviews_per_hour: int = Field(4, ge=0)
    reviews_per_hour: int = Field(20, ge=0)
    review_merge_seconds: int = Field(900, ge=0)
    user_model_calls_per_hour: int = Field(20, ge=0)


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COUNTERPOINT_",
        env_nested_delimiter="__",
        env_file=ENV_FILE,
        extra="ignore",
        frozen=True,
    )

    llm: LLMSettings = LLMSettings()
    storage: StorageSettings = StorageSettings()
    discord: DiscordSettings = DiscordSettings()
    reddit: RedditSettings = RedditSettings()
    framing: FramingSettings = FramingSettings()
    counterpoint: CounterpointSettings = CounterpointSettings()
    summarize: SummarizeSettings = SummarizeSettings()
    limits: LimitsSettings = LimitsSettings()
    logging: LoggingSettings = LoggingSettings()

    # secrets and identities under their conventional names, never in the TOML
    discord_token: SecretStr | None = Field(None, validation_alias=AliasChoices("DISCORD_TOKEN"))
    reddit_client_id: SecretStr | None = Field(None, validation_alias=AliasChoices("REDDIT_CLIENT_ID"))
    reddit_client_secret: SecretStr | None = Field(None, validation_alias=AliasChoices("REDDIT_CLIENT_SECRET"))
    reddit_username: str | None = Field(None, validation_alias=AliasChoices("REDDIT_USERNAME"))
    reddit_password: SecretStr | None = Field(None, validation_alias=AliasChoices("REDDIT_PASSWORD"))
    reddit_user_agent: str | None = Field(None, validation_alias=AliasChoices("REDDIT_USER_AGENT"))

    config_path: str = ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init carries the TOML file: the environment must win over it
        return env_settings, dotenv_settings, init_settings

    @property
    def has_discord(self) -> bool:
        return bool(self.discord_token and self.discord_token.get_secret_value())

    @property
    def has_reddit(self) -> bool:
        return all(v and v.get_secret_value() for v in (self.reddit_client_id, self.reddit_client_secret))

    def resolve(self, path: str | Path) -> Path:
        """A path from the settings: absolute as given; relative, the first that exists of: next to the settings
        file, in the working directory, among the packaged defaults. None exists: the one next to the settings
        file, so the error names where it was looked for."""
        p = Path(path)
        if p.is_absolute():
            return p
        here = Path(self.config_path).parent if self.config_path else Path()
        candidates = [here / p, p, *_packaged(p)]
        return next((c for c in candidates if c.exists()), candidates[0])

    def prompts_dir(self) -> Path:
        return self.resolve("prompts")

    def library_path(self) -> Path:
        return self.resolve(self.counterpoint.library)

    def user_agent(self) -> str:
        """Reddit's recommended form: <platform>:<app id>:<version> (by /u/<username>)."""
        if self.reddit_user_agent:
            return self.reddit_user_agent
        from bot import __version__

        who = self.reddit_username or "unknown"
        return f"python:counterpoint-bot:v{__version__} (by /u/{who})"


def read_toml(path: str | Path, what: str = "Config file", *, cached: bool = False) -> dict[str, Any]:
    """Every TOML file the bot reads (settings, the source library) goes through here: one error style.

    `cached`: keep the parsed result in the per-user cache folder as JSON, keyed by a hash of the file's bytes, and
    read that instead while the file is unchanged. For the source library and its paragraphs (90 kB), which every
    `check` that answers reads: Python's TOML parser took ~8 ms of it, the JSON ~1 ms. Data JSON cannot hold as
    it is (TOML dates and times) is never cached; anything unexpected in the cache means parsing the file again."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            raw = read_capped(fh, MAX_TOML_BYTES, f"{what} {p}")  # InputError is a ConfigError
    except FileNotFoundError:
        raise ConfigError(f"{what} {p} does not exist.") from None
    except IsADirectoryError:
        raise ConfigError(f"{what} {p} is a folder, not a file.") from None
    except OSError as exc:
        raise ConfigError(f"{what} {p} cannot be read: {exc.strerror}.") from None
    key = _toml_key(raw) if cached else None
    if key is not None and (data := _cached_toml(key)) is not None:
        return data
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what} {p} is not UTF-8 text (byte {exc.start}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {p} is not valid TOML: {exc}.") from None
    if key is not None and _json_plain(data):
        from bot.text.programs import write_json

        write_json(user_cache_dir() / f"toml-{key}.json", data, keep=TOML_CACHE_KEEP, glob="toml-*.json")
    return data


MAX_TOML_BYTES = 10 * 2**20  # the shipped library and paragraphs are 90 kB; /dev/zero must not fill the memory
TOML_CACHE_FORMAT = 1
TOML_CACHE_KEEP = 8  # the library and its paragraphs, and a few older versions of each


def _toml_key(raw: bytes) -> str:
    import hashlib

    return hashlib.sha256(f"{TOML_CACHE_FORMAT}|".encode() + raw).hexdigest()[:24]


def _cached_toml(key: str) -> dict[str, Any] | None:
    try:
        data = json.loads((user_cache_dir() / f"toml-{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):  # absent, unreadable or not JSON: parse the TOML
        return None
    return data if isinstance(data, dict) else None


def _json_plain(value: Any) -> bool:
    """True when JSON gives back exactly this value: tables, arrays, strings, numbers and booleans only."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_plain(v) for v in value)
    return isinstance(value, str | int | float | bool)


SECTIONS = frozenset(n for n, f in Settings.model_fields.items() if isinstance(f.default, BaseModel))


def _packaged(p: Path) -> list[Path]:
    """The packaged copy of a relative path; `config/x` (the repository's folder name) means packaged `x` too."""
    base = packaged_config_dir()
    found = [base / p]
    if p.parts[:1] == ("config",) and len(p.parts) > 1:
        found.append(base.joinpath(*p.parts[1:]))
    return found


def resource_path(path: str | Path) -> Path:
    """A relative path (library, prompts) without a settings file: the working directory, else the packaged
    defaults, so the bot works from any directory. Settings.resolve also looks next to the settings file."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    return next((c for c in _packaged(p) if c.exists()), p)


def _dotenv_keys() -> set[str]:
    from dotenv import dotenv_values

    try:
        return {k.upper() for k in dotenv_values(ENV_FILE)} if Path(ENV_FILE).is_file() else set()
    except (OSError, UnicodeDecodeError):
        return set()


def _origin(env: str, cfg: Path) -> str:
    """Where a value came from, for the error message: the environment, .env, or the settings file."""
    if env.upper() in {k.upper() for k in os.environ}:
        return f"${env} in the environment"
    if env.upper() in _dotenv_keys():
        return f"{env} in {Path(ENV_FILE).resolve()}"
    return str(cfg)


def _describe(error: Any, cfg: Path) -> str:
    loc = [str(p) for p in error["loc"] if not isinstance(p, int)]
    key = ".".join(loc) or "(top level)"
    secret = bool(loc) and loc[0].upper() == loc[0]  # DISCORD_TOKEN, REDDIT_*: read by their own names
    env = loc[0] if secret else "COUNTERPOINT_" + "__".join(p.upper() for p in loc[:2])
    msg = error["msg"].rstrip(".")
    if msg.startswith("Value error, "):
        msg = msg.removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        msg = "is not a known setting"
    given = error.get("input")
    hidden = secret or key.startswith("llm.api_key") or isinstance(given, dict)
    shown = "" if hidden else f" (got {given!r})"
    return f"Setting {key} (from {_origin(env, cfg)}): {msg}{shown}."


def _check_sections(data: dict[str, Any], cfg: Path) -> None:
    """A typo'd section is an error, like a typo'd key: in the file, the environment or .env."""
    known = ", ".join(sorted(SECTIONS))
    for name in data:
        if name not in SECTIONS:
            raise ConfigError(f"Setting section [{name}] (from {cfg}): is not a known section (known: {known}).")
    for env in sorted({*(k.upper() for k in os.environ), *_dotenv_keys()}):
        section, sep, _ = env.removeprefix("COUNTERPOINT_").partition("__")
        if env.startswith("COUNTERPOINT_") and sep and section.lower() not in SECTIONS:
            raise ConfigError(
                f"Setting {env} (from {_origin(env, cfg)}): {section.lower()} is not a known section (known: {known})."
            )


def resolve_config_path(path: str | Path | None) -> Path:
    """--config, then $COUNTERPOINT_CONFIG, then the per-user config folder, then the packaged defaults."""
    if path:
        return Path(path)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    user = user_config_dir() / "settings.toml"
    if user.is_file():
        return user
    return PACKAGE_CONFIG


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Load and validate; raise ConfigError with one sentence naming the key and where its value came from."""
    cfg = resolve_config_path(path)
    if cfg.is_dir():
        raise ConfigError(f"Config file {cfg} is a folder; give the settings file inside it.")
    data = read_toml(cfg)
    _check_sections(data, cfg)
    data.update(overrides)
    data["config_path"] = str(cfg)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0], cfg)) from None
