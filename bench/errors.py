"""The one error class for what the user gave: a suite file, an argument, a model name, a results file.

Every input problem the library finds is an ``InputError`` (or a subclass: ``SuiteError``,
``UnknownModelError``, ``SolverError`` ...). The command line prints it in one line and exits with
status 2. Any other exception is a bug, ours or a library's: it exits with status 1 and keeps its
traceback (shown with ``--debug``). ``InputError`` is a ``ValueError``, so code that catches
``ValueError`` around a call still catches it.
"""

from __future__ import annotations


class InputError(ValueError):
    """A problem with the user's input, said in one line."""
