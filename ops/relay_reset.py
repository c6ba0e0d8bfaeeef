"""`satu relay-reset STORE`: let a relay publish again after its event store was restored or replaced.

A relay refuses a store that no longer holds the event it published last (infra/published.py): the store
hands out the positions of the lost events again, and its read models hold what those events did. The reset
rebuilds every read model of the store from what it holds now (ops/rebuild.py), each recording the position
it was rebuilt through, and moves the relay's position back to its newest checkpoint the store still holds,
which lies at or before the end of the backup. The relay then publishes every event after it: those recorded
since the restore, and a few from before, which the consumers recognise (the rebuilt read models by position,
the mail outbox by id).

The reset writes the relay's position without the relay's lock, only if it is still the one the reset found
not to match the store: a relay that refuses a store never moves it, and a relay that publishes has a position
that matches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infra.published import (
    event_at,
    last_held_checkpoint,
    prepare_positions,
    published_mark,
    reset_position,
    store_mismatch,
)
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


# Where to publish from when the store holds none of the relay's checkpoints (`satu relay-reset --from`).
FROM_START, FROM_END = "start", "end"


def reset_relay(
    store: str,
    settings: Settings,
    progress_factory: Callable[[str, int], rebuild.Progress],
    publish_from: str | None = None,
) -> Reset | None:
    """Rebuild ``store``'s read models and reset its relay; None when the store matches its relay's position
    (nothing to reset). ``publish_from`` (FROM_START, FROM_END) is needed when the store holds none of the
    relay's checkpoints, and refused otherwise."""
    source = open_source(store, settings)
    positions = read_model_engine(settings, store)
    try:
        prepare_positions(positions)
        recorder = source.application.recorder
        mark = published_mark(positions, store)
        if store_mismatch(recorder, store, mark) is None:
            return None
        restored = last_held_checkpoint(positions, recorder, store)  # at or before the backup's end
        if restored and publish_from is not None:
            raise ResetRefused(
                f"the {store} event store holds the relay's checkpoint at position {restored}: the reset publishes "
                "from there; leave out --from"
            )
        if restored == 0 and source.last_position() > 0 and publish_from is None:
            raise ResetRefused(_NO_CHECKPOINT.format(store=store))
        parts = [part for part in REBUILDABLE if part.source == store]
        rebuild.run_all(parts, settings, True, progress_factory)
        rebuilt = min(_rebuilt_through(part, settings) for part in parts)
        position = _publish_from(publish_from, restored, rebuilt)
        if not reset_position(positions, store, mark, position, event_at(recorder, position), kept=restored):
            raise ResetRefused(f"the {store} relay's position moved during the rebuild: run satu relay-reset again")
        return Reset(store, [part.name for part in parts], position, source.last_position())
    finally:
        positions.dispose()
        source.close()


_NO_CHECKPOINT = (
    "the {store} event store holds none of its relay's checkpoints (not even its first event, which a relay "
    "keeps for good): it is another system's store, or a backup of this one from before its first event. Say "
    "where to publish from: --from end (the events recorded since the restore "
    "reach the rebuilt read models, but no other consumer: they are not mailed, and the registry does not hear "
    "of reports accepted or overdue) or --from start (every event is published again: each consumer skips those "
    "it recorded; the mail outbox mails any it has not, for another system's store every one)"
)


def _publish_from(asked: str | None, restored: int, rebuilt: int) -> int:
    """The newest checkpoint the store holds (the read models skip what their rebuild applied), or as asked."""
    if asked is None:
        return min(restored, rebuilt)
    if asked == FROM_START:
        return 0
    return rebuilt


def _rebuilt_through(part: ReadModelPart, settings: Settings) -> int:
    """The position of its log that ``part`` applied every event through (its rebuild records it)."""
    model = ReadModel(part.new_projection(), read_model_engine(settings, part.service))
    try:
        with model.engine.connect() as connection:
            return applied_through(connection, model.projection, part.source)
    finally:
        model.close()
