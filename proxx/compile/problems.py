"""Where a profile lives and what is wrong with it: shared by the repository loader and the parser."""

from __future__ import annotations

import attrs


@attrs.frozen
class Location:
    """Where a profile problem is: the file, and the line when it can be told."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@attrs.frozen
class Problem:
    """Something wrong in a repository, as `proxx validate` reports it.

    Fields:
      location: the file (and line) it is in.
      reason: a stable machine name ("malformed_profile", "canonical_id_conflict", ...).
      message: what is wrong, for administrators.
      profile: the intent's name or the canonical id the file gives, when it gives one.
      kind: "user" (an intent) or "canonical" when the file says which it is; operators are only
        ever told about intents.
    """

    location: Location
    reason: str
    message: str
    profile: str | None = None
    kind: str | None = None
