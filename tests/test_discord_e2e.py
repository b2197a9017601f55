"""The real discord.py client against FakeDiscord (REST + gateway on 127.0.0.1), with the whole core behind it.

Replies come from the offline engines (no model: the LLM URL is an unused port), so they are deterministic."""

from __future__ import annotations

import sqlite3

from tests.fakes.discord_kit import (  # noqa: F401 (fixtures)
    FRAMING,
    FRAMING_2,
    ORDINARY,
    bot_with,
    discord_settings,
    eventually,
    fake_discord_fixture,
    judged,
    reply_sent,
    restore_discord_globals_fixture,
)
from tests.fakes.fake_discord import FakeDiscord


def created_in(fake: FakeDiscord, channel: int) -> list:
    return fake.sent("POST", rf"/channels/{channel}/messages$")


async def test_framing_message_gets_exactly_one_reply_and_ordinary_none(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        ordinary = await fake.user_message(fake.general, ORDINARY, author=fake.bob)
        await judged(bot, ordinary)
        post = await fake.user_message(fake.general, FRAMING)
        reply = await fake.wait_request("POST", rf"/channels/{fake.general}/messages$")
        await judged(bot, post)
        # the bot saw its own reply come back through the gateway and ignored it
        assert len(created_in(fake, fake.general)) == 1
        body = reply.body
        assert body["message_reference"]["message_id"] == int(post["id"])
        assert body["allowed_mentions"] == {"parse": [], "replied_user": False}
        embed = body["embeds"][0]
        assert embed["fields"][0]["name"] == "Sources" and "](https://" in embed["fields"][0]["value"]
        assert "Automated note" in embed["footer"]["text"]
        ids = [c["custom_id"] for row in body["components"] for c in row["components"]]
        assert ids == ["cp:vote:up", "cp:vote:down", "cp:dismiss"]
        stored = await reply_sent(bot, post)
        assert stored["reply_id"]
        assert reply.headers["Authorization"] == "Bot fake-token" and fake.heartbeats >= 1


def reviews_in(fake: FakeDiscord) -> list:
    return [
        r for r in created_in(fake, fake.mods) if r.body.get("embeds") and "Review #" in r.body["embeds"][0]["title"]
    ]


async def test_second_framing_within_cooldown_is_queued_then_approved_by_a_moderator(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        first = await fake.user_message(fake.general, FRAMING)
        await reply_sent(bot, first)
        second = await fake.user_message(fake.general, FRAMING_2, author=fake.bob)
        review = (await fake.wait_for(lambda: reviews_in(fake), what="a review item in #mods"))[0]
        assert len(created_in(fake, fake.general)) == 1  # held back, not replied
        buttons = [c["custom_id"] for row in review.body["components"] for c in row["components"]]
        assert buttons[0].startswith("cp:review:approve:") and buttons[1].startswith("cp:review:reject:")
        review_msg = next(m for m in fake.messages.values() if m["channel_id"] == str(fake.mods) and m["components"])

        refused = await fake.click(review_msg, buttons[0], user=fake.bob)
        await fake.wait_for(lambda: fake.callback(refused), what="the refusal")
        assert "Only moderators" in fake.callback(refused)["data"]["content"]
        assert len(created_in(fake, fake.general)) == 1

        await fake.click(review_msg, buttons[0], user=fake.moderator, moderator=True)
        await reply_sent(bot, second)
        replies = created_in(fake, fake.general)
        assert len(replies) == 2 and replies[1].body["message_reference"]["message_id"] == int(second["id"])
        edit = await fake.wait_request("PATCH", r"/webhooks/\d+/[^/]+/messages/@original")
        assert edit.body["components"] == [] and "Approved by mod_maria" in edit.body["embeds"][0]["footer"]["text"]
        stats = await bot.resources.store.stats()
        assert stats["approved"] == 1 and stats["replies"] == 2


async def test_shadow_mode_posts_to_the_moderator_channel_only(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake, mode="shadow")) as bot:
        post = await fake.user_message(fake.general, FRAMING)
        row = await reply_sent(bot, post)
        assert row["kind"] == "shadow"
        shadow = [r for r in created_in(fake, fake.mods) if "Shadow mode" in str(r.body.get("embeds"))]
        assert len(shadow) == 1 and "message_reference" not in shadow[0].body
        assert shadow[0].body["allowed_mentions"]["parse"] == []
        assert created_in(fake, fake.general) == []


async def test_votes_are_stored_one_per_user_and_changeable(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        post = await fake.user_message(fake.general, FRAMING)
        reply = fake.messages[int((await reply_sent(bot, post))["reply_id"])]
        store = bot.resources.store
        first = await fake.click(reply, "cp:vote:up", user=fake.bob)
        await fake.click(reply, "cp:vote:up", user=fake.bob)  # a second press does not count twice
        await fake.click(reply, "cp:vote:up", user=fake.moderator)
        await fake.wait_for(lambda: len(fake.callbacks) == 3, what="three answers")
        assert fake.callback(first)["type"] == 4 and fake.callback(first)["data"]["flags"] == 64  # ephemeral
        assert await store.votes_for("discord", reply["id"]) == (2, 0)
        await fake.click(reply, "cp:vote:down", user=fake.bob)
        await eventually(lambda: _equals(store.votes_for("discord", reply["id"]), (1, 1)), what="the changed vote")


async def _equals(coro, expected) -> bool:
    return await coro == expected


async def test_dismiss_is_refused_for_members_and_deletes_with_a_reason_for_moderators(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        post = await fake.user_message(fake.general, FRAMING)
        reply = fake.messages[int((await reply_sent(bot, post))["reply_id"])]
        refused = await fake.click(reply, "cp:dismiss", user=fake.bob)
        await fake.wait_for(lambda: fake.callback(refused), what="the refusal")
        assert "Only moderators" in fake.callback(refused)["data"]["content"]
        assert int(reply["id"]) in fake.messages

        opened = await fake.click(reply, "cp:dismiss", user=fake.moderator, moderator=True)
        modal = (await fake.wait_for(lambda: fake.callback(opened), what="the modal"))["data"]
        assert fake.callback(opened)["type"] == 9
        text_input = modal["components"][0]["components"][0]["custom_id"]
        await fake.submit_modal(modal, {text_input: "off-topic here"}, message=reply, user=fake.moderator,
                                moderator=True)  # fmt: skip
        await fake.wait_request("DELETE", rf"/channels/{fake.general}/messages/{reply['id']}")
        stored = await eventually(lambda: _dismissed(bot, post), what="the dismissal recorded")
        assert (stored["dismissed_by"], stored["dismiss_reason"]) == (fake.moderator["id"], "off-topic here")
        assert stored["reply_id"] == reply["id"] and (await bot.resources.store.stats())["dismissed"] == 1
        told = await fake.wait_for(lambda: len(fake.callbacks) == 3 and fake.callbacks[-1], what="the confirmation")
        assert "your reason is recorded" in told["data"]["content"]


async def _dismissed(bot, post) -> dict | None:
    row = await bot.resources.store.get_reply("discord", post["id"])
    return row if row and row["dismissed_at"] else None


async def test_summarize_defers_then_follows_up_with_jump_links(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        for text in ("Which quantization do you use for Qwen on a 3090?", "Q4_K_M works well for me.",
                     "Gemma 3 also runs fine with flash attention."):  # fmt: skip
            fake.message_payload(fake.general, fake.bob, text)  # history only, no events
        iid = await fake.slash("summarize", [{"name": "public", "type": 5, "value": True}])
        follow = await fake.wait_request("POST", rf"/webhooks/\d+/itoken-{iid}$")
        deferred = fake.callback(iid)
        assert deferred["type"] == 5 and not (deferred.get("data") or {}).get("flags")  # public: not ephemeral
        assert "Thread summary" in follow.body["content"]
        assert f"https://discord.com/channels/{bot.guilds[0].id}/{fake.general}/" in follow.body["content"]
        assert follow.body["allowed_mentions"] == {"parse": []}
        assert len(await bot.resources.store.thread_posts("discord", str(fake.general))) == 3


async def test_a_restart_does_not_answer_the_same_message_again(tmp_path, fake: FakeDiscord):
    settings = discord_settings(tmp_path, fake)
    async with bot_with(settings) as bot:
        post = await fake.user_message(fake.general, FRAMING)
        reply = fake.messages[int((await reply_sent(bot, post))["reply_id"])]
    async with bot_with(settings) as bot:
        await fake.redeliver(post)
        barrier = await fake.user_message(fake.general, ORDINARY)  # judged after the re-delivered one
        await judged(bot, barrier)
        assert len(created_in(fake, fake.general)) == 1
        assert len(fake.identifies) == 2
        # the buttons of a reply sent before the restart still work (persistent view)
        await fake.click(reply, "cp:vote:up", user=fake.bob)
        await eventually(lambda: _equals(bot.resources.store.votes_for("discord", reply["id"]), (1, 0)))


async def test_a_429_on_the_reply_is_waited_out(tmp_path, fake: FakeDiscord):
    fake.rate_limit("POST", rf"/channels/{fake.general}/messages$", retry_after=0.2)
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        post = await fake.user_message(fake.general, FRAMING)
        await reply_sent(bot, post)
        statuses = [r.status for r in fake.requests if r.path.endswith(f"/channels/{fake.general}/messages")]
        assert statuses == [429, 200]


async def test_a_deleted_message_is_gone_from_the_database(tmp_path, fake: FakeDiscord):
    settings = discord_settings(tmp_path, fake)
    secret = "My very personal note about the AI race with China, please forget it."
    async with bot_with(settings) as bot:
        msg = await fake.user_message(fake.general, secret, author=fake.bob)
        await judged(bot, msg)
        assert (await bot.resources.store.get_post("discord", msg["id"])).text == secret
        await fake.delete_message(fake.general, int(msg["id"]))
        await eventually(lambda: _is_none(bot.resources.store.get_post("discord", msg["id"])), what="the deletion")
    with sqlite3.connect(settings.storage.path) as db:
        rows = db.execute("SELECT text FROM posts WHERE post_id = ?", (msg["id"],)).fetchall()
    assert rows == [(None,)]
    with open(settings.storage.path, "rb") as fh:
        assert secret.encode() not in fh.read()


async def _is_none(coro) -> bool:
    return await coro is None


async def test_an_opted_out_user_is_ignored_and_a_thread_reply_lands_in_the_thread(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        iid = await fake.slash("optout", user=fake.bob)
        await fake.wait_for(lambda: fake.callback(iid), what="the /optout answer")
        ignored = await fake.user_message(fake.thread, FRAMING, author=fake.bob)
        post = await fake.user_message(fake.thread, FRAMING_2)  # alice, same thread: answered
        row = await reply_sent(bot, post)
        assert await bot.resources.store.get_post("discord", ignored["id"]) is None
        replies = created_in(fake, fake.thread)
        assert len(replies) == 1 and replies[0].body["message_reference"]["message_id"] == int(post["id"])
        stored = await bot.resources.store.get_post("discord", post["id"])
        assert stored.thread_id == str(fake.thread) and stored.channel_id == str(fake.general)
        assert row["thread_id"] == str(fake.thread)


async def test_moderator_commands_are_checked_in_code_and_settings_apply(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake, watch_channels=[])) as bot:
        sync = fake.sent("PUT", r"/applications/\d+/commands$")[-1].body
        names = {c["name"] for c in sync}
        assert {"summarize", "Summarize thread", "watch", "settings", "modsummary", "stats", "review"} <= names
        assert {"optout", "optin", "mydata"} <= names
        watch = next(c for c in sync if c["name"] == "watch")
        assert int(watch["default_member_permissions"]) == 1 << 5  # a hint only: the check runs in code too

        add = [{"name": "add", "type": 1, "options": [{"name": "channel", "type": 7, "value": str(fake.general)}]}]
        refused = await fake.slash("watch", add, user=fake.bob)
        answer = (await fake.wait_for(lambda: fake.callback(refused), what="the refusal"))["data"]
        assert answer["flags"] == 64 and "for moderators" in answer["content"]
        assert await bot.resources.store.watched() == []

        ok = await fake.slash("watch", add, user=fake.moderator, moderator=True)
        await fake.wait_for(lambda: fake.callback(ok), what="/watch add")
        assert await bot.resources.store.watched() == [(str(bot.guilds[0].id), str(fake.general))]
        opts = [{"name": "mode", "type": 3, "value": "shadow"}, {"name": "cooldown", "type": 4, "value": 60}]
        done = await fake.slash("settings", opts, user=fake.moderator, moderator=True)
        text = (await fake.wait_for(lambda: fake.callback(done), what="/settings"))["data"]["content"]
        assert "mode: shadow" in text and "cooldown: 60 s" in text

        post = await fake.user_message(fake.general, FRAMING)
        assert (await reply_sent(bot, post))["kind"] == "shadow"  # watched by command, mode from /settings
        assert created_in(fake, fake.general) == []

        stats = await fake.slash("stats", user=fake.moderator, moderator=True)
        embed = (await fake.wait_for(lambda: fake.callback(stats), what="/stats"))["data"]["embeds"][0]
        assert {"name": "Framing detections", "value": "1", "inline": True} in embed["fields"]
        engine = next(f["value"] for f in embed["fields"] if f["name"] == "Who decides whether a post frames")
        assert engine == "framing.engine = 'lexical', set in the config"  # these tests configure lexical

        digest = await fake.slash("modsummary", user=fake.moderator, moderator=True)
        piece = (await fake.wait_request("POST", rf"/webhooks/\d+/itoken-{digest}$")).body
        assert "Moderator digest" in piece["content"] and "Framing detections__: 1" in piece["content"]
        assert f"/{fake.general}/{post['id']}>)" in piece["content"] and piece["flags"] & 64


async def test_edits_and_bulk_deletes_reach_the_store(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        store = bot.resources.store
        a = await fake.user_message(fake.general, ORDINARY)
        b = await fake.user_message(fake.general, ORDINARY + " Again.")
        await judged(bot, b)
        await fake.edit_message(int(a["id"]), "edited words")
        await eventually(lambda: _equals(_text(store, a["id"]), "edited words"), what="the edit")
        await fake.bulk_delete(fake.general, [int(a["id"]), int(b["id"])])
        await eventually(lambda: _equals(store.thread_posts("discord", str(fake.general)), []), what="bulk delete")


async def _text(store, post_id: str) -> str | None:
    post = await store.get_post("discord", post_id)
    return post.text if post else None


async def test_other_bots_are_never_answered_and_a_refused_send_releases_the_claim(tmp_path, fake: FakeDiscord):
    fake.fail("POST", rf"/channels/{fake.general}/messages$", status=403)
    other_bot = {**fake.bob, "id": "920000000000000009", "username": "rssbot", "bot": True}
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        from_bot = await fake.user_message(fake.general, FRAMING, author=other_bot)
        refused = await fake.user_message(fake.general, FRAMING_2)
        await fake.wait_for(lambda: [r for r in fake.requests if r.status == 403], what="the refused send")
        await eventually(lambda: _is_none(bot.resources.store.get_reply("discord", refused["id"])), what="release")
        assert await bot.resources.store.get_verdict("discord", from_bot["id"]) is None  # stored, never judged
        assert (await bot.resources.store.get_post("discord", from_bot["id"])).author_is_bot
        assert created_in(fake, fake.general) == []


async def test_shadow_without_a_moderator_channel_keeps_the_item_in_the_review_queue(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake, mode="shadow", mod_channel="")) as bot:
        post = await fake.user_message(fake.general, FRAMING)
        pending = await eventually(bot.resources.store.pending_reviews, what="a queued review")
        assert pending[0].post_id == post["id"] and pending[0].payload["counterpoint"]["citations"]
        assert await bot.resources.store.get_reply("discord", post["id"]) is None
        assert fake.sent() == []


async def test_context_menu_summarizes_and_reddit_urls_need_reddit(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        target = fake.message_payload(fake.thread, fake.bob, "Is the open-weight gap really four months?")
        fake.message_payload(fake.thread, fake.alice, "Epoch says so, on average since January.")
        iid = await fake.context_menu("Summarize thread", target)
        follow = await fake.wait_request("POST", rf"/webhooks/\d+/itoken-{iid}$")
        assert fake.callback(iid)["data"]["flags"] & 64 and follow.body["flags"] & 64  # only the caller sees it
        assert f"/{fake.thread}/{target['id']}>" in follow.body["content"]

        url = [{"name": "url", "type": 3, "value": "https://www.reddit.com/r/LocalLLaMA/comments/abc123/x/"}]
        iid = await fake.slash("summarize", url)
        said = await fake.wait_request("POST", rf"/webhooks/\d+/itoken-{iid}$")
        assert said.body["content"] == "Reddit is not configured on this bot." and said.body["flags"] == 64
        assert bot.reddit is None


async def test_review_buttons_work_after_a_restart_and_are_posted_once(tmp_path, fake: FakeDiscord):
    settings = discord_settings(tmp_path, fake)
    async with bot_with(settings) as bot:
        await reply_sent(bot, await fake.user_message(fake.general, FRAMING))
        held = await fake.user_message(fake.general, FRAMING_2)
        await fake.wait_for(lambda: reviews_in(fake), what="the review item")
    review_msg = next(m for m in fake.messages.values() if m["channel_id"] == str(fake.mods) and m["components"])
    reject = review_msg["components"][0]["components"][1]["custom_id"]
    async with bot_with(settings) as bot:
        await bot.get_cog("Moderation").announcer.announce_pending()
        assert len(reviews_in(fake)) == 1  # the checkpoint: not posted again
        iid = await fake.click(review_msg, reject, user=fake.moderator, moderator=True)
        await fake.wait_request("PATCH", rf"/webhooks/\d+/itoken-{iid}/messages/@original")
        review = (await bot.resources.store.pending_reviews()) or [None]
        assert review == [None] and (await bot.resources.store.stats())["rejected"] == 1
        assert await bot.resources.store.get_reply("discord", held["id"]) is None


async def test_a_thread_unknown_to_the_cache_is_fetched_and_watched_through_its_parent(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        revived = fake.add_thread(fake.general, "old-thread")
        post = await fake.user_message(revived, FRAMING)
        await reply_sent(bot, post)
        assert fake.sent("GET", rf"/channels/{revived}$")
        stored = await bot.resources.store.get_post("discord", post["id"])
        assert (stored.thread_id, stored.channel_id) == (str(revived), str(fake.general))
        assert len(created_in(fake, revived)) == 1


class StubReddit:
    """Stands in for the Reddit front door (the RedditHook protocol): records what it was asked to post."""

    def __init__(self, pipeline) -> None:
        self.pipeline, self.asked = pipeline, []

    async def reply(self, decision) -> str:
        self.asked.append(decision)
        await self.pipeline.sent(decision, "t1_reply")  # as the real door does
        return "t1_reply"


async def test_a_reddit_review_item_is_posted_to_the_moderators_and_approval_goes_to_the_reddit_hook(
    tmp_path, fake: FakeDiscord
):
    from datetime import UTC, datetime

    from bot.app import build_resources
    from bot.models import Post
    from bot.serialize import counterpoint_to_dict
    from tests.fakes.discord_kit import running

    settings = discord_settings(tmp_path, fake)
    async with build_resources(settings) as resources:
        post = Post("reddit", "t1_abc", "t3_x", "u9", "redditor", FRAMING, datetime.now(UTC), channel_id="LocalLLaMA")
        await resources.store.add_post(post)
        cp = await resources.composer.compose(post.text, await resources.detector.detect(post.text))
        payload = {"text": post.text, "author": "redditor", "guild_id": "", "counterpoint": counterpoint_to_dict(cp)}
        await resources.store.enqueue_review("reddit", "t1_abc", payload=payload)
        hook = StubReddit(resources.pipeline)
        async with running(resources, reddit=hook):
            review = (await fake.wait_for(lambda: reviews_in(fake), what="the Reddit review item"))[0]
            assert "(reddit)" in review.body["embeds"][0]["title"]
            msg = next(m for m in fake.messages.values() if m["channel_id"] == str(fake.mods) and m["components"])
            approve = msg["components"][0]["components"][0]["custom_id"]
            await fake.click(msg, approve, user=fake.moderator, moderator=True)
            await fake.wait_for(lambda: hook.asked, what="the Reddit hook to be asked")
            edit = await fake.wait_request("PATCH", r"/webhooks/\d+/[^/]+/messages/@original")
            assert "reply posted on Reddit" in edit.body["embeds"][0]["footer"]["text"]
        assert hook.asked[0].post.post_id == "t1_abc" and hook.asked[0].counterpoint == cp
        assert (await resources.store.get_reply("reddit", "t1_abc"))["status"] == "sent"
        assert created_in(fake, fake.general) == []


async def test_an_approved_reply_that_discord_refuses_goes_back_to_the_queue(tmp_path, fake: FakeDiscord):
    async with bot_with(discord_settings(tmp_path, fake)) as bot:
        first = await fake.user_message(fake.general, FRAMING)
        await reply_sent(bot, first)
        second = await fake.user_message(fake.general, FRAMING_2, author=fake.bob)
        review = (await fake.wait_for(lambda: reviews_in(fake), what="a review item in #mods"))[0]
        approve = next(c["custom_id"] for row in review.body["components"] for c in row["components"])
        review_msg = next(m for m in fake.messages.values() if m["channel_id"] == str(fake.mods) and m["components"])
        review_id = int(approve.rsplit(":", 1)[1])

        fake.fail("POST", rf"/channels/{fake.general}/messages$", status=403)
        await fake.click(review_msg, approve, user=fake.moderator, moderator=True)
        await fake.wait_for(lambda: [r for r in fake.requests if r.status == 403], what="the refused reply")
        await eventually(
            lambda: _status_is(bot.resources.store.get_review(review_id), "pending"), what="the item back in the queue"
        )
        assert await bot.resources.store.get_reply("discord", second["id"]) is None
        assert len(created_in(fake, fake.general)) == 1

        await fake.click(review_msg, approve, user=fake.moderator, moderator=True)  # the retry goes out
        await reply_sent(bot, second)
        assert len(created_in(fake, fake.general)) == 2


async def _status_is(review, status: str) -> bool:
    item = await review
    return item is not None and item.status == status
