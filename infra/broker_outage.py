"""What a service does when the broker goes away: it stays up, reconnects, and says so in one line.

nameko kills the whole service when a worker cannot send its reply (the broker restarted while the
worker ran): the worker's thread ends with an error and the container treats that as fatal. A reply that
cannot be sent is no reason to stop: the request was not acknowledged, so the broker delivers it again
once it is back (while its caller still waits: it expires with the caller's timeout), and the command id
recorded with the first run's events makes the second run change nothing. ``rpc`` here is nameko's
entrypoint with that difference, replying through the process's pooled publisher (infra/rpc_publisher.py).

``OneLine`` keeps a broker or database outage, or a question another service left unanswered, to a line per
event in the log instead of a screen of traceback each.
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.exceptions import RpcTimeout
from nameko.rpc import Rpc

from infra.outages import BROKER_ERRORS, DATABASE_ERRORS
from infra.rpc_publisher import PooledRpcConsumer

log = logging.getLogger(__name__)


class ReplyKeepingRpc(Rpc):
    rpc_consumer = PooledRpcConsumer()

    def handle_result(self, message: Any, worker_ctx: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except BROKER_ERRORS as error:
            log.warning(
                "the answer to %s was not sent: the broker is unreachable (%s); the request will be delivered "
                "again and answered then",
                worker_ctx.call_id, type(error).__name__,
            )  # fmt: skip
            return result, exc_info


rpc = ReplyKeepingRpc.decorator


class OneLine(logging.Filter):
    """Log records about a lost broker or database connection, or a question another service left unanswered
    (its event goes back to the broker, to be handled again), without their traceback (one line each)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, (*BROKER_ERRORS, *DATABASE_ERRORS, RpcTimeout)):
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True
