"""Deployment: container images (docker/), systemd units, the prepare step, healthchecks."""
