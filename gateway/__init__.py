"""The HTTP API and web pages."""

import infra.quiet  # noqa: F401 - before the RPC clients import nameko (and with it eventlet)
