"""Compose a counterpoint: reuse one for a repeated claim, else ask the model, else use the offline template.

The public words are the library's: the model chooses which sources (and so which vetted paragraphs) answer the
post and writes at most one opening sentence, which is checked (bot/counterpoint/opening.py) before it is shown.
A model that obeys the post can therefore choose nothing but an opening that passes those checks. Anything that
fails, and any model failure, falls back to the offline template, which cites too. The result says which engine
chose it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.counterpoint.claims import claim_key, similarity
from bot.counterpoint.feedback import WINDOW_DAYS, ThemeFeedback, tally, used_less
from bot.counterpoint.library import Library
from bot.counterpoint.opening import first_sentence, opening_problem
from bot.counterpoint.prompt import load_prompt, reply_schema, user_message
from bot.counterpoint.verify import renumber_citations, verify
from bot.errors import LLMError, StoreError
from bot.models import Citation, Counterpoint, Engine, Source, Verdict, utcnow
from bot.settings import CounterpointSettings, Settings
from bot.text.clean import has_link, has_live_mention, sanitize
from bot.text.limits import MAX_CHARS, READ_CHARS, count_words
from bot.text.normalize import detect_language

if TYPE_CHECKING:
    from bot.llm.client import JsonModel
    from bot.store import Store

log = logging.getLogger(__name__)

MAX_TEMPLATE_THEMES = 2
RECENT_CLAIMS = 200
# why a model-written counterpoint was refused, as the short word /stats counts it under (first match wins)
REASONS = (
    ("copies the post", "copy"),
    ("asked the bot to say", "payload"),
    ("instruction embedded", "payload"),
    ("link or a mention", "link"),
    ("still unsafe", "link"),
    ("prompt", "leak"),
    ("dismissive", "tone"),
    ("people, moderators", "people"),
    ("names someone", "people"),
    ("number", "number"),
    ("citation", "citation"),
    ("sources", "citation"),
)


def reason_code(why: str) -> str:
    """The short word a fallback's reason is counted under in /stats: copy, payload, link, leak, tone, ..."""
    return next((code for part, code in REASONS if part in why), "malformed")


def counterpoint_json(cp: Counterpoint) -> dict[str, Any]:
    """The shape `counterpoint check --json` prints under "counterpoint"."""
    citations = [{"id": c.id, "title": c.title, "url": c.url} for c in cp.citations]
    return {"text": cp.text, "citations": citations, "engine": cp.engine}


def build_composer(settings: Settings, llm: JsonModel | None = None, store: Store | None = None) -> Composer:
    """A Composer over the library named by `counterpoint.library` (ConfigError if it is missing or invalid)."""
    library = Library.load(settings.library_path())
    return Composer.from_settings(settings, library, llm, store)


def _citations(sources: Sequence[Source]) -> tuple[Citation, ...]:
    return tuple(Citation(s.id, s.cite_title, s.url) for s in sources)


class Composer:
    """`await Composer(settings.counterpoint, library, llm, store, prompts_dir=...).compose(text, verdict)` always
    returns a Counterpoint; `Composer.from_settings(settings, library, llm, store)` picks the section."""

    def __init__(
        self,
        config: CounterpointSettings,
        library: Library,
        llm: JsonModel | None = None,
        store: Store | None = None,
        *,
        prompts_dir: Path,
    ) -> None:
        self.config = config
        self.base_library = library
        self.library = library
        self.llm = llm
        self.store = store
        self.system_prompt = load_prompt(prompts_dir)
        self._servers: dict[str, Library] = {}  # guild id -> library with that server's own sources

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        library: Library,
        llm: JsonModel | None = None,
        store: Store | None = None,
        *,
        prompts_dir: str | Path | None = None,
    ) -> Composer:
        folder = Path(prompts_dir) if prompts_dir else settings.prompts_dir()
        return cls(settings.counterpoint, library, llm, store, prompts_dir=folder)

    async def refresh_library(self) -> Library:
        """Merge the moderator-added sources from the store into the shipped library: those added for every server
        into `library`, each server's own into the library that server's replies use (`library_for`). Called at
        start-up and by /sources after every change, so a change is used at once."""
        if self.store is not None:
            try:
                extra = await self.store.list_sources()
            except StoreError as exc:
                log.warning("could not read moderator sources, keeping the current library: %s", exc)
                return self.library
            self.library = self.base_library.with_extra([s for s in extra if not s.guild_id])
            servers: dict[str, list[Source]] = {}
            for source in extra:
                if source.guild_id:
                    servers.setdefault(source.guild_id, []).append(source)
            self._servers = {guild: self.library.with_extra(added) for guild, added in servers.items()}
        return self.library

    def library_for(self, guild_id: str | None) -> Library:
        """The library one server's replies cite from: the shipped one plus what its moderators added."""
        return self._servers.get(guild_id or "", self.library)

    async def compose(
        self,
        post_text: str,
        verdict: Verdict | None = None,
        *,
        lang: str | None = None,
        platform: str | None = None,
        post_id: str | None = None,
        scope: str = "",
        guild_id: str | None = None,
    ) -> Counterpoint:
        """Pass platform/post_id when known, so deleting the post also drops it from the claim cache; the server or
        subreddit (`scope`): the claim cache and the fallback counts are kept per scope; guild_id so the server's
        own sources are used."""
        post_text = post_text[:READ_CHARS]  # what the detector read: language, claim, retrieval and prompt alike
        library = self.library_for(guild_id)
        lang = lang or detect_language(post_text)
        cues = tuple(verdict.prefilter.cues) if verdict is not None else ()
        key = claim_key(post_text, scope)
        reused = await self._reuse(key, post_text, scope, library)
        if reused is not None:
            return reused
        sources = library.retrieve(post_text, self.config.sources, cues=cues)
        written, why = await self._from_model(post_text, sources, lang, library)
        if written is None:
            await self._count_fallback(why, scope)
            feedback = await self.theme_feedback(guild_id, platform=platform or "discord")
            return self.template(
                post_text, lang=lang, cues=cues, retrieved=sources, library=library, used_less=used_less(feedback)
            )
        await self._remember(key, post_text, written, platform=platform, post_id=post_id, scope=scope)
        return written

    async def _count_fallback(self, why: str, scope: str) -> None:
        if self.store is None:
            return
        try:
            await self.store.record_fallback("counterpoint", why, scope=scope)
        except StoreError as exc:
            log.warning("could not count the template fallback: %s", exc)

    async def theme_feedback(self, guild_id: str | None, *, platform: str = "discord") -> dict[str, ThemeFeedback]:
        """Helpful / Not helpful votes and dismissals per theme in one server over the feedback window."""
        if self.store is None or not guild_id:
            return {}
        since = utcnow() - timedelta(days=WINDOW_DAYS)
        try:
            replies = await self.store.reply_feedback(platform, guild_id, since)
        except StoreError as exc:
            log.warning("votes unavailable (%s); themes ranked without them", exc)
            return {}
        return tally(replies, self.library_for(guild_id))

    # --- the model path -------------------------------------------------------------------------------------------
    async def _from_model(
        self, post: str, sources: list[Source], lang: str | None, library: Library
    ) -> tuple[Counterpoint | None, str]:
        """The model's choice, or (None, the short reason it was not used)."""
        if self.llm is None:
            return None, "no-model"
        if not sources:
            return None, "no-sources"
        max_words = self.config.max_words
        messages = [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": user_message(post, sources, lang=lang, max_words=max_words)},
        ]
        ids = [s.id for s in sources]
        try:
            if not await self.llm.available():
                log.info("model unavailable; counterpoint from the template")
                return None, "no-model"
            reply = await self.llm.chat_json(messages, reply_schema(ids), name="counterpoint")
        except LLMError as exc:
            log.warning("counterpoint model call failed (%s); using the template", exc)
            return None, "model-error"
        if not isinstance(reply, dict):
            log.warning("counterpoint model reply is not an object; using the template")
            return None, "malformed"
        checked = verify(
            reply.get("text"),
            reply.get("source_ids"),
            ids,
            post=post,
            system_prompt=self.system_prompt,
            max_words=max_words,
            max_chars=MAX_CHARS,
        )
        opening = first_sentence(checked.text)
        why = checked.rejected or opening_problem(
            opening, post, system_prompt=self.system_prompt, known_names=library.vocabulary
        )
        chosen = [s for sid in checked.cited if (s := library.get(sid)) is not None]
        themes = self._themes_of(chosen, library)
        if not why and not themes:
            why = "none of the chosen sources belongs to a theme with a vetted paragraph"
        if why:
            log.warning("model counterpoint rejected (%s); using the template", why)
            return None, reason_code(why)
        added = [s for s in chosen if s.added_by]
        written = self._assemble(themes[:MAX_TEMPLATE_THEMES], opening, lang, "llm", library=library, added=added)
        return (written, "") if written.citations else (None, "citation")

    def _themes_of(self, sources: Sequence[Source], library: Library) -> tuple[str, ...]:
        themes = library.themes
        keys = (t for s in sources for t in s.themes if t in themes and themes[t].evidence)
        return tuple(dict.fromkeys(keys))

    # --- the offline template -------------------------------------------------------------------------------------
    def template(
        self,
        post_text: str,
        *,
        lang: str | None = None,
        cues: Sequence[str] = (),
        retrieved: Sequence[Source] = (),
        library: Library | None = None,
        used_less: Collection[str] = (),
    ) -> Counterpoint:
        """The vetted paragraphs of the one or two best-matching themes, each citing its own sources, and the first
        fact of a moderator-added source on those themes when the server has one. `used_less`: themes the
        server's votes found unhelpful, ranked after the others (bot/counterpoint/feedback.py)."""
        library = library or self.library
        lang = lang or detect_language(post_text)
        ranked = library.rank_themes(post_text, cues=cues, retrieved=retrieved, used_less=used_less)
        ranked = ranked[:MAX_TEMPLATE_THEMES]
        added = _server_sources(library, ranked, retrieved, lang)
        return self._assemble(ranked, library.opener_for(lang), lang, "template", library=library, added=added[:1])

    def _assemble(
        self,
        themes: Sequence[str],
        opener: str,
        lang: str | None,
        engine: Engine,
        *,
        library: Library,
        added: Sequence[Source] = (),
    ) -> Counterpoint:
        """The vetted paragraphs of `themes`, each citing its own sources, after one opening sentence. The model's
        choice (engine "llm") and the offline ranking (engine "template") meet here: the words are the library's,
        or, for a source a moderator added, that source's first fact as the moderator wrote it."""
        max_words = self.config.max_words
        # the model's opening always leads its reply (it is what the model chose); the library's opener only if it fits
        parts: list[str] = [opener] if opener and engine == "llm" else []
        cited: list[Source] = []
        used: list[str] = []
        pieces: list[tuple[str, list[Source], str | None]] = [
            (*library.paragraph(key, lang), key) for key in themes if key in library.themes
        ]
        for source in added:  # right after the first paragraph: the server's own source is what its moderators chose
            pieces.insert(min(1, len(pieces)), (_as_sentence(source.facts[0]), [source], None))
        for words, sources, key in pieces:
            if not sources:
                continue
            order = cited + [s for s in sources if s not in cited]
            marks = "".join(f"[{order.index(s) + 1}]" for s in sources)
            paragraph = f"{words} {marks}"
            if cited and count_words("\n\n".join([*parts, paragraph])) > max_words:
                continue
            parts.append(paragraph)
            cited = order
            if key is not None:
                used.append(key)
        if engine == "llm" and len(parts) > 1:
            parts[:2] = [f"{parts[0]} {parts[1]}"]
        elif parts and opener and count_words("\n\n".join([opener, *parts])) <= max_words:
            parts[0] = f"{opener} {parts[0]}"
        text = sanitize("\n\n".join(parts), max_words=max_words, max_chars=MAX_CHARS - 16)
        text, kept = renumber_citations(text, [s.id for s in cited], [s.id for s in cited])
        by_id = {s.id: s for s in cited}
        return Counterpoint(text, _citations([by_id[sid] for sid in kept]), engine, tuple(used))

    # --- repeated claims ------------------------------------------------------------------------------------------
    def _still_valid(self, cp: Counterpoint, post_text: str, library: Library) -> bool:
        """A cached reply is reused only if every link is still in the library, its text is still clean, and it
        passes the same checks against the NEW post as a fresh reply would (its opening must not copy this post or
        say what this post asks for)."""
        if not cp.citations or any(c.url not in library.urls for c in cp.citations):
            return False
        if has_link(cp.text) or has_live_mention(cp.text):
            return False
        ids = [c.id for c in cp.citations]
        checked = verify(cp.text, ids, ids, post=post_text, system_prompt=self.system_prompt, max_chars=MAX_CHARS)
        if not checked.ok:
            log.info("cached counterpoint not reused: %s", checked.rejected)
            return False
        if cp.engine != "llm":
            return True
        why = opening_problem(
            first_sentence(cp.text), post_text, system_prompt=self.system_prompt, known_names=library.vocabulary
        )
        if why:
            log.info("cached counterpoint not reused: %s", why)
        return not why

    async def _reuse(self, key: str, post_text: str, scope: str, library: Library) -> Counterpoint | None:
        if self.store is None:
            return None
        try:
            found = await self.store.find_counterpoint(key, scope=scope)
            if found is not None and self._still_valid(found, post_text, library):
                return found
            best, best_score = None, self.config.reuse_similarity
            for claim, cp in await self.store.recent_counterpoints(RECENT_CLAIMS, scope=scope):
                score = similarity(claim, post_text)
                if score >= best_score and self._still_valid(cp, post_text, library):
                    best, best_score = cp, score
        except StoreError as exc:
            log.warning("claim cache unavailable (%s); composing afresh", exc)
            return None
        if best is not None:
            log.info("reusing the counterpoint of a similar claim (similarity %.2f)", best_score)
        return best

    async def _remember(
        self, key: str, post_text: str, cp: Counterpoint, *, platform: str | None, post_id: str | None, scope: str
    ) -> None:
        # only model-written replies are cached: a template reply should not stop the model trying next time
        if self.store is None or cp.engine != "llm":
            return
        extra = {"platform": platform, "post_id": post_id} if platform and post_id else {}
        try:
            await self.store.save_counterpoint(key, post_text, cp, scope=scope, **extra)
        except StoreError as exc:
            log.warning("could not cache the counterpoint: %s", exc)


def _server_sources(
    library: Library, themes: Sequence[str], retrieved: Sequence[Source], lang: str | None
) -> list[Source]:
    """Moderator-added sources on the chosen themes, in the reply's language (English when it has none), the
    retrieved ones first, then the newest."""
    wanted = lang or "en"
    added = [s for s in library.sources if s.added_by and s.lang == wanted and set(s.themes) & set(themes)]
    rank = {s.id: i for i, s in enumerate(retrieved)}
    return sorted(added, key=lambda s: rank.get(s.id, len(rank) + len(added) - added.index(s)))


def _as_sentence(fact: str) -> str:
    fact = fact.strip()
    return fact if fact.endswith((".", "!", "?", "。", "！", "？")) else f"{fact}."
