"""Quality scoring of recordings (质检评分): a score sheet from a file, scores kept per call."""
