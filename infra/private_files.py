"""Files this system writes are its own user's alone: event stores and read models hold NIK and password
hashes, uploads hold ID documents, var/keys holds private keys. Every entry point calls this first."""

from __future__ import annotations

import os

PRIVATE_UMASK = 0o077


def keep_files_private() -> None:
    """New files and folders of this process (and of the processes it starts): owner only."""
    os.umask(PRIVATE_UMASK)
