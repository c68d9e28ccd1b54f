"""What only researchers' tools use (the `machbot` CLI, tests): publishing, promoting, rolling back,
routing, and reading users' reports and per-version stats. The function's triggers never import it."""
