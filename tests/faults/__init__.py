"""Fault suite: what the user sees when the model, the database, a platform or the process itself fails."""
