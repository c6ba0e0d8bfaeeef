"""`satu relay-reset STORE`: let a relay publish again after its event store was restored or replaced.

A relay refuses a store that no longer holds the event it published last (infra/published.py): the store
hands out the positions of the lost events again, and its read models hold what those events did. The reset
rebuilds every read model of the store from what it holds now (ops/rebuild.py), each recording the position
it was rebuilt through, and sets the relay's position to the lowest of those: every event after it is
published again, and each read model skips what it has applied already.

The reset writes the relay's position without the relay's lock: it acts only while the store does not match
that position, and then no relay publishes or saves one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infra.published import event_id_of, published_mark, save_position, store_mismatch
from infra.readmodel import ReadModel, applied_through
from infra.settings import Settings
from infra.storage import read_model_engine
from infra.topology import REBUILDABLE, ReadModelPart
from ops import rebuild
from ops.sources import open_source


class ResetRefused(RuntimeError):
    """The relay's position is not reset: the message says why."""


@dataclass(frozen=True)
class Reset:
    store: str
    rebuilt: list[str]  # the read models rebuilt from the store
    position: int  # where the relay carries on from
    end: int  # the store's last position at the reset


def reset_relay(store: str, settings: Settings, progress_factory: Callable[[str, int], rebuild.Progress]) -> Reset:
    source = open_source(store, settings)
    positions = read_model_engine(settings, store)
    try:
        recorder = source.application.recorder
        mark = published_mark(positions, store)
        if store_mismatch(recorder, store, mark) is None:
            raise ResetRefused(f"the {store} event store holds the event its relay published last: nothing to reset")
        parts = [part for part in REBUILDABLE if part.source == store]
        rebuild.run_all(parts, settings, True, progress_factory)
        end = source.last_position()
        # Recorded after the relay refused the store: never published, so published now (the rebuilt read models
        # skip them; the mail and the other services' handlers have not seen them).
        never_published = [] if mark.refused_at is None else [mark.refused_at]
        position = min([*(_rebuilt_through(part, settings) for part in parts), *never_published], default=end)
        found = recorder.select_notifications(start=position, limit=1, inclusive_of_start=True)
        event_id = event_id_of(found[0]) if found and found[0].id == position else None
        save_position(positions, store, position, event_id)
        return Reset(store, [part.name for part in parts], position, end)
    finally:
        positions.dispose()
        source.close()


def _rebuilt_through(part: ReadModelPart, settings: Settings) -> int:
    """The position of its log that ``part`` applied every event through (its rebuild records it)."""
    model = ReadModel(part.new_projection(), read_model_engine(settings, part.service))
    try:
        with model.engine.connect() as connection:
            return applied_through(connection, model.projection, part.source)
    finally:
        model.close()
