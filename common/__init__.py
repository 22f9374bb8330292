"""The bottom of the dependency graph, shared by ``sim``, ``tracker`` and ``experiments``.

- ``common.errors``: ``InputError``, every bad user input (the CLI prints one line, exit 2);
- ``common.atomic``: atomic file writes and the check that outputs do not clobber inputs;
- ``common.config``: TOML reading and typed, validated config dataclasses from TOML tables;
- ``common.cli_types``: click parameter types (seeds, finite float ranges).

It imports nothing from the rest of the project, and nothing heavy (no torch, numpy or scipy).
"""
