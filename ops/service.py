"""Run one nameko service: ``python -m ops.service submissions`` (the same as ``nameko run`` with our config)."""

from __future__ import annotations

import sys
from pathlib import Path

import infra.quiet  # noqa: F401,I001 - before nameko imports eventlet
from infra.topology import SERVICE_NAMES, SERVICES

NAMEKO_CONFIG = Path(__file__).with_name("nameko.yaml")


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in SERVICE_NAMES:
        sys.exit(f"usage: python -m ops.service {{{','.join(SERVICE_NAMES)}}}")
    from nameko.cli.main import main as nameko_main

    # The broker address reaches the service through SATU_AMQP_URI, substituted in nameko.yaml.
    sys.argv = ["nameko", "run", "--config", str(NAMEKO_CONFIG), SERVICES[SERVICE_NAMES.index(argv[0])].module]
    nameko_main()


if __name__ == "__main__":
    main(sys.argv[1:])
