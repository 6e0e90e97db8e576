"""Budgets as a user types them (``30ms``, ``1.5G``, ``25M``), checked before anything is measured.

Each parser returns the budget in the unit ``bench.zoo.select.Budget`` keeps (milliseconds, G MACs, M params) or
raises ValueError with one line naming the option, what was given and what is expected: a budget must be a
positive, finite number, so ``-5``, ``0``, ``nan`` and ``inf`` are refused before the zoo is timed.
"""

from __future__ import annotations

import math
import os
import re

from bench.errors import InputError

_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|[-+]?inf(?:inity)?|nan)"
_SCALES = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}
_TIMES = {"": 1.0, "ms": 1.0, "s": 1e3, "us": 1e-3, "µs": 1e-3}


def _split(option: str, text: str, units: dict[str, float], example: str) -> float:
    match = re.fullmatch(_NUMBER + r"\s*([a-zµ]*)", text.strip().lower())
    if match is None or match.group(2) not in units:
        raise InputError(f"{option} {text!r}: expected a number such as {example}")
    value = float(match.group(1)) * units[match.group(2)]
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{option} {text!r}: a budget must be a positive, finite number such as {example}")
    return value


def parse_latency_ms(text: str) -> float:
    """Milliseconds: ``30``, ``30ms``, ``0.03s`` or ``30000us``."""
    return _split("--latency-ms", text, _TIMES, "30 or 30ms")


def parse_macs_g(text: str) -> float:
    """G MACs from a count of MACs: ``1G``, ``500M``, ``1.5e9`` (a bare number is MACs, as in ``bench solve``)."""
    return _split("--macs", text, _SCALES, "1G, 500M or 1.5e9") / 1e9


def parse_params_m(text: str) -> float:
    """M params: a bare number is millions (``10``); with a unit, a count (``25M``, ``500K``, ``1.2G``)."""
    return _split("--params", text, {**_SCALES, "": 1e6}, "10 (millions) or 25M") / 1e6


def check_count(option: str, value: int | None) -> None:
    """A thread count or batch size must be at least 1 (0 is not 'the default')."""
    if value is not None and value < 1:
        raise InputError(f"{option} {value}: must be at least 1")


def logical_cpus() -> int:
    """The machine's logical CPUs (``os.cpu_count()``): the most threads a timing or a training may ask for."""
    return os.cpu_count() or 1


def check_threads(option: str, value: int | None) -> None:
    """A thread count is at least 1 and at most the machine's logical CPUs. More threads than CPUs only wait
    for each other (``--threads 9999`` was still running at 60 s), so a row of them would time the waiting,
    not the model. Between the cores this process may use and the machine's CPUs it is allowed: that is
    oversubscription on purpose, and ``bench latency`` says so."""
    check_count(option, value)
    cpus = logical_cpus()
    if value is not None and value > cpus:
        raise InputError(f"{option} {value}: more than the {cpus} logical CPUs of this machine; give at most {cpus}")


#: Lets argparse hand ``-5``, ``-5ms``, ``-inf`` to the option as its value (so the refusal is ours, one line),
#: where by default only plain negative numbers are taken as values.
NEGATIVE_VALUE = re.compile(r"^-(\.?\d|inf|nan)", re.IGNORECASE)
