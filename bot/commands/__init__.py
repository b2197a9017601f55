"""One module per CLI command; each exposes `async def run(args, settings) -> int` (the exit code)."""
