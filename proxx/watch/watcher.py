"""The two watchers: media files become jobs with one intent; JobSpec JSON files are queued as they are."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs

from proxx.app import Proxx
from proxx.dispatch import Dispatcher, dispatcher_for
from proxx.errors import ConfigurationError, FailureClass, JobValidationError, PreJobError, ProxxError
from proxx.folders import FolderRefused, open_append, own_folder, write_new
from proxx.jobspec.model import JobSpec, SourceFile
from proxx.jobspec.origin import check_origin
from proxx.jobspec.signing import INBOX, Envelope, SignatureRefused, open_sealed
from proxx.jobspec.sources import NothingMissing, kept_folder, not_video
from proxx.jobspec.untrusted import FileIdentity, check_untrusted, identity, parse_bounded, read_identified
from proxx.media.files import PROXY_FOLDER, decodable, is_media, not_media_reason, printable, skipped_folder
from proxx.names import safe_lines
from proxx.roots import Roots
from proxx.store import FAILED, QUEUED, RUNNING
from proxx.validate.checks import would_write_among_sources
from proxx.watch.ledger import Handled, Ledger
from proxx.watch.scan import Settler, candidates, folders

QUEUED_FOLDER, FAILED_FOLDER = "queued", "failed"
log = logging.getLogger("proxx.watch")
# Said once an outage (`Outage`): "waiting" when files stopped being queued, "resumed" when they are again.
WAITING, RESUMED = "waiting", "resumed"


@attrs.frozen
class Event:
    path: Path
    # "queued" | "failed" | "skipped" | "refused" (the last two said once per file, never handled) |
    # "waiting" | "resumed" (files stopped being queued for a while, then are again: `Outage`)
    outcome: str
    job_id: str | None = None
    message: str = ""
    failure_class: str | None = None  # "A", "B" or "C" when it failed or was refused; None for an internal error


# What stops every file for a while, and goes away: the render farm's broker unreachable (before any
# job was made: a broker that refused a job it was sent ended that job FAILED in class B, with its
# result), PROXX_HOME full, the job store locked by another process.
_PASSING = frozenset({"farm_unreachable", "home_full", "store_locked"})


def _passing(error: ConfigurationError) -> bool:
    """Whether `error` stops every file for a while, nothing made for the file at hand: it waits."""
    return error.reason in _PASSING and "job_id" not in error.context


@attrs.define
class Outage:
    """What stops every file for a while (`_passing`: the render farm unreachable, PROXX_HOME full, the
    job store locked): a watch folder runs unattended for days, so it never stops for that. The file
    at hand is left unhandled (nothing is recorded for it: it settles again and is tried again), the
    rest of the pass tries no other, and the operator is told once an outage, in one line; and once
    when it is over."""

    why: str | None = None  # what stops the files, while it lasts
    in_pass: bool = False  # it stopped a file in this pass: no other file is tried in it

    def down(self, path: Path, error: ConfigurationError) -> Iterator[Event]:
        self.in_pass = True
        if self.why is None:
            self.why = error.message
            going_on = "The watch goes on: files wait where they are and are queued once it is fixed."
            yield Event(path, WAITING, message=f"{error.message} {going_on}")

    def up(self, path: Path) -> Iterator[Event]:
        if self.why is not None:
            self.why = None
            yield Event(path, RESUMED, message="Files are queued again: those that waited are queued as they settle.")

    def new_pass(self) -> None:
        self.in_pass = False


def _absolute(path: Path) -> Path:
    # The ledger keys on absolute paths: a restart from another working folder still knows a file.
    return Path(os.path.abspath(path))


def _ledger(proxx: Proxx, *watch: str | Path | None) -> Ledger:
    """The ledger of one watch: its kind, intent and destination, hashed (a farm's URL may hold a
    password): another intent, or another output folder, over the same folder handles its files anew."""
    key = hashlib.sha256("\0".join(str(part) for part in watch).encode("utf-8", "surrogateescape")).hexdigest()
    return Ledger(proxx.home / "watch.db", key[:32])


@attrs.define
class MediaWatcher:
    """New video files under `root` (recursively) become one job each, with `intent`, once settled;
    each keeps its sub-folder under `output`, starting with the watched folder's name, as a folder
    given to `proxx run` would. Files without video (sound, stills) and files whose verified proxy is
    already there are said once and left alone."""

    proxx: Proxx
    root: Path = attrs.field(converter=_absolute)
    intent: str
    output: Path | None = attrs.field(converter=attrs.converters.optional(_absolute))  # None: Proxy/ beside each file
    settle: float = 5.0
    farm: str | None = None
    ledger: Ledger = attrs.field(
        default=attrs.Factory(
            lambda self: _ledger(self.proxx, "media", self.intent, self.output, self.farm), takes_self=True
        )
    )
    settler: Settler = attrs.field(default=attrs.Factory(lambda self: Settler(self.settle), takes_self=True))
    _told: set[Path] = attrs.field(factory=set)  # files already reported skipped
    _refused: dict[Path, str] = attrs.field(factory=dict)  # files whose job its intent refused, and why
    outage: Outage = attrs.field(factory=Outage)
    # Files queued whose record could not be written (PROXX_HOME full): written at a later pass; never queued again.
    _unrecorded: dict[Path, tuple[os.stat_result, str]] = attrs.field(factory=dict)

    @property
    def roots(self) -> Roots:
        """What its jobs may read and write: the watched folder, and the output folder."""
        return Roots([self.root, *([self.output] if self.output is not None else [])])

    def _skip_dir(self, folder: Path) -> bool:
        # Never proxy the proxies: the Proxy/ folders, what exporters write beside proxies and the
        # output folder are not watched.
        return skipped_folder(folder, self.proxx.beside_outputs) or (
            self.output is not None and folder.resolve() == self.output.resolve()
        )

    def _once(self, path: Path, why: str) -> list[Event]:
        """A file left alone, said once while it stays so."""
        if path in self._told:
            return []
        self._told.add(path)
        return [Event(path, "skipped", message=why)]

    def _proxy_folder(self, folder: Path) -> str | None:
        """Make the Proxy/ folder beside a clip; None when it is one this watcher made, else why it
        is not written into: a name someone else made first (a link, a file, their folder) is
        never adopted."""
        proxies = folder / PROXY_FOLDER
        try:
            os.mkdir(proxies, 0o755)  # never follows a link, fails on any name already there
        except FileExistsError:
            pass
        except OSError as error:
            return f"its proxy folder '{printable(proxies)}' cannot be made ({error.strerror})"
        else:
            made = os.lstat(proxies)
            try:
                self.ledger.made(proxies, made.st_dev, made.st_ino)
            except sqlite3.OperationalError:  # PROXX_HOME full: made again once it can be remembered, or
                os.rmdir(proxies)  # it would be a folder this watch did not make, never written into
                raise
            return None
        try:
            info = os.lstat(proxies)
        except OSError:
            return f"its proxy folder '{printable(proxies)}' vanished while it was made"
        ours = stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
        if ours and self.ledger.was_made(proxies, info.st_dev, info.st_ino):
            return None
        return (
            f"'{printable(proxies)}' already exists and this watch folder did not make it (a folder, link or file "
            "someone else put there): no proxy is written into it. Move it away, or watch with --output DIR"
        )

    def poll(self) -> list[Event]:
        """One pass over the folder: what it did, file by file."""
        return list(self.events())

    def events(self) -> Iterator[Event]:
        """One pass over the folder, each event as it happens: `watch` hands them on one at a time,
        so a pass queuing 100,000 new files holds none of them. A file the ledger holds costs a
        look-up in its folder's records and a stat: the ledger is asked once a folder."""
        self.outage.new_pass()
        for path, (settled, job_id) in list(self._unrecorded.items()):
            self._record_queued(path, settled, job_id)
        for folder, names in folders(self.root, self._skip_dir):
            handled = self.ledger.handled_in(folder) if names else {}
            prefix = f"{folder}{os.sep}"
            for name in names:
                try:
                    before = handled.get(prefix + name)
                    if before is not None and not self._changed(prefix + name, before):
                        continue
                    if self._unrecorded and folder / name in self._unrecorded:
                        continue
                    yield from self._file(folder / name)
                except ConfigurationError as error:  # PROXX_HOME full, the watch's record locked: it waits
                    if not _passing(error):
                        raise
                    yield from self.outage.down(folder / name, error)
        self.settler.forget_missing()

    def _changed(self, path: str, before: Handled) -> bool:
        """Whether a handled file is to be handled again: its size or modification time differ from
        when it was handled (a copy that stopped half-way and was completed later), and the job it
        became has ended (until then that job reads it as it is). When only its status change time
        differs (a card copied back keeping its files' times; a hard link or a permission changed
        too), only a file whose job failed (its source was gone, say) is handled again: the others
        have their proxy or were skipped for what they hold, and their new status is noted, so a
        chmod or a backup's links over a card re-probe nothing."""
        size, mtime_ns, ctime_ns, job_id = before
        try:
            now = os.stat(path)
        except OSError:  # gone since the folder was listed
            return False
        if now.st_size != size or now.st_mtime_ns != mtime_ns:
            return self._job_state(job_id) not in (QUEUED, RUNNING)
        if ctime_ns is None or now.st_ctime_ns == ctime_ns:
            return False
        state = self._job_state(job_id)
        if state in (QUEUED, RUNNING):
            return False
        if state == FAILED or (job_id is not None and state is None):
            return True
        self.ledger.note_ctime(path, now.st_ctime_ns)
        return False

    def _record_queued(self, path: Path, settled: os.stat_result, job_id: str) -> None:
        try:
            size, mtime_ns, ctime_ns = settled.st_size, settled.st_mtime_ns, settled.st_ctime_ns
            self.ledger.record(path, "media", size, mtime_ns, job_id, "queued", ctime_ns)
        except sqlite3.OperationalError:  # PROXX_HOME full: its job exists, so it is remembered here until recorded
            self._unrecorded[path] = (settled, job_id)
        else:
            self._unrecorded.pop(path, None)

    def _job_state(self, job_id: str | None) -> str | None:
        """The state of the job a file became; None for none, or one no longer in the store."""
        if job_id is None:
            return None
        try:
            return self.proxx.store.job(job_id).state
        except KeyError:
            return None

    def _file(self, path: Path) -> Iterator[Event]:
        """What one file not handled yet comes to in this pass."""
        if not is_media(path):  # said once (hidden files, such as .DS_Store, are left out silently)
            yield from self._once(path, not_media_reason(path.name))
            return
        if not decodable(path):  # neither a job store, a JobSpec nor a terminal can hold it as it is
            yield from self._once(path, "its name is not UTF-8 text; rename it to have it proxied")
            return
        settled = self.settler.observe(path)
        if settled is None or self.outage.in_pass:  # waits: it settles again, and is tried then
            return
        why = not_video(path)  # probed once: the job's validation finds the answer remembered
        if why is not None:
            self.ledger.record(
                path, "media", settled.st_size, settled.st_mtime_ns, None, "skipped", settled.st_ctime_ns
            )
            yield Event(path, "skipped", message=why)
            return
        if self.output is None:  # a Proxy/ folder beside each file: no sub-folder to keep
            output, source = path.parent / PROXY_FOLDER, SourceFile(path)
            # The card rule first: on a camera card no Proxy/ is made; the job below is refused for it
            # (class B, said as any refused job is), and the card is left as it was.
            if not would_write_among_sources(output, [source]):
                refused = self._proxy_folder(path.parent)
                if refused is not None:
                    yield from self._once(path, refused)
                    return
        else:  # the sub-folder kept, starting with the watched folder's name, as a folder source's
            output, source = self.output, SourceFile(path, kept_folder(self.root, path))
        self._told.discard(path)
        try:  # compiled now, against the repository as it is now: an intent may stop compiling
            spec = self.proxx.submit(self.intent, [source], output, farm=self.farm, roots=self.roots)
        except NothingMissing as nothing:  # its verified proxy is there already (a re-run)
            (proxied,) = nothing.expansion.proxied
            self.ledger.record(
                path, "media", settled.st_size, settled.st_mtime_ns, None, "skipped", settled.st_ctime_ns
            )
            message = f"already proxied: '{proxied.output}' (job {proxied.job_id})"
            yield Event(path, "skipped", message=message)
            return
        except PreJobError as error:  # no job (class A); tried again once the intent is usable
            if self._refused.get(path) != error.message:
                self._refused[path] = error.message
                yield Event(path, "refused", message=error.message, failure_class=FailureClass.PRE_JOB.value)
            return
        except ConfigurationError as error:
            if _passing(error):
                yield from self.outage.down(path, error)
                return
            job_id = error.context.get("job_id")
            if not isinstance(job_id, str):
                raise
            # The farm refused the job it was sent: the job ended FAILED in class B, with its result.
        else:
            job_id = spec.job_id
        yield from self.outage.up(path)
        self._refused.pop(path, None)
        self._record_queued(path, settled, job_id)
        row = self.proxx.store.job(job_id)
        if row.state == FAILED:  # refused in class B when it was created: nothing will run
            yield Event(path, "failed", job_id, row.message or "", row.failure_class)
        else:
            yield Event(path, "queued", job_id)


@attrs.define
class JobSpecInbox:
    """JobSpec JSON files dropped into `root` are checked as untrusted (`proxx.jobspec.untrusted`:
    bounded, consistent with this machine's canonical registry, outputs named by the rule, sources and
    outputs inside `roots`; with a `key`, signed), must be what compiling their origin intent gives
    now (`proxx.jobspec.origin`, class A otherwise), and are queued unchanged (moved to queued/), or moved to
    failed/ with an error file beside them. A file that cannot be accepted never stops the inbox."""

    proxx: Proxx
    root: Path
    roots: Roots
    settle: float = 5.0
    farm: str | None = None
    key: bytes | None = None  # PROXX_INBOX_KEY: accept only signed messages (`proxx.jobspec.signing`)
    ledger: Ledger = attrs.field(default=attrs.Factory(lambda self: _ledger(self.proxx, "jobspecs"), takes_self=True))
    settler: Settler = attrs.field(default=attrs.Factory(lambda self: Settler(self.settle), takes_self=True))
    outage: Outage = attrs.field(factory=Outage)

    def poll(self) -> list[Event]:
        """One pass over the inbox: what it did, file by file."""
        return list(self.events())

    def events(self) -> Iterator[Event]:
        """One pass over the inbox, each event as it happens (see `MediaWatcher.events`). A sub-folder
        proxx may not use (`queued/` or `failed/` planted as a link, or another user's folder) is said
        once a pass, in one line (the first file it stopped): every file waits in the inbox until it
        is fixed, and nothing is written."""
        refused_said = False
        self.outage.new_pass()
        for path in candidates(self.root, lambda p: p.suffix.lower() == ".json", lambda _: True, recursive=False):
            stat = self.settler.observe(path)
            if stat is None or self.outage.in_pass:  # waits: it settles again, and is tried then
                continue
            try:
                event = self._take(path, stat)
            except ConfigurationError as error:
                if _passing(error):
                    yield from self.outage.down(path, error)
                    continue
                log.exception("JobSpec inbox: %s", path)
                event = Event(path, "failed", None, f"JobSpec file '{path}' could not be handled: {error}")
            except FolderRefused as refused:
                if refused_said:
                    continue
                refused_said = True
                message = f"{refused}. The inbox's files wait where they are until then."
                event = Event(path, "failed", None, message, FailureClass.VALIDATION.value)
            except OSError as error:  # the file went away, a full disk: said, never a traceback
                event = Event(path, "failed", None, f"JobSpec file '{path}' could not be handled: {error}")
            except Exception as error:  # never let one file stop the inbox
                log.exception("JobSpec inbox: %s", path)
                event = Event(path, "failed", None, f"JobSpec file '{path}' could not be handled: {error}")
            if event.job_id is not None:
                yield from self.outage.up(path)
            yield event
        self.settler.forget_missing()

    def _take(self, path: Path, stat: os.stat_result) -> Event:
        refusal, spec, read = self._check(path)
        if spec is None:
            assert refusal is not None
            return self._fail(path, stat, refusal, read)
        with self._own(QUEUED_FOLDER) as (inbox, queued):  # where it goes can take it, before the job exists
            try:
                self._queue(spec)
            except ConfigurationError as refused:  # the farm refused it: the job ended FAILED, with its result
                if _passing(refused):  # no job made: the file waits in the inbox
                    raise
                row = self.proxx.store.job(spec.job_id)
                return self._fail(path, stat, refused, read, spec.job_id, row.failure_class)
            note = ""
            try:
                _moved(path, inbox, queued, read)
            except ChangedSinceRead:  # an edit saved while it was checked: never filed as what was queued
                note = (
                    "its file changed after it was read: the job holds the JobSpec as it was read, and the "
                    "file stays in the inbox to be read again"
                )
            except OSError as error:  # the job exists and is queued: that is the outcome, said with this
                note = f"its file could not be moved to {QUEUED_FOLDER}/ ({error.strerror}) and stays in the inbox"
        self.ledger.record(path, "jobspec", stat.st_size, stat.st_mtime_ns, spec.job_id, "queued")
        row = self.proxx.store.job(spec.job_id)
        if row.state == FAILED:  # refused in class B when it was created: nothing will run
            return Event(path, "failed", spec.job_id, row.message or "", row.failure_class)
        return Event(path, "queued", spec.job_id, note)

    def _fail(
        self,
        path: Path,
        stat: os.stat_result,
        refusal: ProxxError,
        read: FileIdentity | None,
        job_id: str | None = None,
        failure_class: str | None = None,
    ) -> Event:
        """Move the file to failed/ with its error file, unless it changed since it was `read` (then it
        stays, to be read again); the event says in which class it failed (the job's, when one was
        created; else the refusal's)."""
        message = refusal.message
        try:
            # shown escaped, as every line proxx writes for people: `cat` of it never drives a terminal
            self._move(path, FAILED_FOLDER, "\n".join(safe_lines(refusal.message)) + "\n", read)
        except ChangedSinceRead:  # the corrected file, saved while the first was checked: read again
            message += " Its file changed after it was read, and stays in the inbox to be read again."
        finally:
            self.ledger.record(path, "jobspec", stat.st_size, stat.st_mtime_ns, job_id, "failed")
        if failure_class is None and refusal.failure_class is not None:
            failure_class = refusal.failure_class.value
        return Event(path, "failed", job_id, message, failure_class)

    def _check(self, path: Path) -> tuple[ProxxError | None, JobSpec | None, FileIdentity | None]:
        """The refusal of the file at `path`, or its JobSpec; and the identity of the file as read
        (None when it could not be read)."""
        where = f"file '{printable(path)}'"
        read = None
        try:
            data, read = read_identified(path)
            if self.key is not None:  # the signature first, over the bytes as read: nothing unsigned is parsed
                envelope, data = self._opened(data, where)
            document = parse_bounded(data, where)
            if self.key is None and isinstance(document, dict) and set(document) == {"jobspec", "signature"}:
                document = document["jobspec"]  # an envelope of the earlier format: its JobSpec, unsigned
            repository = self.proxx.current_repository()
            spec = check_untrusted(document, where, repository.registry, self.roots)
            check_origin(spec, repository, self._engines(), where, self.proxx.invalid_memory, self.proxx.store)
            if self.key is not None and spec.job_id != envelope.job_id:
                raise JobValidationError(
                    "jobspec_signature_invalid",
                    f"JobSpec {where} refused: it was signed for job {envelope.job_id}, not {spec.job_id}. "
                    "Nothing was queued.",
                    {"source": printable(path)},
                )
        except (JobValidationError, PreJobError) as error:
            return error, None, read
        except UnicodeDecodeError as error:
            message = f"JobSpec {where} refused: it is not UTF-8 text ({error.reason}). Nothing was queued."
            return JobValidationError("jobspec_unreadable", message, {"source": printable(path)}), None, read
        try:
            self.proxx.store.job(spec.job_id)
        except KeyError:
            return None, spec, read
        message = f"JobSpec file '{printable(path)}': job {spec.job_id} already exists; a JobSpec is queued once"
        return JobValidationError("already_queued", message, {"job_id": spec.job_id}), None, read

    @property
    def audience(self) -> str:
        """Whom its signed JobSpecs must be meant for: PROXX_INBOX_NAME, else the inbox folder's path."""
        return os.environ.get("PROXX_INBOX_NAME") or str(Path(os.path.abspath(self.root)))

    def _opened(self, data: bytes, where: str) -> tuple[Envelope, bytes]:
        assert self.key is not None
        try:
            return open_sealed(data, self.key, INBOX, self.audience)
        except SignatureRefused as refused:
            raise JobValidationError(
                "jobspec_signature_invalid",
                f"JobSpec {where} refused: this inbox accepts only JobSpecs signed with its key for it "
                f"({refused.why}). Nothing was queued.",
                {"source": where},
            ) from None

    def _engines(self) -> set[str]:
        """The engines its JobSpecs may name: those installed here, and the farm's workers'."""
        farm = () if self.farm is None else self._dispatcher(self.farm).engines(self.farm)
        return {*self.proxx.engines, *farm}

    def _dispatcher(self, broker: str) -> Dispatcher:
        return dispatcher_for(self.proxx.dispatchers.values(), broker)

    def _queue(self, spec: JobSpec) -> None:
        broker = self.farm
        if broker is None:
            self.proxx.add_job(spec, roots=self.roots)
            return
        self._dispatcher(broker).queue(self.proxx, spec, broker, self.roots)

    @contextlib.contextmanager
    def _own(self, folder: str) -> Iterator[tuple[int, int]]:
        """Descriptors of the inbox and of its sub-folder `folder` (`proxx.folders.own_folder`: made by
        proxx, writable by no one else), so a link planted at the sub-folder's name redirects nothing."""
        inbox = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)  # the administrator's own path
        try:
            with own_folder(inbox, folder, self.root) as into:
                yield inbox, into
        finally:
            os.close(inbox)

    def _move(self, path: Path, folder: str, error: str, read: FileIdentity | None) -> None:
        """Move `path` into the inbox's sub-folder `folder` (`_moved`), with `error` beside it."""
        with self._own(folder) as (inbox, into):
            write_new(into, _error_file(_moved(path, inbox, into, read)), error.encode("utf-8"))


class ChangedSinceRead(Exception):
    """The file at an inbox's name is no longer the one read (written, or replaced, since)."""


def _moved(path: Path, inbox: int, into: int, read: FileIdentity | None) -> str:
    """Move `path` (whatever it is: a link is moved, never followed) from the folder `inbox` into the
    folder `into`, under a name not taken there nor by an error file: no name in it is replaced. A name
    too long to take a number or its error file's ending is shortened (`_fitting`). When `read` is
    given, only the file as it was read is moved (`ChangedSinceRead` otherwise): a JobSpec edited while
    it was checked was filed as queued, its edit never read."""
    if read is not None and identity(os.lstat(path.name, dir_fd=inbox)) != read:
        raise ChangedSinceRead(path)
    stem, n = _fitting(path, _name_max(into)), 1
    name = path.name if stem == path.stem else f"{stem}{path.suffix}"
    while _taken(into, name) or _taken(into, _error_file(name)):
        name = f"{stem}.{n}{path.suffix}"
        n += 1
    os.rename(path.name, name, src_dir_fd=inbox, dst_dir_fd=into)
    return name


def _name_max(folder: int) -> int:
    """The longest file name (bytes) the folder's file system takes; 255 when it does not say."""
    try:
        return os.fpathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _fitting(path: Path, limit: int) -> str:
    """`path`'s stem, or, when it with a number and the longer of its suffix and an error file's
    ending would not fit in `limit` bytes (a 250-character name: ENAMETOOLONG), its start followed by
    '~' and 8 hex digits of the whole name's hash, so two long names that begin alike stay two."""
    stem, ending = path.stem, max(len(os.fsencode(path.suffix)), len(".error.txt")) + len(".999999")
    if len(os.fsencode(stem)) + ending <= limit:
        return stem
    tag = "~" + hashlib.sha256(os.fsencode(path.name)).hexdigest()[:8]
    room = limit - ending - len(tag)
    while len(os.fsencode(stem)) > room:  # by characters, so a multi-byte letter is never cut in two
        stem = stem[:-1]
    return stem + tag


def _error_file(name: str) -> str:
    return f"{Path(name).stem}.error.txt"


def _taken(folder: int, name: str) -> bool:
    try:
        os.lstat(name, dir_fd=folder)
    except FileNotFoundError:
        return False
    return True


@contextlib.contextmanager
def watching_alone(watcher: MediaWatcher | JobSpecInbox) -> Iterator[None]:
    """Hold, while the block runs, the lock of `watcher`'s folder watched this way (its kind, intent and
    destination; `PROXX_HOME/watch-*.lock`): a second `proxx watch` of the same lists the same new
    files before either records them, and queued nearly every one twice. A ConfigurationError when
    another process holds it; released when this one ends, however it ends."""
    import fcntl

    root = os.path.abspath(watcher.root)
    key = hashlib.sha256(f"{root}\0{watcher.ledger.watch}".encode("utf-8", "surrogateescape")).hexdigest()[:32]
    path = watcher.proxx.home / f"watch-{key}.lock"
    try:  # never through a link, nor another user's file (a group-writable PROXX_HOME)
        fd = open_append(path)
    except FolderRefused as refused:
        raise ConfigurationError(
            "home_refused", f"The watch's lock cannot be opened: {refused}.", {"path": str(path)}
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            how = "for JobSpecs" if isinstance(watcher, JobSpecInbox) else f"for intent '{watcher.intent}'"
            raise ConfigurationError(
                "already_watched",
                f"'{printable(Path(root))}' is already watched {how}, into the same place, by another `proxx "
                "watch` on this machine: a second would queue each new file again. Nothing was started.",
                {"folder": printable(Path(root))},
            ) from None
        yield
    finally:
        os.close(fd)


def watch(
    watcher: MediaWatcher | JobSpecInbox,
    interval: float = 2.0,
    once: bool = False,
    on_event: Callable[[Event], None] | None = None,
    after_poll: Callable[[], None] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Poll every `interval` seconds, calling `after_poll` after each poll. `once`: return as soon as
    no file is left waiting to settle; `stop` set: return after the file at hand. Returns how many
    files were handled (skipped ones are not)."""
    stop = stop or threading.Event()
    count = 0
    while not stop.is_set():
        for event in watcher.events():
            count += event.outcome not in ("skipped", "refused", WAITING, RESUMED)
            if on_event:
                on_event(event)
            if stop.is_set():
                return count
        if after_poll:
            after_poll()
        if once and (watcher.settler.pending == 0 or watcher.outage.in_pass):  # files left waiting
            return count
        stop.wait(interval)
    return count


@attrs.define
class QueueWatch:
    """Says when jobs this watch queued wait `after` seconds with no worker taking any: without a
    `proxx worker`, `proxx serve` or `proxx watch --run` (or, for the render farm's, a farm worker for
    their engine) they would stay QUEUED, silently."""

    store_path: Path
    after: float
    farm_home: Path | None = None  # its jobs go to the render farm: their states are mirrored from it first
    queued: dict[str, float] = attrs.field(factory=dict)  # job id -> when it was queued (monotonic)
    warned: bool = False

    def add(self, job_id: str) -> None:
        self.queued[job_id] = time.monotonic()

    def waiting(self) -> int | None:
        """How many of its jobs have waited too long, once per stall (None otherwise)."""
        from proxx.store import Store

        if not self.queued:
            return None
        store = Store(self.store_path)
        try:
            if self.farm_home is not None:
                from proxx.openstore import refresh

                refresh(store, self.farm_home)  # a broker that cannot be reached leaves them as they were
            still = {job_id: at for job_id, at in self.queued.items() if store.job(job_id).state == QUEUED}
        finally:
            store.close()
        taken = len(still) < len(self.queued)
        self.queued = still
        if taken:
            self.warned = False  # a worker is there: a later stall is worth saying again
        stalled = [at for at in still.values() if time.monotonic() - at >= self.after]
        if not stalled or self.warned:
            return None
        self.warned = True
        return len(still)
