"""A run as a plain object (no Prefect): open, plan, fetch and load in batches, count,
decide failure/drift/status, close. The flows in :mod:`flows` are thin wrappers."""
