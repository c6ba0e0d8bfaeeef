"""Silence eventlet's import-time deprecation banner (nameko 2.14 needs eventlet; the banner is noise).

Import this before anything that imports nameko or eventlet.
"""

from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
