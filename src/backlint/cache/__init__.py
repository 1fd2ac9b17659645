"""The persistent cache: what earlier runs learned about files that did not change.

- ``keys``: what an entry is keyed by (content digests, the engine's fingerprint, the
  settings that shape a pass) and the stat manifest that skips re-hashing.
- ``store``: entries on disk, written atomically and read back only if intact.
- ``results``: the run-facing side: per-file results, project outcomes and per-module
  summaries, kept in memory for the life of a workspace and on disk between runs.
"""
