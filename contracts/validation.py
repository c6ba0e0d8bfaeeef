"""Turn a pydantic validation failure into an InvalidInput naming the first bad field.

The gateway reports its own request validation the same way (``gateway.errors``), so a refusal
reads alike whether the gateway or a service found it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from contracts.errors import InvalidInput
from contracts.messages import indonesian, unwrapped

M = TypeVar("M", bound=BaseModel)


def invalid_input(error: Any, location: Sequence[int | str], where: str = "body") -> InvalidInput:
    """An InvalidInput from one pydantic error (an item of ``ValidationError.errors()``) found at
    ``location`` within ``where`` (body, query, path, header): the field is the dotted location."""
    message = unwrapped(str(error.get("msg", "invalid input")))
    field = ".".join(str(part) for part in location) or where
    return InvalidInput(message, field=field, message_id=indonesian(InvalidInput.code, message, field, where))


def parse(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        first = error.errors()[0]
        raise invalid_input(first, first["loc"]) from None
