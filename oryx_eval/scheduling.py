"""Which samples run together and in what order: media groups, rank assignment, media prefetch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from oryx_eval.records import LoadedMedia, Sample


@dataclass
class Group:
    """Samples of one task that share media, in canonical order."""

    task: str
    samples: list[Sample]
    order: int


def schedule(task_samples: dict[str, list[Sample]], share_media: bool) -> list[Group]:
    """Groups of samples sharing their media (first-appearance order), or one sample per group."""
    groups: list[Group] = []
    for task, samples in task_samples.items():
        by_key: dict[str, Group] = {}
        for s in samples:
            key = s.media[0].key if (share_media and s.media) else f"sample:{s.id}"
            if key not in by_key:
                by_key[key] = Group(task=task, samples=[], order=len(groups))
                groups.append(by_key[key])
            by_key[key].samples.append(s)
    return groups


def pending_groups(
    groups: list[Group], done: set[tuple[str, str, str]], compressions: list[str]
) -> list[Group]:
    """Groups reduced to the samples with at least one setting not yet recorded (empty groups dropped)."""
    out = []
    for g in groups:
        ss = [s for s in g.samples if any((g.task, s.id, c) not in done for c in compressions)]
        if ss:
            out.append(Group(g.task, ss, g.order))
    return out


def assign(groups: list[Group], rank: int, world: int) -> list[Group]:
    """This rank's share of the *pending* groups (round robin), so any world size can resume any run."""
    return groups[rank::world]


class Prefetcher:
    """Decodes the media of upcoming groups in worker threads, a bounded window ahead of the backend.

    ``start`` submits the first window at once, so the first groups decode while the model loads.
    """

    def __init__(self, loader: Callable[[Group], list[LoadedMedia]], workers: int, window: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="oryx-media")
        self._load = loader
        self._window = max(0, window)
        self._pending: list[tuple[Group, Future]] = []
        self._rest: Iterator[Group] = iter(())

    def start(self, groups: list[Group]) -> None:
        """Begin decoding the first ``window`` groups in the background."""
        self._rest = iter(groups)
        if self._window == 0:
            return
        for g in self._rest:
            self._pending.append((g, self._pool.submit(self._load, g)))
            if len(self._pending) >= self._window:
                break

    def __iter__(self) -> Iterator[tuple[Group, Future]]:
        if self._window == 0:  # no lookahead: decode in the caller's thread, right before use
            for g in self._rest:
                fut: Future = Future()
                try:
                    fut.set_result(self._load(g))
                except Exception as e:  # noqa: BLE001 - delivered to the caller through the future
                    fut.set_exception(e)
                yield g, fut
            return
        while self._pending:
            g, fut = self._pending.pop(0)
            nxt = next(self._rest, None)
            if nxt is not None:
                self._pending.append((nxt, self._pool.submit(self._load, nxt)))
            yield g, fut

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
