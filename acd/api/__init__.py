"""The engine's HTTP API: live state and seat actions, for the CLI, the web and other systems."""
