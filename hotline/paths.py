"""Where things live on a machine: the state directory and the cached Asterisk root.

Nothing here is committed: `var/` is ignored by git, the Asterisk root lives in the user's
cache directory. Both can be moved with environment variables.
"""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """`$HOTLINE_VAR`, else `./var`: generated secrets, SQLite database, logs of the rig."""
    return Path(os.environ.get("HOTLINE_VAR") or "var").resolve()


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hotline12328"


def asterisk_root() -> Path:
    """`$HOTLINE_ASTERISK_ROOT`, else the cached Debian sid root built by `hotline pbx build`."""
    env = os.environ.get("HOTLINE_ASTERISK_ROOT")
    return Path(env).resolve() if env else cache_dir() / "asterisk-root"
