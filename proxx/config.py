"""The installation's configuration file, `proxx.toml` in PROXX_HOME, which an administrator writes:

    [profiles]
    repositories = ["/studio/profiles", "night-shift"]   # relative paths: from this file's folder

Its repositories are layered after the bundled repository and the plugins' canonical profiles, and
before PROXX_PROFILES and a service's `--profiles` (README "Profile repositories"). Every command and
service of the installation reads it when it starts (the web server whenever it reloads the
profiles), so the commands that create jobs take their intents from it and never from a per-job flag.

The file is read as untrusted text: at most MAX_CONFIG_BYTES from a regular file, only the keys
below, each of its type. A file that cannot be read or parsed, an unknown key, a value of the wrong
type, or a repository that does not exist is a class A `PreJobError` naming the file: no job can be
created from an installation whose repositories are not what its administrator wrote.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from proxx.compile.repository import YAML_SUFFIXES
from proxx.errors import PreJobError
from proxx.home import home_path

#: The configuration file's name in PROXX_HOME.
CONFIG_FILE = "proxx.toml"
#: A configuration naming a few repositories is well under 1 KiB.
MAX_CONFIG_BYTES = 64 * 1024
#: More repositories than this is a mistake, not a configuration.
MAX_REPOSITORIES = 64
_SECTIONS = {"profiles": {"repositories"}}


def config_path(home: Path | None = None) -> Path:
    """Where the installation's configuration file is (it need not exist)."""
    return (home or home_path()) / CONFIG_FILE


def _unusable(path: Path, why: str) -> PreJobError:
    return PreJobError(
        "configuration_unusable",
        f"The configuration file '{path}' cannot be used: {why}. Ask an administrator to correct it; "
        "no job can be created until then.",
        {"configuration": str(path)},
    )


def _read(path: Path) -> str | None:
    """The text of `path`, None when there is no such file; refused when it is not a regular file
    of at most MAX_CONFIG_BYTES (a FIFO or a device never blocks the read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except (FileNotFoundError, NotADirectoryError):  # no such file (PROXX_HOME itself may not exist)
        return None
    except OSError as error:
        raise _unusable(path, f"it cannot be opened ({error.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _unusable(path, "it is not a regular file")
        if info.st_size > MAX_CONFIG_BYTES:
            raise _unusable(path, f"it is {info.st_size} bytes, more than {MAX_CONFIG_BYTES}")
        data = os.read(fd, MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise _unusable(path, f"it cannot be read ({error.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_CONFIG_BYTES:  # it grew since fstat
        raise _unusable(path, f"it is more than {MAX_CONFIG_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _unusable(path, "it is not UTF-8 text") from None


def _checked(path: Path, document: dict[str, Any]) -> list[str]:
    """The repositories `document` names, after checking every key and type."""
    for section, value in document.items():
        if section not in _SECTIONS:
            raise _unusable(path, f"unknown section '{section}' (valid: {', '.join(sorted(_SECTIONS))})")
        if not isinstance(value, dict):
            raise _unusable(path, f"'{section}' must be a section ([{section}])")
        for key in value:
            if key not in _SECTIONS[section]:
                valid = ", ".join(sorted(_SECTIONS[section]))
                raise _unusable(path, f"unknown key '{section}.{key}' (valid: {valid})")
    repositories = document.get("profiles", {}).get("repositories", [])
    if not isinstance(repositories, list) or not all(isinstance(r, str) and r.strip() for r in repositories):
        raise _unusable(path, "'profiles.repositories' must be a list of folder paths")
    if len(repositories) > MAX_REPOSITORIES:
        raise _unusable(
            path, f"'profiles.repositories' names {len(repositories)} folders, more than {MAX_REPOSITORIES}"
        )
    return repositories


def configured_repositories(home: Path | None = None) -> list[Path]:
    """The profile repositories the installation's configuration file names, in its order (none
    without the file). Relative paths are read from the file's own folder."""
    path = config_path(home)
    text = _read(path)
    if text is None:
        return []
    import tomllib  # only with a configuration file: its parser compiles its patterns on import

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _unusable(path, f"it is not valid TOML ({error})") from None
    found: list[Path] = []
    for entry in _checked(path, document):
        repository = Path(os.path.abspath(path.parent / Path(entry).expanduser()))  # an absolute entry stays itself
        if not repository.is_dir() and not (repository.is_file() and repository.suffix in YAML_SUFFIXES):
            raise _unusable(path, f"the profile repository '{entry}' is not a folder (or a profile file) that exists")
        found.append(repository)
    return found
