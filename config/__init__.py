"""The packaged defaults (settings, prompts, the source library), installed as `bot.config`: this file makes the
folder a package so importlib.resources can find them. Edit the files, not this."""
