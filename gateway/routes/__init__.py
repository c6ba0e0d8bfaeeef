"""HTTP routes, one module per area. Each handler: validate, call one service, shape the response.

The path and paging parameters several areas share are declared once here. Ids are UUIDs (files: 32 hex
digits), and the document says so: anything else is refused with 422 before a service is asked.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from contracts.paging import CURSOR_PATTERN, MAX_PAGE

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

CaseId = Annotated[str, Path(pattern=UUID_PATTERN, description="case id (UUID)")]
OrganisationId = Annotated[str, Path(pattern=UUID_PATTERN, description="organisation id (UUID)")]
FileId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="as returned by POST /api/files")]

# Lists come a page at a time (keyset: a page continues exactly after the previous one, however deep).
PageCursor = Annotated[
    str | None, Query(pattern=CURSOR_PATTERN, description="the `next_cursor` of the previous page (opaque)")
]
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="rows per page")]
