"""Local fake servers on 127.0.0.1 that real clients (httpx, praw, discord.py) talk to in tests."""
