"""The step loops: how a stage drives its optimizer, step by step, through the session.

`first_order`: one loss and gradient per step on the next mini-batch, then `optimizer.step()`.
`closure`: for optimizers that evaluate the loss themselves (L-BFGS): all the points, in
chunks of iterations up to the next log point; the stage says how to count and limit its
iterations and how to restart it (`iterations`, `limit`, `restart`).
"""

from __future__ import annotations

import torch


class NonFiniteTrial(RuntimeError):
    """A closure stage's evaluation gave a NaN or Inf loss: the step is abandoned (its line
    search would otherwise go on evaluating NaN trial points) and the run recovers."""


def first_order(stage, index, optimizer, scheduler, loss_terms, run, done: int) -> None:
    per_step = scheduler is not None and not stage.decay.on_log
    for k in range(done, stage.steps):
        batch = run.sampler.next()
        optimizer.zero_grad(set_to_none=True)
        terms = loss_terms(batch, run.step, adapt=True)
        loss = sum(terms.values())
        loss.backward()
        terms, loss = run.reduce(terms, loss, optimizer)  # over the processes, if several
        run.guard.check(loss, optimizer, run.step + 1)
        lr = optimizer.param_groups[0]["lr"]
        optimizer.step()
        if per_step:
            scheduler.step()
        run.step, run.stage_step = run.step + 1, k + 1
        run.track(terms)
        last = run.callback(stage, index, lr, loss) or k == stage.steps - 1
        if (run.step % run.log_every == 0 or last) and not run.log(
            stage, index, lr, terms, optimizer, scheduler
        ):
            return
        run.save(index, optimizer, scheduler)


def closure(stage, index, optimizer, scheduler, loss_terms, run, done: int) -> None:
    """Run the stage on all the points in chunks of `log_every` iterations (its state carries
    across chunks; a recovery from a non-finite step restarts it)."""
    batch, last = run.sampler.full(), {}

    def evaluate():  # many per step: the line search's trials
        step = run.step + max(1, stage.iterations(optimizer) - before)  # the one in progress
        optimizer.zero_grad(set_to_none=True)
        terms = loss_terms(batch, step)
        total = sum(terms.values())
        total.backward()
        terms, total = run.reduce(terms, total, optimizer)  # the same on every process
        last.update(terms)
        if stage.rejects_nonfinite:  # its line search steps back from a NaN trial itself
            return total
        run.guard.check(total, optimizer, step)
        if not torch.isfinite(total):  # a sync, but the line search reads every loss anyway
            raise NonFiniteTrial
        return total

    per_step = scheduler is not None and not stage.decay.on_log
    while done < stage.steps:
        chunk = min(run.log_every - run.step % run.log_every, stage.steps - done)
        stage.limit(optimizer, chunk)
        before, lr = stage.iterations(optimizer), optimizer.param_groups[0]["lr"]
        try:
            loss = optimizer.step(evaluate)
        except RuntimeError:  # a NaN trial, or torch's own failure on one: recover from it
            if not run.guard.first_bad():
                raise
            loss = sum(last.values())
        failed = run.guard.first_bad()  # a sync, but the line search syncs at every evaluation
        taken = stage.iterations(optimizer) - before
        done += taken
        run.step, run.stage_step = run.step + taken, done
        run.sampler.count_full(taken)
        for _ in range(taken if per_step else 0):
            scheduler.step()
        run.callback(stage, index, lr, loss)
        if not run.log(stage, index, lr, last, optimizer, scheduler):
            return
        ended = taken < chunk and not failed  # stopped short: no descent, or out of evaluations
        if ended and (taken > 1 or stage.iterations(optimizer) > taken):  # from a built-up
            stage.restart(optimizer)  # memory (round-off in its pairs): start from the gradient
            info = run.result.info
            info["lbfgs_restarts"], ended = info.get("lbfgs_restarts", 0) + 1, False
        run.save(index, optimizer, scheduler)
        if ended:  # even the gradient itself gave no decrease
            run.result.info.setdefault("notes", []).append(
                f"{stage.name} stage ended after {done} of {stage.steps} iterations: "
                "no descent direction left"
            )
            return
