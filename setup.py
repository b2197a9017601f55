"""Only the package list lives here (the rest is pyproject.toml): every package under bot/ is found automatically,
plus cogs/ and config/, which the wheel installs as bot.cogs and bot.config (see [tool.setuptools.package-dir])."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["bot", "bot.*"]), "bot.cogs", "bot.config"])
