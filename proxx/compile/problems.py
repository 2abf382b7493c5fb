"""Where a profile lives and what is wrong with it: shared by the repository loader and the parser."""

from __future__ import annotations

import attrs


@attrs.frozen
class Location:
    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@attrs.frozen
class Problem:
    """Something wrong in a repository, as `proxx validate` reports it."""

    location: Location
    reason: str
    message: str
    profile: str | None = None
