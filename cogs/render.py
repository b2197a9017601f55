"""Pure rendering: core values -> Discord embeds and text, always within Discord's limits. No I/O here.

Limits: message text 2,000; embed title 256, description 4,096, field name 256, field value 1,024, footer 2,048,
25 fields, 6,000 characters over the whole embed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import discord

from bot.counterpoint.feedback import ThemeFeedback
from bot.models import Citation, Counterpoint, Decision, ReviewItem, Summary
from bot.summary.format import render_summary_text
from bot.text.clean import neutralize_mentions, quote
from bot.text.limits import clip, split_text

TEXT_LIMIT = 2000
TITLE_LIMIT, DESCRIPTION_LIMIT, FIELD_LIMIT, FOOTER_LIMIT, EMBED_TOTAL, MAX_FIELDS = 256, 4096, 1024, 2048, 6000, 25
FOOTER = "Automated note from Counterpoint · sources come from a curated library · vote below"
COLOUR = discord.Colour(0x4E79A7)


def jump_url(guild_id: str, channel_id: str, message_id: str) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def sources_lines(citations: Sequence[Citation]) -> str:
    """Numbered source links, as many whole lines as fit in one embed field."""
    out = ""
    for n, c in enumerate(citations, 1):
        title = clip(quote(c.title).replace("[", "(").replace("]", ")"), 150)
        line = f"{n}. [{title}]({c.url.replace(')', '%29')})"
        if len(out) + len(line) + 1 > FIELD_LIMIT:
            break
        out = f"{out}\n{line}" if out else line
    return out


def counterpoint_embed(cp: Counterpoint, *, title: str = "Some context on the US-vs-China framing") -> discord.Embed:
    embed = discord.Embed(title=title, description=neutralize_mentions(cp.text), colour=COLOUR)
    if cp.citations:
        embed.add_field(name="Sources", value=sources_lines(cp.citations), inline=False)
    embed.set_footer(text=FOOTER)
    return fit_embed(embed)


def shadow_embed(decision: Decision) -> discord.Embed:
    """What the bot would have answered (shadow mode), for moderators."""
    post = decision.post
    cp = decision.counterpoint or Counterpoint("", (), "none")
    embed = counterpoint_embed(cp, title="Shadow mode: the bot would have replied")
    where = f"[message]({post.url})" if post.url else f"message {post.post_id}"
    embed.insert_field_at(
        0, name="Post", value=f"{where} by {quote(post.author_name)}: “{clip(quote(post.text), 600)}”"
    )
    embed.set_footer(text=f"Not posted in the thread · {decision.reason}")
    return fit_embed(embed)


def review_embed(review: ReviewItem) -> discord.Embed:
    """A queued item: the post, why it was held back, and the counterpoint that approval would post."""
    payload = review.payload
    cp_raw = payload.get("counterpoint")
    cp: Mapping[str, Any] = cp_raw if isinstance(cp_raw, Mapping) else {}
    text = str(cp.get("text", ""))
    embed = discord.Embed(title=f"Review #{review.id} ({review.platform})", colour=COLOUR)
    embed.description = neutralize_mentions(text) or "(the counterpoint is no longer stored)"
    url = str(payload.get("url") or "")
    where = f"[post]({url})" if url else f"post {review.post_id}"
    excerpt = clip(quote(str(payload.get("text") or "")), 600) or "(text removed)"
    embed.add_field(name="Post", value=f"{where} by {quote(str(payload.get('author') or 'someone'))}: “{excerpt}”")
    cites = [
        Citation(str(c.get("id", "")), str(c.get("title", "")), str(c.get("url", ""))) for c in cp.get("citations", [])
    ]
    if cites:
        embed.add_field(name="Sources", value=sources_lines(cites), inline=False)
    embed.set_footer(text=f"Held back: {payload.get('reason') or 'review'} · Approve posts it as a reply")
    return fit_embed(embed)


def decided_embed(embed: discord.Embed, verdict: str) -> discord.Embed:
    """The review message after a moderator decided: same content, the decision in the footer."""
    out = embed.copy()
    out.set_footer(text=verdict)
    return fit_embed(out)


def summary_pieces(summary: Summary, link: Callable[[str], str | None]) -> list[str]:
    """The summary as messages of at most 2,000 characters; sources become short numbered jump links."""
    numbers: dict[str, int] = {}

    def cite(post_id: str) -> str:
        url = link(post_id)
        n = numbers.setdefault(post_id, len(numbers) + 1)
        return f"[{n}](<{url}>)" if url else str(n)

    return split_text(render_summary_text(summary, link=cite), TEXT_LIMIT)


def stats_embed(
    stats: Mapping[str, Any],
    *,
    period: str,
    fallbacks: Mapping[str, int] | None = None,
    themes: Sequence[ThemeFeedback] = (),
    window_days: int = 0,
    engine: str = "",
) -> discord.Embed:
    embed = discord.Embed(title=f"Counterpoint stats ({period})", colour=COLOUR)
    rows = (
        ("Messages seen", "posts"), ("Framing detections", "detections"), ("Replies posted", "replies"),
        ("Replies dismissed by moderators", "dismissed"), ("Helpful votes", "votes_up"),
        ("Not helpful votes", "votes_down"), ("Approved by moderators", "approved"),
        ("Rejected by moderators", "rejected"), ("Waiting for review", "pending_reviews"),
    )  # fmt: skip
    for name, key in rows:
        embed.add_field(name=name, value=str(int(stats.get(key, 0) or 0)))
    reviewed = int(stats.get("approved", 0) or 0) + int(stats.get("rejected", 0) or 0)
    precision = (
        f"{float(stats.get('precision', 0.0)):.0%} of {reviewed} reviewed" if reviewed else "nothing reviewed yet"
    )
    embed.add_field(name="Precision (approved / reviewed)", value=precision)
    embed.add_field(name="Fell back from the model", value=fallback_lines(fallbacks or {}), inline=False)
    if themes:
        lines = [
            f"`{t.theme}`: +{t.helpful} / -{t.not_helpful}, {t.dismissed} dismissed in {t.replies} replies"
            + (" (used less)" if t.used_less else "")
            for t in sorted(themes, key=lambda t: (-t.replies, t.theme))
        ]
        embed.add_field(name=f"Helpfulness by theme (last {window_days} days)", value="\n".join(lines), inline=False)
    if engine:
        embed.add_field(name="Who decides whether a post frames", value=clip(engine, 1000), inline=False)
    return fit_embed(embed)


def fallback_lines(counts: Mapping[str, int]) -> str:
    """{"counterpoint:copy": 3, ...} as one line per kind: "Counterpoints → cited template: 5 (copy 3, payload 2)"."""
    kinds = {"counterpoint": "Counterpoints → cited template", "summary": "Summaries → extractive"}
    lines = []
    for kind, title in kinds.items():
        reasons = {k.split(":", 1)[1]: n for k, n in counts.items() if k.startswith(kind + ":")}
        detail = ", ".join(f"{why} {n}" for why, n in reasons.items())
        lines.append(f"{title}: {sum(reasons.values())}" + (f" ({detail})" if detail else ""))
    return "\n".join(lines)


def mydata_pieces(data: Mapping[str, Any], *, max_texts: int = 20) -> list[str]:
    """What is stored about a person, as plain text pieces (sent ephemerally)."""
    lines = [
        "**What Counterpoint stores about you here**",
        f"• Opted out: {'yes' if data.get('opted_out') else 'no'}",
        f"• Names seen: {', '.join(quote(n) for n in data.get('names', [])) or 'none'}",
        f"• Messages stored: {data.get('posts', 0)} ({len(data.get('texts', []))} with text)",
        f"• Framing verdicts on them: {data.get('verdicts', 0)}; bot replies to them: {data.get('replies_to_them', 0)}",
        f"• Your votes on bot replies: {data.get('votes', 0)}",
    ]
    texts = list(data.get("texts", []))
    for item in texts[:max_texts]:
        verdict = f" ({item.get('verdict')})" if item.get("verdict") else ""
        lines.append(f"> {item.get('created_at', '')[:16]}{verdict}: {clip(quote(str(item.get('text') or '')), 300)}")
    if len(texts) > max_texts:
        lines.append(f"… and {len(texts) - max_texts} more messages.")
    lines.append("Use `/mydata forget` to erase all of it, `/optout` to stop the bot storing or answering you.")
    return split_text(neutralize_mentions("\n".join(lines)), TEXT_LIMIT)


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """Clip every part to its limit; then, until the whole embed fits 6,000 characters, shorten the description,
    drop trailing fields, and shorten the description further."""
    if embed.title:
        embed.title = clip(embed.title, TITLE_LIMIT)
    if embed.description:
        embed.description = clip(embed.description, DESCRIPTION_LIMIT)
    fields = embed.fields[:MAX_FIELDS]
    embed.clear_fields()
    for f in fields:
        embed.add_field(name=clip(f.name or "-", 256), value=clip(f.value or "-", FIELD_LIMIT), inline=bool(f.inline))
    if embed.footer.text:
        embed.set_footer(text=clip(embed.footer.text, FOOTER_LIMIT), icon_url=embed.footer.icon_url)
    _trim_description(embed, keep=1000)  # the text matters most: shorten it, but not below 1,000 characters
    while len(embed) > EMBED_TOTAL and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    _trim_description(embed, keep=1)
    return embed


def _trim_description(embed: discord.Embed, *, keep: int) -> None:
    excess = len(embed) - EMBED_TOTAL
    if excess > 0 and embed.description:
        embed.description = clip(
            embed.description, max(len(embed.description) - excess, min(keep, len(embed.description)))
        )
