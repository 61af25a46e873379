"""The web: the supervisor wallboard and the seat console, on the engine's HTTP server."""
