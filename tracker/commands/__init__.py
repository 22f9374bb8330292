"""CLI commands that belong to no single experiment, each registered in tracker.cli."""
