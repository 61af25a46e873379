"""The menu as data: the shipped menu is valid; a malformed one is refused with the node named;
the walk ends in a queue, a hand-off or a goodbye whatever the caller presses."""

from __future__ import annotations

import asyncio
import copy

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.center import EXAMPLE, Handoffs, load
from ivr import flow
from ivr.menu import DEFAULT, MenuError, parse
from ivr.menu import load as load_menu
from tests.support.examples import examples

CENTER = load(EXAMPLE)
MENU = load_menu(DEFAULT, CENTER)
RAW = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))


class FakeChannel:
    """Keys the caller will press, one per prompt or wait; "" = no key. With `type_ahead`,
    a key interrupts the first interruptible prompt instead of waiting for the menu."""

    def __init__(self, keys: list[str], type_ahead: bool = False) -> None:
        self.keys = list(keys)
        self.played: list[str] = []
        self.progress_paths: list[str] = []
        self.type_ahead = type_ahead

    async def play(self, prompt: str, keys: str = "") -> str:
        self.played.append(prompt)
        if self.type_ahead and keys and self.keys and self.keys[0]:
            return self.keys.pop(0)
        return ""

    async def wait_digit(self, timeout_s: float) -> str:
        return self.keys.pop(0) if self.keys else ""

    async def play_text(self, text: str, keys: str = "") -> str:
        self.played.append(f"text:{text}")
        return ""

    async def progress(self, result: flow.Result) -> None:
        self.progress_paths.append(result.path_text)


def walk(keys: list[str], broadcast: str | None = None,
         handoffs: Handoffs = CENTER.handoffs, type_ahead: bool = False
         ) -> tuple[flow.Result, FakeChannel]:
    ch = FakeChannel(keys, type_ahead)
    return asyncio.run(flow.walk(MENU, ch, handoffs, broadcast, CENTER.default_queue)), ch


@pytest.mark.parametrize(("keys", "status", "queue", "handoff"), [
    (["1", "2"], "queue", "highway", ""),
    (["1", "1"], "queue", "highway", ""),          # road conditions read out, then a seat
    (["2"], "queue", "urban", ""),
    (["3"], "queue", "road", ""),
    (["4", "1"], "queue", "waterway", ""),
    (["5"], "queue", "complaint", ""),
    (["6"], "queue", "suggestion", ""),
    (["0"], "queue", "manual", ""),
    (["9", "0"], "queue", "manual", ""),           # repeat, then a seat
    (["7", "1", "1"], "handoff", "", "12306"),
    (["7", "2", "1"], "handoff", "", "12326"),
    (["7", "3", "1"], "handoff", "", "12305"),
    (["1", "8", "1"], "handoff", "", "12122"),
    (["4", "8", "1"], "handoff", "", "12395"),
    (["7", "1", "5", "0"], "queue", "manual", ""),  # declines the transfer: back to the menu
    ([], "queue", "manual", ""),                    # no key at all: replays, then a seat
    (["8", "8", "8"], "queue", "manual", ""),       # wrong keys: replays, then a seat
])
def test_each_branch(keys, status, queue, handoff) -> None:
    result, _ = walk(keys)
    assert (result.status, result.queue, result.handoff) == (status, queue, handoff)


def test_a_key_pressed_during_the_welcome_goes_to_the_main_menu() -> None:
    result, ch = walk(["1", "2"], type_ahead=True)
    assert (result.status, result.queue, result.path_text) == ("queue", "highway", "1>2")
    assert "main_menu" not in ch.played  # the caller did not have to hear it
    result, ch = walk(["1", "2"], broadcast="雪", type_ahead=True)
    assert result.heard_broadcast  # the broadcast is heard whole; the early key is dropped


def test_rescue_and_distress_numbers_come_first_in_their_branch() -> None:
    _, ch = walk(["1", "2"])
    assert ch.played.index("highway_rescue") < ch.played.index("highway_menu")
    _, ch = walk(["4", "1"])
    assert ch.played.index("water_distress") < ch.played.index("waterway_menu")


def test_path_and_broadcast_are_reported() -> None:
    result, ch = walk(["9", "1", "2"], broadcast="大雪，部分高速封闭")
    assert result.path_text == "9>1>2"
    assert result.heard_broadcast and ch.played[1] == "text:大雪，部分高速封闭"
    result, ch = walk(["8", "", "0"])
    assert result.path_text == "8>->0"
    assert ch.progress_paths == ["8", "8>-", "8>->0"]  # reported as it goes


def test_no_transfer_offered_when_transfers_are_off() -> None:
    off = Handoffs(transfer_enabled=False)
    result, ch = walk(["7", "1"], handoffs=off)
    assert result.status == "hangup" and "offer_transfer" not in ch.played
    assert "handoff_rail" in ch.played


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.sampled_from(list("0123456789*#") + [""]), max_size=40))
def test_garbage_keys_never_leave_a_caller_stuck(keys) -> None:
    result, _ = walk(keys)
    assert result.status in ("queue", "handoff", "hangup")
    if result.status == "queue":
        assert result.queue in {q.name for q in CENTER.queues}


@pytest.mark.parametrize(("change", "where"), [
    (lambda m: m["nodes"]["main"]["options"].update({"7": "nowhere"}), "nodes.main.options.7"),
    (lambda m: m["nodes"]["urban"].update({"queue": "trains"}), "nodes.urban.queue"),
    (lambda m: m["nodes"]["welcome"].update({"prompt": "missing"}), "nodes.welcome.prompt"),
    (lambda m: m["nodes"]["welcome"].update({"kind": "dance"}), "nodes.welcome.kind"),
    (lambda m: m["nodes"]["main"]["options"].update({"x": "seat"}), "nodes.main.options.x"),
    (lambda m: m["nodes"]["rail"].update({"hotline": "airline"}), "nodes.rail.hotline"),
    (lambda m: m["nodes"]["welcome"].update({"next": "welcome"}), "nodes.welcome"),
    (lambda m: m.update({"start": "nope"}), "start"),
    (lambda m: m["prompts"].pop("survey"), "prompts.survey"),
])
def test_a_malformed_menu_names_the_node(change, where) -> None:
    data = copy.deepcopy(RAW)
    change(data)
    with pytest.raises(MenuError) as err:
        parse(data, CENTER)
    assert str(err.value).startswith(where + ":"), str(err.value)


def test_survey_answers_and_not_rated() -> None:
    for key, score in (("1", 1), ("2", 2), ("3", 3), ("4", 4), ("", None), ("9", None)):
        assert asyncio.run(flow.survey(FakeChannel([key, key]))) == score


def test_an_info_node_reads_a_knowledge_entry_marked_for_the_ivr(tmp_path) -> None:
    from datetime import date, timedelta

    from sqlalchemy.orm import Session

    from acd.history import db
    from acd.live.broadcast import Broadcasts
    from acd.orders import knowledge
    from ivr.fastagi import IvrServer

    engine = db.make_engine(f"sqlite:///{tmp_path / 'kb.sqlite'}")
    db.create_schema(engine)
    with Session(engine) as s, s.begin():
        knowledge.add(s, "路况信息", "今日沈海高速畅通。", for_ivr=True)
        knowledge.add(s, "路况信息", "旧的路况。", for_ivr=True,
                      valid_to=date.today() - timedelta(days=1))
    server = IvrServer(CENTER, MENU, Broadcasts(None, "shenyang"), None,
                       sessions=db.session_factory(engine))
    ch = FakeChannel(["1", "1"])
    result = asyncio.run(flow.walk(MENU, ch, CENTER.handoffs, None, CENTER.default_queue,
                                   server.knowledge))
    assert "text:今日沈海高速畅通。" in ch.played and "road_conditions_info" not in ch.played
    assert result.queue == "highway"
    # Without an entry (or a database), the node's own prompt plays.
    assert asyncio.run(server.knowledge("没有的条目")) is None
    _, ch = walk(["1", "1"])
    assert "road_conditions_info" in ch.played
    engine.dispose()


def test_the_prompts_an_instance_lacks_are_named(tmp_path) -> None:
    """`hotline ivr serve` warns of them at start: Asterisk fails such a prompt at once."""
    from ivr import prompts
    from ivr.menu import REQUIRED_PROMPTS
    names = [*MENU.prompts, *REQUIRED_PROMPTS]
    for name in names:
        (tmp_path / f"{name}.wav").write_bytes(b"")
    assert prompts.missing(tmp_path, names) == []
    (tmp_path / "welcome.wav").unlink()
    (tmp_path / "no_seat.wav").unlink()
    (tmp_path / "welcome.gsm").write_bytes(b"")  # not a prompt the IVR installs
    assert prompts.missing(tmp_path, names) == ["no_seat", "welcome"]
