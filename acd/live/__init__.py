"""The live snapshot in Redis and the change channel the wallboard reads."""
