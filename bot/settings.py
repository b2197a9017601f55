"""The only reader of TOML and the environment.

Precedence, highest first: environment (`COUNTERPOINT_SECTION__KEY`, conventional secret names), a `.env` file in
the working directory, the TOML file, the defaults below. Settings are frozen once loaded.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from bot.errors import ConfigError

DEFAULT_CONFIG = Path("config/settings.toml")
PACKAGE_CONFIG = Path(__file__).resolve().parent.parent / "config" / "settings.toml"


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


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LLMSettings(_Section):
    base_url: str = "http://127.0.0.1:8080/v1"
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
    path: str = "data/counterpoint.sqlite3"
    retention_days: int = Field(90, ge=0)
    busy_timeout_ms: int = Field(5000, ge=0)


class DiscordSettings(_Section):
    mode: Literal["off", "shadow", "reply"] = "shadow"
    watch_channels: StrList = []
    mod_channel: str = ""
    mod_role: str = ""
    dev_guild: str = ""
    api_base: str = ""
    gateway_url: str = ""
    cooldown_seconds: int = Field(600, ge=0)
    hourly_cap: int = Field(6, ge=0)
    digest_time: str = Field("09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    shard_count: int = Field(0, ge=0)
    shard_ids: StrList = []


class RedditSettings(_Section):
    mode: Literal["off", "queue", "reply"] = "queue"
    subreddits: StrList = []
    oauth_url: str = "https://oauth.reddit.com"
    reddit_url: str = "https://www.reddit.com"
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
    library: str = "config/sources.toml"
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
        env_file=".env",
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

    def user_agent(self) -> str:
        """Reddit's recommended form: <platform>:<app id>:<version> (by /u/<username>)."""
        if self.reddit_user_agent:
            return self.reddit_user_agent
        from bot import __version__

        who = self.reddit_username or "unknown"
        return f"python:counterpoint-bot:v{__version__} (by /u/{who})"


def read_toml(path: str | Path, what: str = "Config file") -> dict[str, Any]:
    """Every TOML file the bot reads (settings, the source library) goes through here: one error style."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{what} {p} does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {p} is not valid TOML: {exc}.") from None
    except OSError as exc:
        raise ConfigError(f"{what} {p} cannot be read: {exc.strerror}.") from None


def _describe(error: Any, path: Path) -> str:
    key = ".".join(str(p) for p in error["loc"] if not isinstance(p, int)) or "(top level)"
    env = "COUNTERPOINT_" + "__".join(str(p).upper() for p in error["loc"][:2])
    msg = error["msg"].rstrip(".")
    if error["type"] == "extra_forbidden":
        msg = "is not a known setting"
    given = error.get("input")
    shown = "" if key.startswith(("discord_token", "reddit_", "llm.api_key")) else f" (got {given!r})"
    if isinstance(given, dict):
        shown = ""
    return f"Setting {key} in {path} (or ${env}) {msg}{shown}."


ROOT = PACKAGE_CONFIG.parent.parent


def resource_path(path: str | Path) -> Path:
    """A relative path from the settings (library, prompts) is looked up in the working directory first, then in
    the project folder, so the bot works from any directory."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    return ROOT / p


def resolve_config_path(path: str | Path | None) -> Path:
    if path:
        return Path(path)
    if DEFAULT_CONFIG.exists():
        return DEFAULT_CONFIG
    return PACKAGE_CONFIG


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Load and validate; raise ConfigError with one sentence naming the key and the file."""
    cfg = resolve_config_path(path)
    data = read_toml(cfg) if cfg.exists() or path else {}
    data.update(overrides)
    data["config_path"] = str(cfg)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0], cfg)) from None
