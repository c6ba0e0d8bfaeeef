"""What a service does when the broker or its database goes away: it stays up, reconnects, and says so in one
line.

nameko kills the whole service when a worker cannot send its reply (the broker restarted while the
worker ran): the worker's thread ends with an error and the container treats that as fatal. A reply that
cannot be sent is no reason to stop: the request was not acknowledged, so the broker delivers it again
once it is back (while its caller still waits: it expires with the caller's timeout), and the command id
recorded with the first run's events makes the second run change nothing. ``rpc`` here is nameko's
entrypoint with that difference, replying through the process's pooled publisher (infra/rpc_publisher.py).

A request whose work failed because the database did not answer is answered ``DatabaseUnavailable`` (the
gateway's 503: retry), not with the database's own error (which the gateway could only take for a failed
service, 502), and the process says so once per outage, not once per request (``OneLine`` drops nameko's
line for each).

``OneLine`` keeps a broker or database outage, or a question another service left unanswered, to a line per
event in the log instead of a screen of traceback each.
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.exceptions import RpcTimeout
from nameko.rpc import Rpc

from contracts.errors import DatabaseUnavailable
from infra.outages import BROKER_ERRORS, DATABASE_ERRORS, Outage, is_outage
from infra.rpc_publisher import PooledRpcConsumer

log = logging.getLogger(__name__)

_requests_failing: dict[str, Outage] = {}  # per service (one per process): its requests failing on the database


class ReplyKeepingRpc(Rpc):
    rpc_consumer = PooledRpcConsumer()

    def handle_result(self, message: Any, worker_ctx: Any, result: Any, exc_info: Any) -> tuple[Any, Any]:
        exc_info = _answer_for(worker_ctx.service_name, exc_info)
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


def _answer_for(service: str, exc_info: Any) -> Any:
    """What to answer for a request whose work ended with ``exc_info``: a database that did not answer becomes
    ``DatabaseUnavailable``, and the outage a line when it starts and one when a request is served again."""
    outage = _requests_failing.get(service)
    if outage is None:
        outage = _requests_failing[service] = Outage(
            f"the database of {service}", log, then="requests are answered 'unavailable, retry' meanwhile"
        )
    error = exc_info[1] if exc_info else None
    try:
        if error is None:
            outage.succeeded()
            return exc_info
        if not _database_away(error):
            return exc_info
        outage.failed(error)
    except Exception:  # noqa: BLE001 - the answer must go out whatever the bookkeeping did
        log.exception("the outage of %s could not be recorded", service)
        return exc_info
    unavailable = DatabaseUnavailable("the service's database did not answer; retry with the same Idempotency-Key")
    unavailable.__cause__ = error
    return (DatabaseUnavailable, unavailable, exc_info[2])


def _database_away(error: BaseException) -> bool:
    return isinstance(error, DATABASE_ERRORS) and is_outage(error)


class OneLine(logging.Filter):
    """Log records about a lost broker or database connection, or a question another service left unanswered
    (its event goes back to the broker, to be handled again), without their traceback (one line each)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and _database_away(error) and _of_a_request(record):
            return False  # the request is answered DatabaseUnavailable, and the outage logged once (_answer_for)
        if isinstance(error, (*BROKER_ERRORS, *DATABASE_ERRORS, RpcTimeout)):
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def _of_a_request(record: logging.LogRecord) -> bool:
    """Whether ``record`` is nameko's line about a request's worker (``error handling worker %s: %s``)."""
    worker_ctx = record.args[0] if isinstance(record.args, tuple) and record.args else None
    return isinstance(getattr(worker_ctx, "entrypoint", None), ReplyKeepingRpc)
