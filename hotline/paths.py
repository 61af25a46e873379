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


def private_dir(path: Path) -> Path:
    """`path` as a directory only this user may enter (0700): made so if it is new (created
    with that mode, under a 077 umask), tightened if it is ours and wider. The state
    directory holds secrets, the database and personal data: it is always one."""
    old = os.umask(0o077)
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    finally:
        os.umask(old)
    st = path.stat()
    if st.st_uid == os.geteuid() and st.st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_state_dir() -> Path:
    """The state directory, made private (see `private_dir`)."""
    return private_dir(state_dir())


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hotline12328"


def asterisk_root() -> Path:
    """`$HOTLINE_ASTERISK_ROOT`, else the cached Debian sid root built by `hotline pbx build`."""
    env = os.environ.get("HOTLINE_ASTERISK_ROOT")
    return Path(env).resolve() if env else cache_dir() / "asterisk-root"
