"""Watching a run: a tqdm bar per stage on a terminal, a plain line every N steps elsewhere,
and TensorBoard scalars.

All read only what the trainer already read back from the device (its history records), so
watching a run adds no host sync to the step loop. Each is a pair of `on_step` /
`on_stage_end` callbacks of `pinn.train`, and `close()` when the run ends.
"""

from __future__ import annotations

import sys

from .errors import BadValue


def _summary(record: dict) -> dict:
    """The loss, error and LR of a history record, formatted."""
    keys = ("loss", "error", "val_loss", "lr")
    return {k: f"{record[k]:.3e}" if k != "lr" else f"{record[k]:.2e}" for k in keys if k in record}


class Progress:
    """`on_step` / `on_stage_end` callbacks of `pinn.train` that show the run's progress.

    Args:
        stages: the run's stages (their names and step counts size the bars).
        every: steps between plain lines (default: one line per history record).
        stream: where to write (default: stderr); a terminal gets tqdm bars.
    """

    def __init__(self, stages, every: int | None = None, stream=None):
        self.stages, self.every = list(stages), every
        self.stream = stream if stream is not None else sys.stderr
        self.bar, self.shown, self.printed = None, None, None

    def on_step(self, info: dict) -> None:
        record = _new_record(info["history"], self.shown)
        if record is not None:
            self.shown = record["step"]
        if self.stream.isatty():
            self._bar(info, record)
        elif record is not None and (
            self.printed is None
            or self.every is None
            or record["step"] - self.printed >= self.every
        ):
            self._line(record)

    def on_stage_end(self, index, stage, result) -> None:
        last = result.history[-1] if result.history else None
        if self.bar is not None:
            if last is not None:
                self.bar.set_postfix(_summary(last), refresh=False)
            self.close()
        elif last is not None and last["step"] != self.printed:
            self._line(last)
        self.shown = last["step"] if last is not None else None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _bar(self, info, record) -> None:
        from tqdm import tqdm

        index = info["stage_index"]
        if self.bar is None:
            self.bar = tqdm(
                total=self.stages[index].steps,
                desc=f"{index + 1}/{len(self.stages)} {self.stages[index].name}",
                file=self.stream,
                unit="step",
                dynamic_ncols=True,
            )
        self.bar.update(info["stage_step"] - self.bar.n)
        if record is not None:
            self.bar.set_postfix(_summary(record), refresh=False)

    def _line(self, record) -> None:
        index = record["stage_index"]
        values = "  ".join(f"{k} {v}" for k, v in _summary(record).items())
        print(
            f"[{index + 1}/{len(self.stages)} {self.stages[index].name}] step {record['step']}"
            f"  {values}  ({record['time']:.1f} s)",
            file=self.stream,
            flush=True,
        )
        self.printed = record["step"]


def _new_record(history: list[dict], shown: int | None) -> dict | None:
    """The last history record if it is newer than step `shown` (the trainer appends a record
    right after the `on_step` of its step, so a record shows at the next step)."""
    if history and (shown is None or history[-1]["step"] > shown):
        return history[-1]
    return None


class TensorBoard:
    """Every number of each history record as a TensorBoard scalar, in `log_dir`."""

    def __init__(self, log_dir):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise BadValue(
                "--tensorboard needs the tensorboard package: pip install 'pinn[tensorboard]'"
            ) from None
        self.writer = SummaryWriter(str(log_dir))

        self.shown = None

    def on_step(self, info: dict) -> None:
        record = _new_record(info["history"], self.shown)
        if record is not None:
            self._write(record)

    def on_stage_end(self, index, stage, result) -> None:
        record = _new_record(result.history, self.shown)
        if record is not None:
            self._write(record)
        self.writer.flush()

    def _write(self, record: dict) -> None:
        for key, value in record.items():
            if key not in ("step", "stage_index") and isinstance(value, (int, float)):
                self.writer.add_scalar(key, value, record["step"])
        self.shown = record["step"]

    def close(self) -> None:
        self.writer.close()
