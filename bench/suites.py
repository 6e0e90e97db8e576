"""Suite files: load, validate once against the schema, and return a frozen SuiteSpec.

This is the one place input errors are found. Every problem becomes a ``SuiteError``
whose message is one line naming the file and the field, e.g.
``suites/x.yaml: models[2].scale.w: must be a positive number, got -1``.

A suite is YAML (safe-loaded)::

    name: fig3_single_dim            # optional, defaults to the file name
    description: ...
    reference: Figure 3              # what part of the paper it reproduces
    metrics: [complexity]
    compound: {alpha: 1.2, beta: 1.1, gamma: 1.15}   # optional defaults for phi
    models:
      - model: resnet50              # any timm name, unscaled
        paper: table2/resnet-50      # row of bench/reference/paper_tables.csv
      - model: efficientnet_b0
        scale: {w: [1.4, 1.8, 2.6]}  # a list sweeps: one entry per value
      - model: efficientnet_b0
        name: b0-compound
        scale: {d: 1.4, w: 1.2, r: 1.3}
      - model: efficientnet_b0
        scale: {method: width, match: b0-compound}   # solved to equal b0-compound's MACs
"""

from __future__ import annotations

import codecs
import difflib
import math
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from bench.accuracy.datasets import dataset_shape
from bench.errors import InputError
from bench.models.registry import UnknownModelError, check_name, make_spec, not_scalable, scalable_bases
from bench.models.user import UserModelError, check_args, is_reference
from bench.reference import paper_rows
from bench.scaling.rules import PAPER_COEFFICIENTS, CompoundCoefficients
from bench.scaling.solver import DEFAULT_TOLERANCE, MATCHABLE_METHODS
from bench.specs import IMAGENET, InputSpec, LatencyConditions, ModelSpec, TrainBudget
from bench.units import giga

SUPPORTED_METRICS = ("complexity", "latency", "throughput", "accuracy")
_TOP_KEYS = (
    "name",
    "description",
    "reference",
    "metrics",
    "compound",
    "latency",
    "throughput",
    "train",
    "seeds",
    "resolution_divisor",
    "total_stride",
    "models",
)
DEFAULT_SEEDS = (0, 1, 2)
DEFAULT_THROUGHPUT_BATCHES = (1, 8, 32)
_ENTRY_KEYS = ("model", "name", "scale", "input_size", "total_stride", "paper", "note", "seeds", "model_args")
_SCALE_KEYS = ("w", "d", "r", "phi", "method", "match", "macs", "macs_ratio", "tolerance", "alpha", "beta", "gamma")
_SWEEPABLE = ("w", "d", "r", "phi", "match")
_UNITS = {"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}


class SuiteError(InputError):
    """An invalid suite file; ``str()`` is the one line to show the user (the first problem, and how many
    more there are); ``problems`` lists every one, a line each (``bench validate`` prints them all)."""

    def __init__(self, path: str, where: str, message: str) -> None:
        self.path = path
        self.problems: tuple[str, ...] = (f"{path}: {where}: {message}" if where else f"{path}: {message}",)
        super().__init__(self.problems[0])

    @classmethod
    def many(cls, errors: list[SuiteError]) -> SuiteError:
        """One error standing for several problems of one file."""
        if len(errors) == 1:
            return errors[0]
        combined = cls(errors[0].path, "", "")
        combined.problems = tuple(p for e in errors for p in e.problems)
        more = len(combined.problems) - 1
        combined.args = (f"{combined.problems[0]} (and {more} more: bench validate {errors[0].path} lists them)",)
        return combined


@dataclass(frozen=True)
class MatchTarget:
    """How a solved entry's cost is fixed: another entry's MACs, an absolute number, or a ratio."""

    method: str
    entry: str | None = None
    macs: float | None = None
    macs_ratio: float | None = None  # times the MACs of the unscaled model
    tolerance: float = DEFAULT_TOLERANCE

    def describe(self) -> str:
        if self.entry is not None:
            return f"MACs of {self.entry}"
        if self.macs is not None:
            return f"{giga(self.macs)} G MACs"
        return f"{self.macs_ratio:g} x the unscaled model's MACs"


@dataclass(frozen=True)
class SuiteEntry:
    """One model of a suite: a ready spec, or a target the solver turns into one."""

    name: str
    model: str
    where: str
    spec: ModelSpec | None = None
    target: MatchTarget | None = None
    coefficients: CompoundCoefficients = PAPER_COEFFICIENTS
    paper: str | None = None
    note: str = ""
    inputs: InputSpec = IMAGENET
    #: This entry's own seeds (e.g. more for a grid search's leading candidates); None: the suite's.
    seeds: tuple[int, ...] | None = None

    @property
    def cost_target(self) -> MatchTarget:
        """The target of a solved entry (one without a spec of its own)."""
        if self.target is None:
            raise ValueError(f"{self.name} is not a solved entry")
        return self.target


@dataclass(frozen=True)
class ThroughputSettings:
    """A batch-size sweep, each batch measured under ``conditions``."""

    batch_sizes: tuple[int, ...]
    conditions: LatencyConditions


@dataclass(frozen=True)
class SuiteSpec:
    """A validated suite; entries keep the file's order (sweeps expanded in place)."""

    name: str
    path: str
    description: str
    reference: str
    metrics: tuple[str, ...]
    entries: tuple[SuiteEntry, ...] = field(repr=False)
    latency: LatencyConditions | None = None
    throughput: ThroughputSettings | None = None
    train: TrainBudget | None = None
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    inputs: InputSpec = IMAGENET
    #: A learning curve: every entry trained at each of these epoch counts (``train.epochs`` given as a list).
    curve_epochs: tuple[int, ...] = ()

    @property
    def devices(self) -> dict[str, str]:
        """The device each block of the suite runs on, e.g. {'throughput': 'cuda'}."""
        blocks = {
            "latency": self.latency,
            "throughput": self.throughput.conditions if self.throughput else None,
            "train": self.train,
        }
        return {name: block.device for name, block in blocks.items() if block is not None}

    @property
    def budgets(self) -> tuple[TrainBudget, ...]:
        """The training budgets the suite asks for: one, or one per epoch count of a learning curve."""
        if self.train is None:
            return ()
        return tuple(replace(self.train, epochs=e) for e in self.curve_epochs) or (self.train,)


class _DuplicateKeyError(ValueError):
    def __init__(self, key: object, line: int) -> None:
        super().__init__(key)
        self.key, self.line = key, line


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader (no tags that build Python objects), refusing a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKeyError(key, key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


#: Suite names become parts of file names (exports, report tables): letters, digits, '.', '_', '-'.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


#: Byte-order marks and their encodings, longest first (UTF-32 LE's begins with UTF-16 LE's).
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_suite_text(path: Path) -> str:
    """A suite file's text: UTF-8, or UTF-8/16/32 with a byte-order mark (as some Windows editors save it);
    anything else is a SuiteError that names the encoding problem and where it is."""
    data = path.read_bytes()
    encoding = next((name for bom, name in BOMS if data.startswith(bom)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise SuiteError(
            str(path),
            "",
            f"not {encoding.upper().removesuffix('-SIG')} text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}); save it as UTF-8",
        ) from None


def _yaml_problem(error: yaml.YAMLError, text: str) -> tuple[str, str]:
    """(where, what) of a YAML error, each on one line (PyYAML's own message spans two)."""
    if isinstance(error, yaml.reader.ReaderError):
        line = text[: error.position].count("\n") + 1
        return f"line {line}", f"character #x{error.character:04x} is not allowed in YAML"
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}" if mark is not None else ""
    return where, " ".join(str(getattr(error, "problem", None) or error).split())


def _check_is_file(path: Path) -> None:
    if path.is_dir():
        raise SuiteError(str(path), "", "is a directory, not a suite file; name its .yaml files (e.g. DIR/*.yaml)")
    if not path.is_file():
        raise SuiteError(str(path), "", "no such suite file")


def suite_name(path: str | Path) -> str:
    """A suite file's ``name`` (as ``load_suite`` gives it: the file's stem when left out), without
    checking the rest (nor importing the models it names)."""
    path = Path(path)
    _check_is_file(path)
    try:
        data = yaml.safe_load(read_suite_text(path))
    except yaml.YAMLError as error:
        raise SuiteError(str(path), "", f"not YAML ({type(error).__name__})") from None
    name = data.get("name", path.stem) if isinstance(data, dict) else None
    if not isinstance(name, str) or not name:
        raise SuiteError(str(path), "name", "must be a non-empty string (or left out: the file's stem)")
    return name


def load_suite(path: str | Path) -> SuiteSpec:
    """Read and validate a suite file; raises SuiteError (one line) on any problem."""
    path = Path(path)
    label = str(path)
    _check_is_file(path)
    text = read_suite_text(path)
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)
    except _DuplicateKeyError as error:
        message = f"duplicate key {error.key!r} (the second would silently win)"
        raise SuiteError(label, f"line {error.line}", message) from None
    except yaml.YAMLError as error:
        where, problem = _yaml_problem(error, text)
        raise SuiteError(label, where, f"not valid YAML ({problem})") from None
    return _Validator(label).suite(raw, default_name=path.stem)


def _did_you_mean(word: str, options: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else f"; expected one of: {', '.join(options)}"


def _without_repeats(entries: list[SuiteEntry]) -> list[SuiteEntry]:
    """Drop a sweep point that repeats an earlier entry exactly (e.g. two sweeps that both start at the base).

    Entries the user wrote out twice, and two entries with one name but any other difference, are
    left for ``check_names`` to refuse.
    """
    kept: dict[str, SuiteEntry] = {}
    out = []
    for entry in entries:
        first = kept.get(entry.name)
        swept = ".scale." in entry.where
        if swept and first is not None and replace(first, where="") == replace(entry, where=""):
            continue
        kept.setdefault(entry.name, entry)
        out.append(entry)
    return out


#: The field annotations ``_Validator.typed`` checks values against.
FIELD_KINDS = ("bool", "int", "float", "str")


def field_kind(annotation: str) -> tuple[str, bool]:
    """A dataclass field's annotation as (kind, optional): ``int`` -> ("int", False), ``float | None`` ->
    ("float", True). Any other annotation (a tuple, a Literal, a union of two types) is a TypeError: a
    rule to add to the validator, never a value checked as something else without a word."""
    parts = [part.strip() for part in annotation.split("|")]
    kinds = [part for part in parts if part != "None"]
    if len(kinds) != 1 or kinds[0] not in FIELD_KINDS:
        raise TypeError(f"the suite validator has no rule for a field annotated {annotation!r}")
    return kinds[0], "None" in parts


class _Validator:
    """Walks the raw YAML once, raising SuiteError with the file and field on the first problem."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> SuiteError:
        return SuiteError(self.path, where, message)

    def mapping(self, value: Any, where: str, allowed: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a mapping, got {type(value).__name__}")
        for key in value:
            if key not in allowed:
                raise self.fail(where, f"unknown key {key!r}{_did_you_mean(str(key), allowed)}")
        return value

    def pixels(self, value: Any, where: str) -> int:
        """A whole number of pixels (1.5 px is a mistake, not 1 px)."""
        number = self.number(value, where)
        if number != int(number):
            raise self.fail(where, f"must be a whole number of pixels, got {value!r}")
        return int(number)

    def optional_text(self, value: Any, where: str) -> str:
        """A string field that may be left out (then empty)."""
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(where, f"must be a string, got {type(value).__name__} {value!r}")
        return value.strip()

    def safe_name(self, value: Any, where: str) -> str:
        """A name that is safe inside a file name: no path separators, no '..', printable."""
        name = self.text(value, where)
        if not SAFE_NAME.match(name) or ".." in name:
            raise self.fail(where, f"must be letters, digits, '.', '_' or '-' (it names files), got {name!r}")
        return name

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"must be a non-empty string, got {value!r}")
        return value

    def number(self, value: Any, where: str, *, positive: bool = True) -> float:
        """A finite number; YAML strings like '1.8e9' or '1.8G' are accepted too."""
        number = parse_number(value)
        if number is None or not math.isfinite(number):
            raise self.fail(where, f"must be a number, got {value!r}")
        if positive and number <= 0:
            raise self.fail(where, f"must be a positive number, got {value!r}")
        return number

    def suite(self, raw: Any, default_name: str) -> SuiteSpec:
        """The suite, or a SuiteError listing every problem found: each block and each model entry is
        checked on its own, so one mistake does not hide the next."""
        raw = self.mapping(raw if raw is not None else {}, "top level", _TOP_KEYS)
        errors: list[SuiteError] = []

        def checked(check: Any, fallback: Any) -> Any:
            try:
                return check()
            except SuiteError as error:
                errors.append(error)
                return fallback

        metrics = checked(lambda: self.metrics(raw.get("metrics", ["complexity"])), ("complexity",))
        coefficients = checked(
            lambda: self.coefficients(raw.get("compound", {}), "compound", PAPER_COEFFICIENTS), PAPER_COEFFICIENTS
        )
        for block in ("train", "seeds"):
            if block in raw and "accuracy" not in metrics:
                errors.append(self.fail(block, "given but 'accuracy' is not in metrics"))
        for block in ("latency", "throughput"):
            if block in raw and block not in metrics:
                errors.append(self.fail(block, f"settings given but {block!r} is not in metrics"))
        train, curve = (
            checked(lambda: self.train(raw.get("train", {})), (None, ())) if "accuracy" in metrics else (None, ())
        )
        seeds = checked(lambda: self.seeds(raw.get("seeds", list(DEFAULT_SEEDS))), DEFAULT_SEEDS)
        inputs = checked(
            lambda: self.inputs(
                train, raw.get("resolution_divisor", IMAGENET.resolution_divisor), raw.get("total_stride")
            ),
            IMAGENET,
        )
        models = raw.get("models")
        if not isinstance(models, list) or not models:
            errors.append(self.fail("models", "must be a non-empty list of model entries"))
            models = []
        entries = [
            entry
            for i, item in enumerate(models)
            for entry in checked(lambda: self.entries(item, f"models[{i}]", coefficients, inputs), [])  # noqa: B023
        ]
        entries = _without_repeats(entries)
        if not errors:  # names and matches refer across entries: check them once every entry parsed
            checked(lambda: self.check_names(entries), None)
        latency = checked(lambda: self.conditions(raw.get("latency", {}), "latency", ()), None)
        throughput = checked(lambda: self.throughput(raw.get("throughput", {})), None)
        name = checked(lambda: self.safe_name(raw.get("name", default_name), "name"), default_name)
        description = checked(lambda: self.optional_text(raw.get("description"), "description"), "")
        reference = checked(lambda: self.optional_text(raw.get("reference"), "reference"), "")
        if errors:
            raise SuiteError.many(errors)
        return SuiteSpec(
            name=name,
            path=self.path,
            description=description,
            reference=reference,
            metrics=tuple(metrics),
            entries=tuple(entries),
            latency=latency if "latency" in metrics else None,
            throughput=throughput if "throughput" in metrics else None,
            train=train,
            seeds=seeds,
            inputs=inputs,
            curve_epochs=curve,
        )

    def metrics(self, metrics: Any) -> tuple[str, ...]:
        if not isinstance(metrics, list) or not metrics:
            raise self.fail("metrics", f"must be a non-empty list, got {metrics!r}")
        for i, metric in enumerate(metrics):
            if metric not in SUPPORTED_METRICS:
                raise self.fail(
                    f"metrics[{i}]", f"unknown metric {metric!r}{_did_you_mean(str(metric), SUPPORTED_METRICS)}"
                )
        return tuple(metrics)

    def train(self, raw: Any) -> tuple[TrainBudget, tuple[int, ...]]:
        """The budget, and the epoch counts of a learning curve when ``epochs`` is a list."""
        epochs = raw.get("epochs") if isinstance(raw, dict) else None
        if not isinstance(epochs, list):
            return self.dataclass_from(TrainBudget, raw, "train"), ()
        if not epochs or any(isinstance(e, bool) or not isinstance(e, int) or e < 1 for e in epochs):
            raise self.fail("train.epochs", f"must be a positive integer or a non-empty list of them, got {epochs!r}")
        if len(set(epochs)) != len(epochs):
            raise self.fail("train.epochs", f"has repeated values: {epochs!r}")
        return self.dataclass_from(TrainBudget, {**raw, "epochs": epochs[0]}, "train"), tuple(epochs)

    def seeds(self, raw: Any, where: str = "seeds") -> tuple[int, ...]:
        if (
            not isinstance(raw, list)
            or not raw
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in raw)
        ):
            raise self.fail(where, f"must be a non-empty list of non-negative integers, got {raw!r}")
        if len(set(raw)) != len(raw):
            raise self.fail(where, f"has repeated seeds: {raw!r}")
        return tuple(raw)

    def inputs(self, train: TrainBudget | None, divisor: Any, total_stride: Any) -> InputSpec:
        """ImageNet-scale inputs, or the proxy task's (base resolution, channels, classes) when training;
        either at the families' own total stride or the suite's."""
        if isinstance(divisor, bool) or not isinstance(divisor, int) or divisor < 1:
            raise self.fail("resolution_divisor", f"must be a positive integer, got {divisor!r}")
        stride = None if total_stride is None else self.total_stride(total_stride, "total_stride")
        if train is None:
            return InputSpec(resolution_divisor=divisor, total_stride=stride)
        try:
            in_chans, num_classes = dataset_shape(train.dataset)
        except (ValueError, FileNotFoundError) as error:
            raise self.fail("train.dataset", str(error)) from None
        return InputSpec(train.base_resolution, divisor, in_chans, num_classes, stride)

    def total_stride(self, value: Any, where: str) -> int:
        """A total stride: a power of two (which ones a network allows is checked when its spec is made)."""
        if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value & (value - 1):
            raise self.fail(where, f"must be a power of two such as 8, 16 or 32, got {value!r}")
        return value

    def conditions(self, raw: Any, where: str, extra_keys: tuple[str, ...]) -> LatencyConditions:
        """LatencyConditions from a mapping (``extra_keys`` are allowed but handled by the caller)."""
        return self.dataclass_from(LatencyConditions, raw, where, extra_keys)

    def dataclass_from(self, cls: type, raw: Any, where: str, extra_keys: tuple[str, ...] = ()) -> Any:
        """An instance of the frozen dataclass ``cls`` from a mapping, each value checked against its
        field's annotation; ``extra_keys`` are accepted here and left to the caller."""
        annotations = {f.name: str(f.type) for f in fields(cls) if f.name not in extra_keys}
        for annotation in annotations.values():
            field_kind(annotation)  # every field has a rule, set in the file or not
        raw = self.mapping(raw, where, tuple(annotations) + extra_keys)
        values = {key: self.typed(raw[key], annotations[key], f"{where}.{key}") for key in annotations if key in raw}
        try:
            return cls(**values)
        except ValueError as error:
            raise self.fail(where, str(error)) from None

    def typed(self, value: Any, annotation: str, where: str) -> Any:
        """``value`` checked against a field annotation: bool, int, float or str, optionally ``| None``
        (``field_kind``)."""
        kind, optional = field_kind(annotation)
        if value is None and optional:
            return None
        if kind == "bool":
            if not isinstance(value, bool):
                raise self.fail(where, f"must be true or false, got {value!r}")
            return value
        if kind == "str":
            return self.text(value, where)
        if kind == "float":
            number = parse_number(value)
            if number is None or not math.isfinite(number) or number < 0:
                raise self.fail(where, f"must be a number >= 0, got {value!r}")
            return number
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(where, f"must be a non-negative integer, got {value!r}")
        return value

    def throughput(self, raw: Any) -> ThroughputSettings:
        raw = self.mapping(
            raw,
            "throughput",
            tuple(f.name for f in fields(LatencyConditions) if f.name != "batch_size") + ("batch_sizes",),
        )
        batches = raw.get("batch_sizes", list(DEFAULT_THROUGHPUT_BATCHES))
        if (
            not isinstance(batches, list)
            or not batches
            or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in batches)
        ):
            raise self.fail("throughput.batch_sizes", f"must be a non-empty list of positive integers, got {batches!r}")
        conditions = self.conditions(
            {k: v for k, v in raw.items() if k != "batch_sizes"}, "throughput", ("batch_sizes", "batch_size")
        )
        return ThroughputSettings(tuple(batches), conditions)

    def coefficients(self, raw: Any, where: str, default: CompoundCoefficients) -> CompoundCoefficients:
        raw = self.mapping(raw, where, ("alpha", "beta", "gamma"))
        values = {k: self.number(v, f"{where}.{k}") for k, v in raw.items()}
        for key, value in values.items():
            if value < 1:
                raise self.fail(f"{where}.{key}", f"must be >= 1 (scaling never shrinks), got {value!r}")
        return replace(default, **values)

    def entries(self, item: Any, where: str, coefficients: CompoundCoefficients, inputs: InputSpec) -> list[SuiteEntry]:
        """One entry, or several when one scale value is a list (a sweep)."""
        item = self.mapping(item, where, _ENTRY_KEYS)
        scale = self.mapping(item.get("scale", {}), f"{where}.scale", _SCALE_KEYS)
        swept = [key for key in _SWEEPABLE if isinstance(scale.get(key), list)]
        if len(swept) > 1:
            raise self.fail(
                f"{where}.scale", f"only one value may be a list (a sweep), got lists for {', '.join(swept)}"
            )
        if not swept:
            return [self.entry(item, scale, where, coefficients, inputs)]
        key = swept[0]
        if not scale[key]:
            raise self.fail(f"{where}.scale.{key}", "a sweep needs at least one value")
        if "name" in item or "paper" in item:
            raise self.fail(
                where, "a sweep names its entries itself; drop 'name' and 'paper' or list entries one by one"
            )
        return [
            self.entry(item, {**scale, key: value}, f"{where}.scale.{key}[{j}]", coefficients, inputs)
            for j, value in enumerate(scale[key])
        ]

    def entry(
        self, item: dict, scale: dict, where: str, suite_coefficients: CompoundCoefficients, inputs: InputSpec
    ) -> SuiteEntry:
        model = self.model(item.get("model"), where)
        bases = [k for k in ("alpha", "beta", "gamma") if k in scale]
        if bases and "phi" not in scale and scale.get("method") != "compound":
            raise self.fail(f"{where}.scale.{bases[0]}", "only applies with phi or method: compound (compound scaling)")
        coefficients = self.coefficients({k: scale[k] for k in bases}, f"{where}.scale", suite_coefficients)
        paper = item.get("paper")
        if paper is not None and not isinstance(paper, str):
            raise self.fail(f"{where}.paper", f"must be one paper row name like 'table2/resnet-50', got {paper!r}")
        if paper is not None and paper not in paper_rows():
            raise self.fail(
                f"{where}.paper", f"no reported row {paper!r}{_did_you_mean(str(paper), sorted(paper_rows()))}"
            )
        name = self.text(item["name"], f"{where}.name") if "name" in item else None
        input_size = self.pixels(item["input_size"], f"{where}.input_size") if "input_size" in item else None
        if "total_stride" in item:
            inputs = replace(inputs, total_stride=self.total_stride(item["total_stride"], f"{where}.total_stride"))
        common: dict[str, Any] = {
            "model": model,
            "where": where,
            "coefficients": coefficients,
            "paper": paper,
            "note": str(item.get("note", "")),
            "inputs": inputs,
            "seeds": self.seeds(item["seeds"], f"{where}.seeds") if "seeds" in item else None,
        }
        if any(k in scale for k in ("match", "macs", "macs_ratio")):
            if input_size is not None:
                raise self.fail(f"{where}.input_size", "a solved entry takes its input size from the solver")
            target = self.target(scale, model, f"{where}.scale")
            return SuiteEntry(name=name or _solved_name(model, target), target=target, **common)
        model_args = self.model_args(item.get("model_args"), model, f"{where}.model_args")
        spec = self.spec(
            model,
            scale,
            input_size=input_size,
            name=name,
            coefficients=coefficients,
            where=where,
            inputs=inputs,
            model_args=model_args,
        )
        return SuiteEntry(name=spec.name, spec=spec, **common)

    def model_args(self, raw: Any, model: str, where: str) -> dict[str, Any]:
        if raw is None:
            return {}
        if not is_reference(model):
            raise self.fail(where, f"model_args are for your own package.module:function models, not {model}")
        if not isinstance(raw, dict):
            raise self.fail(where, f"must be a mapping of argument names to values, got {raw!r}")
        try:
            check_args(raw)
        except UserModelError as error:
            raise self.fail(where, str(error)) from None
        return raw

    def model(self, value: Any, where: str) -> str:
        if value is None:
            raise self.fail(where, "missing required key 'model'")
        name = self.text(value, f"{where}.model")
        try:
            check_name(name)
        except (UnknownModelError, UserModelError) as error:
            raise self.fail(f"{where}.model", str(error)) from None
        return name

    def spec(
        self,
        model: str,
        scale: dict,
        *,
        input_size: int | None,
        name: str | None,
        coefficients: CompoundCoefficients,
        where: str,
        inputs: InputSpec,
        model_args: dict[str, Any],
    ) -> ModelSpec:
        coefs = {
            key: self.number(scale[key], f"{where}.scale.{key}", positive=key != "phi")
            for key in ("w", "d", "r", "phi")
            if key in scale
        }
        for key in ("tolerance",):
            if key in scale:
                raise self.fail(
                    f"{where}.scale.{key}", "only applies to solved entries (with match, macs or macs_ratio)"
                )
        try:
            spec = make_spec(
                model,
                width=coefs.get("w"),
                depth=coefs.get("d"),
                resolution=coefs.get("r"),
                phi=coefs.get("phi"),
                coefficients=coefficients,
                input_size=input_size,
                name=name,
                inputs=inputs,
                model_args=model_args,
            )
        except ValueError as error:  # NotScalableError included
            raise self.fail(_field_of(str(error), where, input_size is not None, scale), str(error)) from None
        method = scale.get("method")
        if method is not None and method != spec.method:
            raise self.fail(f"{where}.scale.method", f"says {method!r} but the coefficients given mean {spec.method!r}")
        return spec

    def target(self, scale: dict, model: str, where: str) -> MatchTarget:
        given = [k for k in ("match", "macs", "macs_ratio") if k in scale]
        if len(given) > 1:
            raise self.fail(where, f"give one of match, macs, macs_ratio, not {' and '.join(given)}")
        for key in ("w", "d", "r", "phi"):
            if key in scale:
                raise self.fail(f"{where}.{key}", f"a solved entry gets its coefficients from the solver; drop {key!r}")
        method = scale.get("method")
        if method not in MATCHABLE_METHODS:
            raise self.fail(
                f"{where}.method", f"a solved entry needs method: one of {', '.join(MATCHABLE_METHODS)}; got {method!r}"
            )
        if model not in scalable_bases():
            raise self.fail(f"{where}", not_scalable(model))
        tolerance = self.number(scale.get("tolerance", DEFAULT_TOLERANCE), f"{where}.tolerance")
        if tolerance >= 1:
            raise self.fail(f"{where}.tolerance", f"must be a fraction below 1 (0.03 = 3%), got {tolerance!r}")
        entry = self.text(scale["match"], f"{where}.match") if "match" in scale else None
        macs = self.number(scale["macs"], f"{where}.macs") if "macs" in scale else None
        ratio = self.number(scale["macs_ratio"], f"{where}.macs_ratio") if "macs_ratio" in scale else None
        return MatchTarget(method=method, entry=entry, macs=macs, macs_ratio=ratio, tolerance=tolerance)

    def check_names(self, entries: list[SuiteEntry]) -> None:
        seen: dict[str, str] = {}
        for entry in entries:
            if entry.name in seen:
                raise self.fail(
                    entry.where,
                    f"duplicate entry name {entry.name!r} (also {seen[entry.name]}); give each its own 'name'",
                )
            seen[entry.name] = entry.where
        by_name = {e.name: e for e in entries}
        for entry in entries:
            chain = [entry.name]
            while (match := _matched_entry(by_name[chain[-1]])) is not None:
                if match not in by_name:
                    raise self.fail(
                        f"{by_name[chain[-1]].where}.scale.match",
                        f"no entry named {match!r}{_other_entries(match, by_name, chain[-1])}",
                    )
                if match in chain:
                    raise self.fail(f"{entry.where}.scale.match", f"circular match: {' -> '.join(chain + [match])}")
                chain.append(match)


def _field_of(message: str, where: str, has_input_size: bool, scale: dict) -> str:
    """The field a range error from ``make_spec`` is about: the entry's input_size, the scale coefficient it
    names (or phi, which the others came from), or the scale as a whole."""
    if message.startswith("input size") and has_input_size:
        return f"{where}.input_size"
    coefficient = re.match(r"(w|d|r|phi)[= ]", message)
    if coefficient and coefficient.group(1) in scale:
        return f"{where}.scale.{coefficient.group(1)}"
    return f"{where}.scale.phi" if "phi" in scale else f"{where}.scale"


def _other_entries(match: str, by_name: dict[str, SuiteEntry], own: str) -> str:
    """A hint for a match naming no entry: the closest other entry's name, or that there is none."""
    others = [name for name in by_name if name != own]
    return _did_you_mean(match, others) if others else " (the suite has no other entry to match)"


def _matched_entry(entry: SuiteEntry) -> str | None:
    """The entry whose MACs ``entry`` is solved to, if any."""
    return entry.target.entry if entry.target is not None else None


def _solved_name(model: str, target: MatchTarget) -> str:
    if target.entry is not None:
        return f"{model}-{target.method}@{target.entry}"
    if target.macs is not None:
        return f"{model}-{target.method}@{target.macs / 1e9:.4g}G"
    return f"{model}-{target.method}@x{target.macs_ratio:.4g}"


def parse_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        scale = _UNITS.get(text[-1:], 1.0)
        try:
            return float(text[:-1] if scale != 1.0 else text) * scale
        except ValueError:
            return None
    return None
