"""A demo's waits say what they wait for and how long is left (issue 31 item 8): `lfr demo --by-hand` sat silent
for up to 15 minutes while it waited for an approval or the officer's decisions. Driven by a scripted clock."""

from __future__ import annotations

import pytest

from lfr_ops.demo.ui import DemoStopped, wait


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.now += s


def test_a_long_wait_reports_what_it_waits_for_and_the_time_left_every_ten_seconds():
    clock, said = Clock(), []
    answers = iter([{"state": "built"}] * 24 + [{"state": "approved"}])
    got = wait(lambda: next(answers), lambda s: s["state"] == "approved", 900, "the approval", 1.0,
               report=said.append, detail=lambda s: f"the list is {s['state']}", clock=clock, sleep=clock.sleep)
    assert got == {"state": "approved"}
    assert said == ["waiting for the approval: 10 s so far, 14 min 50 s left (the list is built)",
                    "waiting for the approval: 20 s so far, 14 min 40 s left (the list is built)"]


def test_a_short_wait_says_nothing_and_a_stop_still_ends_it_at_once():
    clock, said = Clock(), []
    assert wait(lambda: 1, bool, 60, "x", report=said.append, clock=clock, sleep=clock.sleep) == 1 and said == []
    with pytest.raises(DemoStopped, match="stopped waiting for activation: lapsed"):
        wait(lambda: None, bool, 60, "activation", stop=lambda _: "lapsed", report=said.append, clock=clock,
             sleep=clock.sleep)


def test_a_wait_that_runs_out_says_so():
    clock, said = Clock(), []
    with pytest.raises(TimeoutError, match="timed out after 30s waiting for your decisions"):
        wait(lambda: [1], lambda p: not p, 30, "your decisions", 2.0, report=said.append,
             detail=lambda p: f"{len(p)} alert(s) awaiting a decision", clock=clock, sleep=clock.sleep)
    assert said == ["waiting for your decisions: 10 s so far, 20 s left (1 alert(s) awaiting a decision)",
                    "waiting for your decisions: 20 s so far, 10 s left (1 alert(s) awaiting a decision)"]


def test_a_poll_the_server_does_not_answer_in_time_is_a_poll_that_found_nothing_yet():
    import httpx

    clock, polls = Clock(), iter([httpx.ReadTimeout("slow"), {"state": "built"}, httpx.ReadTimeout("slow"),
                                  {"state": "approved"}])

    def fetch():
        answer = next(polls)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert wait(fetch, lambda s: s["state"] == "approved", 60, "the approval", clock=clock, sleep=clock.sleep) == {
        "state": "approved"}
    with pytest.raises(TimeoutError, match=r"waiting for the approval \(last: no answer in time \(ReadTimeout\)\)"):
        wait(lambda: (_ for _ in ()).throw(httpx.ReadTimeout("slow")), bool, 5, "the approval", clock=clock,
             sleep=clock.sleep)
