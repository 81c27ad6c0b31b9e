"""Progress for long runs: a tqdm bar (the notebook or the terminal form, chosen by
``tqdm.auto``) that appears only once a run has taken more than a second."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional, Union

Progress = Callable[[int, int], Any]
ProgressOption = Union[bool, None, Progress]

#: Seconds a run must take before its bar appears.
DELAY = 1.0


@contextmanager
def reporter(progress: ProgressOption, desc: str) -> Iterator[Optional[Progress]]:
    """The callback for the core (``callback(done, total)`` in batches): the user's own when
    ``progress`` is callable, a delayed tqdm bar when it is True, none when False or None."""
    if progress is None or progress is False:
        yield None
        return
    if progress is not True:
        if not callable(progress):
            from .exceptions import ValidationError

            raise ValidationError(f"progress: {progress!r} is not True, False or a callable")
        yield progress
        return
    import importlib.util

    # The notebook bar needs ipywidgets; without it tqdm.auto warns, so use the text bar.
    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm  # type: ignore[assignment]

    tqdm.monitor_interval = 0  # no monitor thread left behind
    bars: list[Any] = []

    def update(done: int, total: int) -> None:
        # A new bar for each pass (a risk-assessed minimum takes two); update() respects the
        # delay, so a short run never shows one.
        if not bars or bars[-1].total != total or done < bars[-1].n:
            if bars:
                bars[-1].close()
            bars.append(tqdm(total=total, unit="batch", desc=desc, delay=DELAY, leave=False))
        bars[-1].update(done - bars[-1].n)

    try:
        yield update
    finally:
        for bar in bars:
            bar.close()
