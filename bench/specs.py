"""The frozen specs every stage of the pipe passes along, importable without torch: the model variant
(``ModelSpec``, ``InputSpec``), the conditions of a timing (``LatencyConditions``) and the budget of a proxy
training (``TrainBudget``)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

from bench.errors import InputError

#: How a variant was derived from its base model.
#: ``baseline``: the base unchanged; ``preset``: a published variant (EfficientNet-B1..B7);
#: ``width`` / ``depth`` / ``resolution``: one dimension scaled; ``compound``: several at once;
#: ``timm``: a timm model as timm builds it, which may be scaled by coefficients of its own
#: (efficientnet_b8, mobilenetv2_140): its rows leave width, depth and resolution blank;
#: ``user``: a researcher's own ``package.module:function``, built as its code says.
METHODS = ("baseline", "preset", "width", "depth", "resolution", "compound", "timm", "user")
SINGLE_DIMENSION_METHODS = ("width", "depth", "resolution")


@dataclass(frozen=True)
class InputSpec:
    """What networks are fed and the geometry they run at: the size r = 1 stands for, the pixel grid sizes
    snap to, channels, classes, and the total stride of the scalable families.

    ``base_resolution=None`` keeps each model's own (224 for the scalable families, the published
    size for presets, timm's default otherwise); a proxy task sets it (e.g. 32 for Fashion-MNIST).
    ``total_stride=None`` keeps each family's own (32); a proxy at a small base sets it lower (e.g. 8) so
    that late stages still see maps larger than 1x1 (``bench.models.families.BaseArchitecture.strides_for``).
    """

    base_resolution: int | None = None
    resolution_divisor: int = 4
    in_chans: int = 3
    num_classes: int = 1000
    total_stride: int | None = None

    def __post_init__(self) -> None:
        if (self.base_resolution is not None and self.base_resolution < 1) or self.resolution_divisor < 1:
            raise InputError("base_resolution and resolution_divisor must be >= 1")
        if self.total_stride is not None and (self.total_stride < 1 or self.total_stride & (self.total_stride - 1)):
            raise InputError(f"a total stride must be a power of two such as 8, 16 or 32, got {self.total_stride}")
        if self.in_chans < 1 or self.num_classes < 1:
            raise InputError("in_chans and num_classes must be >= 1")


IMAGENET = InputSpec()


def imagenet_at(total_stride: int | None) -> InputSpec:
    """ImageNet's input, with the scalable families built at ``total_stride`` when one is given."""
    return IMAGENET if total_stride is None else InputSpec(total_stride=total_stride)


@dataclass(frozen=True)
class ModelSpec:
    """A concrete, buildable model: base architecture, scaling coefficients and input.

    ``resolution`` is the coefficient r (input size / the family's base size); ``input_size``
    is the pixel size actually fed to the model (r rounded by ``scaling.round_resolution``,
    or the published size for presets). ``total_stride`` is a family model's input size over its last
    stage's map size (its family's own, 32, unless built with fewer strides); None for other models.
    """

    name: str
    base: str
    family: str
    method: str
    width: float = 1.0
    depth: float = 1.0
    resolution: float = 1.0
    input_size: int = 224
    phi: float | None = None
    in_chans: int = 3
    num_classes: int = 1000
    #: A user model's ``reference@digest`` (bench.models.user), None for everything else.
    source: str | None = None
    #: Keyword arguments for a user model's function, sorted (name, scalar) pairs.
    model_args: tuple[tuple[str, bool | int | float | str], ...] = ()
    total_stride: int | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InputError(f"unknown scaling method {self.method!r}; expected one of {METHODS}")
        for field_name in ("width", "depth", "resolution"):
            value = getattr(self, field_name)
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"{field_name} must be a positive number, got {value!r}")
        for field_name in ("input_size", "in_chans", "num_classes"):
            if getattr(self, field_name) < 1:
                raise InputError(f"{field_name} must be >= 1, got {getattr(self, field_name)!r}")

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of one input image."""
        return (self.in_chans, self.input_size, self.input_size)


#: Precisions a latency can be measured at: fp32, or autocast to bf16 / fp16 (bench.measure.latency maps them).
PRECISION_NAMES = ("fp32", "bf16", "fp16")


@dataclass(frozen=True)
class LatencyConditions:
    """Everything that changes a timing besides the model and its input size."""

    device: str = "cpu"
    batch_size: int = 1
    threads: int | None = 1  # CPU intra-op threads; None leaves torch's setting alone
    precision: str = "fp32"  # fp32, or autocast to bf16 / fp16
    channels_last: bool = False
    compile: bool = False
    warmup_iterations: int = 5
    min_iterations: int = 20
    min_time_s: float = 1.0
    max_iterations: int = 1000
    #: Pin the timing process to one CPU core while it measures. None (the default): pin when a CPU
    #: measurement runs one thread, where another process's work on the same core is the noise.
    pin_core: bool | None = None

    @property
    def pins(self) -> bool:
        if self.pin_core is not None:
            return self.pin_core and self.device == "cpu"
        return self.device == "cpu" and self.threads == 1

    def __post_init__(self) -> None:
        if self.device not in ("cpu", "cuda"):
            raise InputError(f"device must be 'cpu' or 'cuda', got {self.device!r}")
        if self.precision not in PRECISION_NAMES:
            raise InputError(f"precision must be one of {PRECISION_NAMES}, got {self.precision!r}")
        if self.device == "cpu" and self.precision == "fp16":
            raise InputError("fp16 autocast is a CUDA path; use bf16 on CPU")
        if self.batch_size < 1 or (self.threads is not None and self.threads < 1):
            raise InputError("batch_size and threads must be >= 1")
        if not self.min_time_s >= 0:
            raise InputError(f"min_time_s must be >= 0 seconds, got {self.min_time_s}")
        if self.min_iterations < 1 or self.warmup_iterations < 0 or self.max_iterations < self.min_iterations:
            raise InputError("need warmup_iterations >= 0 and 1 <= min_iterations <= max_iterations")

    @property
    def memory_format(self) -> str:
        return "channels_last" if self.channels_last else "contiguous"


#: Optimizers a proxy budget may name (built by timm's optimizer factory).
OPTIMIZERS = ("sgd", "rmsproptf", "adamw")


@dataclass(frozen=True)
class TrainBudget:
    """Everything that decides a proxy accuracy besides the model and the seed."""

    dataset: str = "fashion_mnist"
    data_root: str | None = None
    download: bool = False
    device: str = "cpu"
    base_resolution: int = 32
    train_images: int | None = None  # a fixed subset of the training images (None: all of them)
    test_images: int | None = None
    #: Images held out of the training split for validation (fixed, stratified by class, the same for every
    #: model and seed; ``train_images`` then counts from the rest). None: no validation split.
    val_images: int | None = None
    epochs: int = 3
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 5e-5
    warmup_epochs: float = 0.5
    label_smoothing: float = 0.1
    augment: bool = True
    #: Score after every epoch (the validation split where there is one, else the test split); the test
    #: split is always scored once, after the last epoch.
    eval_every_epoch: bool = False
    dropout: float = 0.1
    drop_path: float = 0.0
    zero_init_head: bool = True
    zero_init_residual: bool = True
    channels_last: bool = True
    fast_depthwise: bool = True
    fast_matmul_convs: bool = True
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.epochs < 1 or self.batch_size < 1 or not 8 <= self.base_resolution <= 2048:
            raise InputError("need epochs >= 1, batch_size >= 1 and 8 <= base_resolution <= 2048")
        for name in ("train_images", "test_images", "val_images"):
            count = getattr(self, name)
            if count is not None and count < 1:
                raise InputError(f"{name} must be at least 1 (or left out for the whole split), got {count}")
        if self.device not in ("cpu", "cuda"):
            raise InputError(f"device must be 'cpu' or 'cuda', got {self.device!r}")
        self._check_split_sizes()

    def _check_split_sizes(self) -> None:
        """More images than a built-in dataset has would train on all of them while the row records the count
        asked for: refused here, before anything runs (an image folder is checked when it is loaded)."""
        from bench.accuracy.datasets import SPLIT_SIZES

        if self.dataset not in SPLIT_SIZES:
            return
        train, test = SPLIT_SIZES[self.dataset]
        held = self.val_images or 0
        if held >= train:
            raise InputError(f"val_images {held}: {self.dataset} has only {train} training images")
        if self.train_images is not None and self.train_images > train - held:
            rest = f" after the {held} held out by val_images" if held else ""
            raise InputError(
                f"train_images {self.train_images}: {self.dataset} has only {train - held} training images{rest}"
            )
        if self.test_images is not None and self.test_images > test:
            raise InputError(f"test_images {self.test_images}: {self.dataset} has only {test} test images")

    def describe(self) -> str:
        """The budget as compact JSON, stored beside every accuracy it produced."""
        fields = asdict(self)
        if fields["val_images"] is None:  # budgets from before validation splits keep their description (and keys)
            del fields["val_images"]
        return json.dumps(
            {k: v for k, v in fields.items() if k not in ("data_root", "download", "threads")}, sort_keys=True
        )
