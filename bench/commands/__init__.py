"""The subcommands of ``python -m bench``, a module each (or a few that share a job): each module's
``register(commands)`` adds its parsers and sets ``handler`` to the function that runs it."""

from bench.commands import evaluate, gate, one_model, pick, scale, stores, suite_runs

#: In the order ``--help`` lists them.
MODULES = (suite_runs, one_model, pick, scale, gate, evaluate, stores)
