"""The history part: one record per log point, the mean of the mini-batch losses between two
records, and the printed progress line."""

from __future__ import annotations

import torch


class History:
    """The records of a run (the list `result.history`), and the running sums of the loss
    terms over the mini-batch steps since the last record."""

    def __init__(self, records: list, verbose: bool):
        self.records, self.verbose = records, verbose
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0
        self.lowest = min((r["loss"] for r in records), default=float("inf"))

    def accumulate(self, terms: dict[str, torch.Tensor]) -> None:
        """Add a mini-batch step's loss terms to the running sums (device operations only)."""
        self.sums = {k: self.sums.get(k, 0) + v.detach() for k, v in terms.items()}
        self.count += 1

    def mean(self, terms: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The mean of the accumulated terms since the last record (and a fresh sum), or
        `terms` as they are when nothing was accumulated (full batch)."""
        if not self.count:
            return terms
        mean = {k: v / self.count for k, v in self.sums.items()}
        self.sums, self.count = {}, 0
        return mean

    def append(self, record: dict) -> None:
        self.records.append(record)
        self.lowest = min(self.lowest, record["loss"])
        if self.verbose:
            extra = "".join(f"  {k} {record[k]:.3e}" for k in ("error", "val_loss") if k in record)
            print(
                f"[{record['stage']}] step {record['step']:6d}  epoch {record['epoch']:5d}  "
                f"loss {record['loss']:.3e}{extra}  lr {record['lr']:.2e}",
                flush=True,
            )

    def state_dict(self) -> dict:
        return {"records": self.records, "sums": self.sums, "count": self.count}

    def load_state_dict(self, state: dict, device) -> None:
        self.records[:] = state["records"]
        self.lowest = min((r["loss"] for r in self.records), default=float("inf"))
        self.sums = {k: v.to(device) for k, v in state["sums"].items()}
        self.count = state["count"]
