"""Proxy-task training from scratch: one model, one budget, one seed -> top-1 / top-5.

The loop is deliberately plain: a fixed budget (``TrainBudget``), timm's optimizer factory
(no weight decay on biases and norms), a per-step cosine schedule with linear warm-up,
label smoothing, random-crop + flip augmentation done on whole batches of in-memory
tensors, channels_last, bf16 autocast on CUDA. A checkpoint is written atomically after
every epoch and a finished run leaves ``result.json``, so a killed run resumes at the last
epoch and a repeated one returns at once.

Multi-process: launched under ``torchrun`` (``bench.accuracy.distributed``), every process
takes its share of each global batch, DistributedDataParallel averages the gradients (gloo
on CPU, nccl on GPU) and evaluation counts are summed; the global batch and the schedule
are those of a single process, so results agree within seed noise.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench.accuracy.data import ImageTensors, load_dataset
from bench.accuracy.distributed import DistContext
from bench.accuracy.fastconv import use_fast_depthwise, use_fast_matmul_convs
from bench.accuracy.run_state import BrokenRunError, TrainResult, finished_result, move_aside, read_checkpoint
from bench.errors import InputError
from bench.measure.environment import now
from bench.models.registry import build_model
from bench.specs import ModelSpec, TrainBudget

FUSED_OPTIMIZERS = ("sgd", "adamw")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _normalize(images: torch.Tensor, data: ImageTensors, channels_last: bool) -> torch.Tensor:
    mean = torch.tensor(data.mean, device=images.device).view(1, -1, 1, 1)
    std = torch.tensor(data.std, device=images.device).view(1, -1, 1, 1)
    x = (images.float().div_(255) - mean) / std
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random crop after zero-padding by size/8, and random horizontal flip, per image."""
    batch, _, size, _ = images.shape
    pad = max(1, size // 8)
    padded = F.pad(images, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (batch,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (batch,), generator=generator)
    rows = (dy[:, None] + torch.arange(size))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(size))[:, None, None, :]
    cropped = padded[
        torch.arange(batch)[:, None, None, None], torch.arange(images.shape[1])[None, :, None, None], rows, cols
    ]
    flip = torch.rand(batch, generator=generator) < 0.5
    cropped[flip] = cropped[flip].flip(-1)
    return cropped


def _schedule(budget: TrainBudget, steps_per_epoch: int) -> Callable[[int], float]:
    total = budget.epochs * steps_per_epoch
    warmup = int(budget.warmup_epochs * steps_per_epoch)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    return factor


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: ImageTensors,
    budget: TrainBudget,
    device: torch.device,
    dist: DistContext,
    batch_size: int = 500,
) -> tuple[float, float | None]:
    """Top-1 and top-5 (percent) on ``data``; each process takes a share, counts are summed."""
    model.eval()
    correct1 = correct5 = 0
    indices = torch.arange(len(data.labels))[dist.rank :: dist.world_size]
    for start in range(0, len(indices), batch_size):
        index = indices[start : start + batch_size]
        x = _normalize(data.images[index].to(device), data, budget.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(x)
        top = logits.float().topk(min(5, data.num_classes), dim=1).indices.cpu()
        labels = data.labels[index]
        correct1 += (top[:, 0] == labels).sum().item()
        correct5 += (top == labels[:, None]).any(dim=1).sum().item()
    counts = dist.sum([correct1, correct5])
    total = len(data.labels)
    return 100.0 * counts[0] / total, (100.0 * counts[1] / total if data.num_classes >= 5 else None)


def _load_split(budget: TrainBudget, split: str, size: int, cache: dict | None) -> ImageTensors:
    """``train``, ``val`` or ``test`` at ``size`` px. ``val`` is ``budget.val_images`` held out of the dataset's
    training split (fixed and stratified by class, ``ImageTensors.held_out``) and ``train`` the rest; subsets
    are fixed by seed 0, so every model and seed sees the same images."""
    key = (budget.dataset, budget.data_root, split, size, budget.train_images, budget.val_images, budget.test_images)
    if cache is not None and key in cache:
        return cache[key]
    root = Path(budget.data_root) if budget.data_root else None
    data = load_dataset(
        budget.dataset, "test" if split == "test" else "train", root=root, size=size, download=budget.download
    )
    if split == "test":
        data = data.subset(budget.test_images, seed=0)
    else:
        if budget.val_images:
            rest, val = data.held_out(budget.val_images, seed=0)
            data = val if split == "val" else rest
        elif split == "val":
            raise InputError("this budget has no validation split (val_images)")
        if split == "train":
            data = data.subset(budget.train_images, seed=0)
    data = data.resized(size)
    if cache is not None:
        cache[key] = data
    return data


def _save(path: Path, payload: dict) -> None:
    from bench.store.atomic import atomic_write

    atomic_write(path, lambda tmp: torch.save(payload, tmp))


def train_model(
    spec: ModelSpec,
    budget: TrainBudget,
    seed: int,
    *,
    checkpoint_dir: Path | None = None,
    dist: DistContext | None = None,
    data_cache: dict | None = None,
    progress: bool = False,
    concurrent: int = 1,
    log_epochs: bool = False,
    restart_broken: bool = False,
) -> TrainResult:
    """Train ``spec`` from scratch on the proxy task; resume from ``checkpoint_dir`` if a run was cut off.
    ``concurrent`` (how many runs share the machine) is recorded, not acted on. ``progress`` shows a bar
    per epoch on a terminal; ``log_epochs`` prints one plain line per finished epoch (loss, images/s,
    time left), which also reads well in a log file. A broken checkpoint or result (unreadable, or
    not fitting the model) is a BrokenRunError naming the file; with ``restart_broken`` the run folder
    is moved aside instead and the run starts afresh."""
    dist = dist or DistContext()
    device = torch.device(budget.device, dist.local_rank) if budget.device == "cuda" else torch.device("cpu")

    def attempt() -> TrainResult:
        finished = finished_result(checkpoint_dir)
        if finished is not None:
            return finished
        run = _Run(spec, budget, seed, device, dist, checkpoint_dir, progress, log_epochs and dist.is_main)
        return run.train(data_cache, concurrent)

    threads = torch.get_num_threads()
    if budget.threads:
        torch.set_num_threads(budget.threads)
    try:
        try:
            return attempt()
        except BrokenRunError:
            if not restart_broken or checkpoint_dir is None:
                raise
        moved = move_aside(checkpoint_dir)
        say(f"{spec.name} seed {seed}: broken run moved aside to {moved}; training it again")
        return attempt()
    finally:
        torch.set_num_threads(threads)


def say(line: str) -> None:
    """A line on stdout that stays whole while progress bars are shown on a terminal: tqdm clears its bars, the
    line is written, the bars are drawn again below it. A plain print landed where the bars had left the
    cursor: a resumed run's epoch line came out glued to a bar's cursor-up code (``\\x1b[A``), over the bar.
    Off a terminal there are no bars, and this is a plain print."""
    from tqdm import tqdm

    tqdm.write(line, file=sys.stdout)
    sys.stdout.flush()


def classifier_of(model: nn.Module) -> nn.Module | None:
    """The classification head: timm's ``get_classifier()``, else (a user's own network) its last Linear."""
    if callable(getattr(model, "get_classifier", None)):
        return model.get_classifier()  # type: ignore[operator]  # timm models have it; nn.Module does not say so
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return linears[-1] if linears else None


def prepare(spec: ModelSpec, budget: TrainBudget, seed: int, device: torch.device, example: torch.Tensor):
    """The model (initialised from ``seed``, channels_last / fast depthwise per budget) and its optimizer."""
    seed_everything(seed)
    model = build_model(spec, drop_rate=budget.dropout, drop_path_rate=budget.drop_path).to(device)
    classifier = classifier_of(model)
    if budget.zero_init_head and isinstance(classifier, nn.Linear):
        # timm's EfficientNet/MobileNet head init scales with 1/sqrt(num_classes): tuned for 1000
        # classes, it starts a 10-class head with logits ~10x too large (initial loss ~4 > ln 10).
        nn.init.zeros_(classifier.weight)
        nn.init.zeros_(classifier.bias)
    if budget.zero_init_residual:
        zero_init_residual_branches(model)
    if budget.channels_last:
        model = model.to(memory_format=torch.channels_last)
    if budget.fast_depthwise and device.type == "cpu":
        use_fast_depthwise(model, example.to(device))
    if budget.fast_matmul_convs and device.type == "cpu":
        use_fast_matmul_convs(model)
    from timm.optim import create_optimizer_v2

    # torch's fused AdamW / SGD: one kernel over all parameters, 3.4x faster than the foreach default on
    # one CPU core for ResNet-18's 11M parameters (16 against 54 ms a step); the same update up to rounding.
    fused: dict[str, Any] = {"fused": True} if budget.optimizer in FUSED_OPTIMIZERS else {}
    optimizer = create_optimizer_v2(
        model, opt=budget.optimizer, lr=budget.lr, weight_decay=budget.weight_decay, momentum=budget.momentum, **fused
    )
    return model.train(), optimizer


def zero_init_residual_branches(model: nn.Module) -> int:
    """Zero the last norm layer's scale in every residual block, so each block starts as the identity.

    timm does this for ResNet (``zero_init_last``) but not for EfficientNet/MobileNetV2 blocks, whose
    residual branches then add variance with every block: a depth-scaled B0 trains far more slowly
    in a short budget than the same network started at the identity. Returns the blocks changed.
    """
    changed = 0
    for block in model.modules():
        if not getattr(block, "has_skip", False):
            continue
        norms = [m for m in block.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if norms and norms[-1].weight is not None:
            nn.init.zeros_(norms[-1].weight)
            changed += 1
    return changed


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler,
    loss_fn: nn.Module,
    x: torch.Tensor,
    labels: torch.Tensor,
) -> float:
    """One optimisation step (bf16 autocast on CUDA); returns the loss."""
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=x.device.type == "cuda"):
        loss = loss_fn(model(x), labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return loss.item()


@dataclass
class _Run:
    """One training run in progress: where it trains, what it has done, and how it reports."""

    spec: ModelSpec
    budget: TrainBudget
    seed: int
    device: torch.device
    dist: DistContext
    checkpoint_dir: Path | None
    progress: bool
    log_epochs: bool
    history: list[dict] = field(default_factory=list)
    train_seconds: float = 0.0
    images_seen: int = 0

    def train(self, data_cache: dict | None, concurrent: int) -> TrainResult:
        spec, budget = self.spec, self.budget
        train = _load_split(budget, "train", spec.input_size, data_cache)
        test = _load_split(budget, "test", spec.input_size, data_cache)
        val = _load_split(budget, "val", spec.input_size, data_cache) if budget.val_images else None
        if (train.in_chans, train.num_classes) != (spec.in_chans, spec.num_classes):
            raise InputError(
                f"{spec.name} is built for {spec.in_chans} channels / {spec.num_classes} classes; "
                f"{budget.dataset} has {train.in_chans} / {train.num_classes}"
            )
        model, optimizer = prepare(spec, budget, self.seed, self.device, _normalize(train.images[:2], train, False))
        steps = len(train.labels) // budget.batch_size
        if steps == 0:
            raise InputError(f"batch size {budget.batch_size} exceeds the {len(train.labels)} training images")
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _schedule(budget, steps))
        start = self.resume(model, optimizer, scheduler)
        runner = self.dist.wrap(model, self.device)
        loss_fn = nn.CrossEntropyLoss(label_smoothing=budget.label_smoothing)
        for epoch in range(start, budget.epochs):
            loss = self.epoch(epoch, runner, optimizer, scheduler, loss_fn, train, steps)
            last = epoch + 1 == budget.epochs
            entry: dict[str, Any] = {"epoch": epoch + 1, "train_loss": loss}
            if val is not None and (budget.eval_every_epoch or last):
                entry["val_top1"], entry["val_top5"] = evaluate(model, val, budget, self.device, self.dist)
            scored = last or (budget.eval_every_epoch and val is None)  # the test split: once, at the end
            entry["top1"], entry["top5"] = (
                evaluate(model, test, budget, self.device, self.dist) if scored else (None, None)
            )
            self.history.append(entry)
            self.checkpoint(epoch, model, optimizer, scheduler)
            self.log(epoch, loss, entry.get("val_top1", entry["top1"]), "validation" if val is not None else "test")
        return self.finish(concurrent)

    @property
    def last(self) -> Path | None:
        return self.checkpoint_dir / "last.pt" if self.checkpoint_dir else None

    def resume(self, model: nn.Module, optimizer, scheduler) -> int:
        """Load the last epoch's checkpoint if there is one; the next epoch to train."""
        if self.last is None or not self.last.exists():
            return 0
        state = read_checkpoint(self.last, self.device)
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
        except (RuntimeError, ValueError, KeyError) as error:
            first = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
            raise BrokenRunError(
                f"{self.last}: checkpoint does not fit {self.spec.name} ({first}); "
                "rerun with --restart-broken to move this run aside and train it again"
            ) from None
        torch.set_rng_state(state["rng"])  # dropout draws continue as if the run had not stopped
        self.history = json.loads(state["history"])
        self.train_seconds, self.images_seen = state["train_seconds"], state["images_seen"]
        return state["epoch"] + 1

    def epoch(
        self, epoch: int, runner: nn.Module, optimizer, scheduler, loss_fn: nn.Module, train: ImageTensors, steps: int
    ) -> float:
        """Train one epoch (its order and augmentation fixed by seed and epoch); the mean loss."""
        from tqdm import tqdm

        budget, dist = self.budget, self.dist
        order = torch.randperm(len(train.labels), generator=torch.Generator().manual_seed(self.seed * 1009 + epoch))
        augment_rng = torch.Generator().manual_seed((self.seed * 1009 + epoch) * 31 + dist.rank)
        runner.train()
        began, loss_sum = time.perf_counter(), 0.0
        bar = tqdm(
            range(steps),
            desc=f"{self.spec.name} s{self.seed} e{epoch + 1}/{budget.epochs}",
            leave=False,
            disable=None if (self.progress and dist.is_main) else True,
        )
        for step in bar:
            index = order[step * budget.batch_size : (step + 1) * budget.batch_size][dist.rank :: dist.world_size]
            images = augment(train.images[index], augment_rng) if budget.augment else train.images[index]
            x = _normalize(images.to(self.device), train, budget.channels_last)
            loss_sum += train_step(runner, optimizer, scheduler, loss_fn, x, train.labels[index].to(self.device))
        self.train_seconds += time.perf_counter() - began
        self.images_seen += steps * budget.batch_size
        return loss_sum / steps

    def checkpoint(self, epoch: int, model: nn.Module, optimizer, scheduler) -> None:
        if self.last is not None and self.dist.is_main:
            _save(
                self.last,
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "epoch": epoch,
                    "history": json.dumps(self.history),
                    "train_seconds": self.train_seconds,
                    "images_seen": self.images_seen,
                    "rng": torch.get_rng_state(),
                },
            )
        self.dist.barrier()

    def log(self, epoch: int, loss: float, top1: float | None, split: str) -> None:
        if not self.log_epochs:
            return
        rate = self.images_seen / self.train_seconds if self.train_seconds else 0.0
        left = (self.budget.epochs - epoch - 1) * self.train_seconds / (epoch + 1)  # resumed epochs count too
        scored = "" if top1 is None else f", {split} top-1 {top1:.2f}%"
        say(
            f"{self.spec.name} seed {self.seed}: epoch {epoch + 1}/{self.budget.epochs}, loss {loss:.3f}, "
            f"{rate:.0f} images/s, {left / 60:.1f} min left{scored}"
        )

    def finish(self, concurrent: int) -> TrainResult:
        final = self.history[-1]
        result = TrainResult(
            final["top1"],
            final["top5"],
            final["train_loss"],
            self.budget.epochs,
            self.train_seconds,
            self.images_seen / self.train_seconds if self.train_seconds else 0.0,
            self.history,
            torch.get_num_threads(),
            concurrent,
            now(),
            self.dist.world_size,
            final.get("val_top1"),
            final.get("val_top5"),
        )
        if self.checkpoint_dir is not None and self.dist.is_main:
            from bench.store.atomic import atomic_write

            atomic_write(self.checkpoint_dir / "result.json", lambda tmp: tmp.write_text(json.dumps(asdict(result))))
        return result
