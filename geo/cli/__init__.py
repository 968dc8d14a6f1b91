"""The command line, ``python -m geo``: one module a command.

Each command module defines ``add_parser(subparsers)`` and ``run(args) -> int``;
heavy imports stay inside ``run`` so that ``--help`` is quick. Errors of the
project become one line on standard error and a non-zero exit code, never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from geo import __version__
from geo.errors import BorderMonitorError, ValidationError

#: Command name -> module under :mod:`geo.cli`.
COMMANDS = {
    "ingest": "ingest_command",
    "density": "density_command",
    "hotspots": "hotspots_command",
    "analyze": "analyze_command",
    "report": "report_command",
    "layers": "layers_command",
    "users": "users_command",
}

#: Exit codes.
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_REJECTED = 2
EXIT_USAGE = 2


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``prog: error: message`` and where help is, then exit with 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``python -m geo`` with every available command."""
    parser = CommandParser(
        prog="python -m geo",
        description="Lebanon–Syria border monitor: ingest incidents, map their "
        "density and hot spots, rank border sectors for demarcation, write reports.",
        epilog="Exit codes: 0 done; 1 an error of the data or the environment (one line "
        "'error: ...' naming the value and the fix); 2 a bad option, or input rejected by "
        "ingest. `python -m geo COMMAND --help` explains each command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMANDS.values():
        importlib.import_module(f"geo.cli.{module_name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m geo`` and return its exit code.

    Parameters
    ----------
    argv
        The arguments, without the program name; ``sys.argv[1:]`` by default.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.run(args))
    except ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    except BorderMonitorError as exc:
        message = " ".join(str(exc).split())
        print(f"error: {message}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader of our output went away (`python -m geo analyze | head`):
        # not an error of ours. Point stdout at devnull so the interpreter's
        # final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:  # a file the user named cannot be read or written
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
