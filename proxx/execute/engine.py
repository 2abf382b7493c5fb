"""What an engine plugin provides. The canonical profile's `engine` field names the engine; nothing
else (source type, file extension, availability) ever chooses one, and there is no fallback."""

from __future__ import annotations

import abc
from typing import ClassVar

import attrs


@attrs.frozen
class Availability:
    """Whether an engine can run here now; `reason` says why not, `version` what would run."""

    available: bool
    reason: str = ""
    version: str = ""


class Engine(abc.ABC):
    """Base class of engine plugins. Subclass it, set `name`, and yield an instance from the
    `proxx_engines` hook."""

    #: The name canonical profiles use in their `engine` field.
    name: ClassVar[str]
    #: Human name for messages ("FFmpeg", "Resolve").
    display_name: ClassVar[str] = ""
    #: True when the engine can decode RAW camera formats (ARRIRAW, R3D, BRAW...).
    accepts_raw: ClassVar[bool] = False

    @abc.abstractmethod
    def availability(self) -> Availability:
        """Say whether the engine can run on this machine now. Must be cheap and never raise."""

    @property
    def label(self) -> str:
        return self.display_name or self.name
