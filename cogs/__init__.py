"""Discord adapters only: Message/Interaction <-> core values. No SQL, no HTTP of their own, no prompt text.

Loaded by bot.discord_bot.CounterpointBot.setup_hook from its EXTENSIONS tuple; render.py, common.py and
replies.py are helpers, not extensions.
"""
