"""Counterpoint: a Discord/Reddit bot that summarizes threads and adds sourced context to US-vs-China AI framing."""

__version__ = "0.1.0"
