"""Run one nameko service: ``python -m ops.service submissions`` (the same as ``nameko run`` with our config)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import infra.quiet  # noqa: F401,I001 - before anything imports eventlet
from infra.topology import SERVICE_NAMES, SERVICES

NAMEKO_CONFIG = Path(__file__).with_name("nameko.yaml")


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in SERVICE_NAMES:
        sys.exit(f"usage: python -m ops.service {{{','.join(SERVICE_NAMES)}}}")
    patch_process()
    from nameko.cli.main import main as nameko_main

    from infra.private_files import keep_files_private
    from infra.settings import load_settings

    keep_files_private()
    settings = load_settings()  # a bad variable stops here with one line, before nameko starts
    # The broker address reaches the service through SATU_AMQP_URI, substituted in nameko.yaml, and the
    # TLS options of an amqps:// broker through SATU_AMQP_SSL (JSON is YAML).
    tls = settings.amqp_config().get("AMQP_SSL")
    os.environ["SATU_AMQP_SSL"] = json.dumps(tls) if tls else "null"
    sys.argv = ["nameko", "run", "--config", str(NAMEKO_CONFIG), SERVICES[SERVICE_NAMES.index(argv[0])].module]
    nameko_main()


def patch_process() -> None:
    """As `nameko run` does, but before the settings load: patching after their imports breaks what they hold.
    Then psycopg waits as a green process should (infra/green.py). Here, in the service's own process only:
    importing this module must patch nothing."""
    import eventlet

    eventlet.monkey_patch()
    from infra.green import make_psycopg_green

    make_psycopg_green()


if __name__ == "__main__":
    main(sys.argv[1:])
