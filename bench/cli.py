"""Command line: ``python -m bench <command>`` (also installed as ``effbench``).

Commands are thin: they parse arguments, call the library, and print. Input problems
(``bench.errors.InputError``: a bad suite file, an unknown model, an unreachable MAC target, a bad
results path) print one line and exit with status 2; nothing is written. Any other exception is a
bug: one line naming it and exit status 1, its traceback behind ``--debug``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import NoReturn

from bench.errors import InputError
from bench.zoo.budgets import NEGATIVE_VALUE

EXIT_FAILURE = 1
EXIT_INPUT_ERROR = 2
EXIT_INTERRUPTED = 130


DEBUG_HELP = "show Python tracebacks instead of one-line errors"


class OneLineParser(argparse.ArgumentParser):
    """argparse with the CLI's manners, for every command (subparsers are made of the same class).

    A usage error is one line, ``error: ...`` and exit 2, as every other input error is (argparse prints its
    usage block first). An option's value may start with '-' where it reads as a number, budget or shard
    (``--shard -1/2``, ``--macs -1G``, ``--threads -1``): argparse takes only plain negative numbers as values
    and answers the rest with a misleading 'expected one argument'; this way the command's own check answers.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_VALUE
        self.commands: dict[str, argparse.ArgumentParser] = {}  # the top-level parser's, by name

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_INPUT_ERROR, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> OneLineParser:
    """The top-level parser; each subcommand's arguments live with its code (bench.commands)."""
    from bench.commands import MODULES

    parser = OneLineParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in MODULES:
        module.register(commands)
    for command in commands.choices.values():  # ``bench count X --debug`` as well as ``bench --debug count X``
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    parser.commands = dict(commands.choices)
    return parser


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments; an option no command knows is refused by that command's parser, so its error points to
    that command's --help (argparse would answer from the top-level parser)."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    started = time.monotonic()
    args = parse(argv)
    args.started = started  # ``bench pick`` says how long its answer took

    try:
        return args.handler(args)
    except (InputError, FileNotFoundError) as error:  # what the user gave; anything else is a bug (exit 1)
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        if args.debug:
            raise
        print(
            "interrupted: every row finished before the interrupt is stored, and training runs resume from their "
            "last epoch's checkpoint; run the same command again to continue",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (``| head``): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # anything else: one line, the traceback behind --debug
        if args.debug:
            raise
        print(f"error: {type(error).__name__}: {error} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_FAILURE
