"""The `proxx` command: a thin shell over `proxx.Proxx`.

Exit codes (documented in the README):
  0 success
  1 internal error (one line on stderr, the traceback in a log file under PROXX_HOME/logs)
  2 usage error
  3 class A, pre-job failure (the intent does not compile); also `proxx validate` finding problems
  4 class B, job validation failure (nothing was executed)
  5 class C, execution failure (the engine failed or its output failed verification)
  6 configuration error (a broken plugin or installation)
No traceback ever reaches the terminal.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from proxx.cli.exits import EXIT_CONFIGURATION, EXIT_FOR_CLASS, EXIT_INTERNAL
from proxx.dispatch import FARM_DISTRIBUTION
from proxx.errors import ConfigurationError, ProxxError

Command = Callable[[argparse.Namespace], int]


def _add_repository_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profiles",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="a profile repository layered over the bundled one (repeatable); an intent defined in two "
        "layers is an error unless the later file declares `overrides: true`",
    )
    parser.add_argument(
        "--no-bundled-profiles",
        dest="bundled",
        action="store_false",
        default=None,
        help="leave the bundled profile repository out",
    )


def build_parser(arguments: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser of the command line `arguments`: when it names one of proxx's own commands, the
    parsers of the module that adds it (each module's `COMMANDS`); else every command's, and the
    plugins are loaded for theirs (a plugin's command, or none: the usage lists them all). A command
    that runs jobs loads the plugins it needs itself; `proxx jobs list` needs none."""
    from proxx.cli import doctor, jobs, openjd, profiles, serve, watch

    parser = argparse.ArgumentParser(
        prog="proxx", description="Named proxy intents compiled into verified proxy media."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = (profiles, doctor, jobs, serve, watch, openjd)
    named = next((argument for argument in arguments if not argument.startswith("-")), None)
    own = [module for module in modules if named in module.COMMANDS]
    for module in own or modules:
        module.register(sub, _add_repository_options)
    if own:
        return parser
    from proxx.pluginmanager import plugin_manager

    pm = plugin_manager()
    for name, command in pm.commands().items():
        if name in sub.choices:
            raise ConfigurationError(
                "duplicate_subcommand",
                f"A plugin adds the subcommand '{name}', which proxx already has. Rename it in the plugin.",
                {"subcommand": name},
            )
        command_parser = sub.add_parser(name, help=command.help)
        command.configure(command_parser)
        command_parser.set_defaults(handler=command.run)
    pm.add_deprecated_commands(sub)
    if "farm" not in sub.choices:  # the render farm plugin is not installed: `proxx farm` says how to get it
        missing = sub.add_parser("farm", help=f"the render farm (a plugin: pip install {FARM_DISTRIBUTION})")
        missing.add_argument("arguments", nargs=argparse.REMAINDER)
        missing.set_defaults(handler=_farm_not_installed)
    return parser


def _farm_not_installed(args: argparse.Namespace) -> int:
    raise ConfigurationError(
        "farm_not_installed",
        f"`proxx farm` needs the render farm plugin, which is not installed: pip install {FARM_DISTRIBUTION}.",
        {"distribution": FARM_DISTRIBUTION},
    )


def _log_internal_error() -> Path | None:
    import traceback

    try:
        from proxx.folders import own_folder, write_new
        from proxx.home import proxx_home

        home = proxx_home()
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"internal-error-{stamp}.log"
        # Never through a link or into another user's `logs/` (a group-writable PROXX_HOME).
        top = os.open(home, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with own_folder(top, "logs", home) as logs:
                write_new(logs, name, traceback.format_exc().encode("utf-8"))
        finally:
            os.close(top)
        return home / "logs" / name
    except Exception:
        return None


def _operator_message(error: ProxxError) -> list[str]:
    """A failure's message as an operator reads it (`proxx.visibility`), one line per line."""
    from proxx.visibility import OperatorWords

    # A refusal says why and never suggests another intent (the contract's "no 'did you mean?'"):
    # a deprecated intent's replacements are shown where intents are listed (`proxx profiles`).
    named = [name for name in (error.context.get("profile"),) if isinstance(name, str)]
    return (OperatorWords(keep=named).message(error.message, error.reason) or "").split("\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `proxx` command line with `argv` (default: this process's arguments) in this process
    and return its exit code (README, "Exit codes"), printing to stdout and stderr as the command
    does: tests call `main(["validate", "profiles"])` as a shell would run it. A usage error raises
    SystemExit(2), as argparse does."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(arguments)
    except ConfigurationError as error:
        print(f"proxx: configuration error: {error.message}", file=sys.stderr)
        return EXIT_CONFIGURATION
    args = parser.parse_args(arguments)
    command: Command = args.handler
    try:
        code = command(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, rather than at exit
        return code
    except ConfigurationError as error:
        print(f"proxx: configuration error: {error.message}", file=sys.stderr)
        return EXIT_CONFIGURATION
    except ProxxError as error:
        if getattr(args, "json", False):  # integrator output: a failure document, as for a failed job
            import json

            print(json.dumps(error.as_dict(), indent=2))
        for line in _operator_message(error):
            print(f"proxx: {line}", file=sys.stderr)
        return EXIT_FOR_CLASS.get(error.failure_class, EXIT_INTERNAL)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        print("proxx: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `proxx jobs show ID | head -2`: the reader had enough, which is no error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the flush at exit does not fail again
        return 0
    except Exception as error:
        path = _log_internal_error()
        where = f"; details in {path}" if path else ""
        print(f"proxx: internal error ({type(error).__name__}){where}", file=sys.stderr)
        return EXIT_INTERNAL


def run() -> None:
    """The console script."""
    sys.exit(main())
