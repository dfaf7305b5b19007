"""Frames of one camera take their turn at its tracks in the order they arrived.

A camera may have several frames in progress (one detecting while the one before it is embedded), but the
tracker must see them one at a time, in capture order: a frame that overtook its predecessor would match
against tracks that frame has not updated yet (a settled track's embedding could not be reused, so it is
embedded again) and move the tracks' clock backwards. Detection runs side by side; the rest waits its turn.
Only cameras with a frame in progress hold an entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable


class Turn:
    def __init__(self, turns: CameraTurns, key: Hashable, before: asyncio.Future | None, mine: asyncio.Future) -> None:
        self._turns, self._key, self._before, self._mine = turns, key, before, mine

    async def wait(self) -> None:
        """Until every earlier frame of the camera has finished (or failed)."""
        if self._before is not None:
            await asyncio.shield(self._before)  # a cancelled waiter must not cancel the frame before it

    def done(self) -> None:
        """This frame is finished. Its turn ends when the frames before it have ended too: a frame that failed
        early (its detection timed out) must not let a later frame past one still at the tracks."""
        if self._before is None or self._before.done():
            self._end()
        else:
            self._before.add_done_callback(lambda _: self._end())

    def _end(self) -> None:
        if not self._mine.done():
            self._mine.set_result(None)
        if self._turns.last.get(self._key) is self._mine:
            del self._turns.last[self._key]


class CameraTurns:
    def __init__(self) -> None:
        self.last: dict[Hashable, asyncio.Future] = {}  # per camera, the future its newest frame sets when done

    def take(self, key: Hashable) -> Turn:
        """A frame's place in its camera's queue; take it when the frame arrives, call `done` in a finally."""
        before = self.last.get(key)
        mine = asyncio.get_running_loop().create_future()
        self.last[key] = mine
        return Turn(self, key, before, mine)

    def __len__(self) -> int:
        return len(self.last)
