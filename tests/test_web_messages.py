"""Fast checks of issue 17's parts that need no real part: every refusal the engine raises
has a Chinese sentence for the pages; the center file's busy-reason titles, wallboard alerts
and score sheet are checked field by field; the CLI says a bad argument on one line with exit
2 and a read-only command never migrates."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import inspect

from acd.errors import Invalid
from acd.history import db
from acd.quality.sheet import SheetError, load, parse
from acd.web.messages import GENERIC, chinese, known
from hotline.center import CenterError
from tests.support.cli import in_process
from tests.support.rig import example_center_data

ROOT = Path(__file__).resolve().parent.parent
REFUSALS = {"Invalid", "Forbidden", "NotFound", "Conflict", "Unavailable", "InvalidOrder",
            "OrderConflict", "SchemaBehind"}


def raised_messages() -> list[tuple[str, str]]:
    """Every message an `acd/` module raises a refusal with (or returns from the order form's
    check), its f-string's holes filled with a sample value: (where, message)."""
    out = []
    for path in sorted((ROOT / "acd").rglob("*.py")):
        if path.name == "cli.py":  # the command line speaks to operators, in English
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            args = []
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and \
                    getattr(node.exc.func, "id", "") in REFUSALS and node.exc.args:
                args = [node.exc.args[0]]
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "error" and \
                    len(node.args) == 2:
                args = [node.args[1]]
            for arg in args:
                text = sample(arg)
                if text is not None:
                    out.append((f"{path.relative_to(ROOT)}:{node.lineno}", text))
    return out


def sample(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "9" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = sample(node.left), sample(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.IfExp):
        return sample(node.body)
    return None  # str(exc): a message made elsewhere


def test_every_refusal_has_its_chinese_sentence() -> None:
    found = raised_messages()
    assert len(found) > 80  # the scan sees the engine's raises
    missing = [(where, m) for where, m in found if not known(m)]
    assert missing == []


def test_the_order_forms_messages_are_chinese_too() -> None:
    from acd.web.console import check_order
    bad = [{"type": "praise"}, {"content": " "}, {"answered": "yes"}, {"reply": ""},
           {"answered": False}, {"type": "complaint", "content": "x"}, {"bogus": 1}]
    for change in bad:
        form = {"uniqueid": "pbx1-1.1", "type": "consultation", "domain": "highway",
                "content": "问", "answered": True, "reply": "答", "unit": ""}
        form.update(change)
        out = check_order(form)
        assert isinstance(out, str) and known(out), out


@pytest.mark.parametrize(("english", "zh"), [
    ("content: is required", "请填写内容"),
    ("order 12: cannot transfer an order that is closed (only from accepted or returned)",
     "工单 12 当前为“已办结”，不能转办（只能在“已受理”或“已退回”时）"),
    ("reason must be one of meal, other, got 'nap'", "请选择本中心的示忙原因"),
    ("not for role seat", "当前角色（座席）无权进行此操作"),
    ("entries[3].title: is too long (at most 200 characters)", "条目[3].标题过长（最多 200 个字）"),
    ("seat 8002 is not in wrap-up (it is busy)", "座席 8002 不在整理状态（当前：示忙）"),
])
def test_sentences_carry_their_values(english: str, zh: str) -> None:
    assert chinese(english) == zh


def test_an_unknown_message_is_never_shown_in_english() -> None:
    assert chinese("something new went wrong", 409) == GENERIC[409]
    assert chinese("kaboom", 500) == GENERIC[500]


# --- the center file ----------------------------------------------------------------------------

def center(**change: object):  # type: ignore[no-untyped-def]
    from hotline.center import parse as parse_center
    data = example_center_data()
    data.update(change)
    return parse_center(data)


def test_busy_reasons_have_titles_from_the_file_or_the_default_table() -> None:
    c = center(busy_reasons=["meal", {"code": "coffee", "title": "茶歇"}])
    assert c.busy_reasons == ("meal", "coffee")
    assert dict(c.busy_titles) == {"meal": "用餐", "coffee": "茶歇"}
    assert c.busy_title("coffee") == "茶歇" and c.busy_title("gone") == "gone"
    for bad, where in ((["coffee"], "busy_reasons[0]"), (["meal", "meal"], "busy_reasons[1]"),
                       ([{"code": "x"}], "busy_reasons[0].title"), ([3], "busy_reasons[0]"),
                       ([{"code": "tea", "title": "茶", "x": 1}], "busy_reasons[0].x")):
        with pytest.raises(CenterError) as err:
            center(busy_reasons=bad)
        assert err.value.path == where, bad


def test_wallboard_alerts_are_checked_per_indicator() -> None:
    c = center(wallboard={"min_calls": 3, "average_wait_s": {"above": 30, "sound": False}})
    assert c.wallboard.min_calls == 3
    a = c.wallboard.alert("average_wait_s")
    assert (a.when, a.threshold, a.sound) == ("above", 30.0, False)
    assert c.wallboard.alert("manual_connection_rate").threshold == 0.95
    for bad, where in (({"manual_connection_rate": {"below": 95}}, "below"),
                       ({"waiting": {"below": 3}}, "waiting.below"),
                       ({"nosuch": {}}, "wallboard.nosuch")):
        with pytest.raises(CenterError) as err:
            center(wallboard=bad)
        assert where in err.value.path, bad


# --- the score sheet -----------------------------------------------------------------------------

def test_the_shipped_sheet_and_a_score_against_it() -> None:
    sheet = load()
    assert sheet.max_total == 100 and {i.code for i in sheet.items if i.critical} == \
        {"accuracy", "attitude"}
    full = {i.code: i.max for i in sheet.items}
    assert sheet.check(full) == full and sheet.passed(full)
    assert not sheet.passed({**full, "attitude": 0})          # a critical item at 0
    assert not sheet.passed({**full, "accuracy": 1, "listening": 0})  # under 80 %
    for scores, message in (({**full, "x": 1}, "'x' is not an item"),
                            ({"greeting": 10}, "every item is scored"),
                            ({**full, "greeting": 11}, "from 0 to 10"),
                            ({**full, "greeting": True}, "from 0 to 10"), ([1], "an object")):
        with pytest.raises(Invalid, match=message):
            sheet.check(scores)
        assert known(str(pytest.raises(Invalid, sheet.check, scores).value))


def test_a_bad_sheet_is_refused_naming_the_field() -> None:
    good = {"code": "s", "name": "表", "items": [{"code": "a", "title": "项", "max": 5}]}
    assert parse(good).max_total == 5
    for change, where in (({"items": []}, "items"), ({"pass_percent": 120}, "pass_percent"),
                          ({"items": [{"code": "a", "title": "项", "max": 0}]}, "items[0].max"),
                          ({"extra": 1}, "extra")):
        with pytest.raises(SheetError, match=where.replace("[", r"\[")):
            parse({**good, **change})


# --- the command line ----------------------------------------------------------------------------

@pytest.fixture
def hotline(capsys, monkeypatch):  # type: ignore[no-untyped-def]
    """The command in this process: (exit code, stdout, stderr), argparse's exits included."""
    run = in_process(capsys, monkeypatch)

    def call(*args: str) -> SimpleNamespace:
        try:
            code, out, err = run(*args)
        except SystemExit as exc:
            captured = capsys.readouterr()
            code, out, err = int(exc.code or 0), captured.out, captured.err
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)
    return call


def test_version_and_the_actions_of_web_user(hotline) -> None:
    out = hotline("--version")
    assert out.returncode == 0 and out.stdout.startswith("hotline12328 ")
    out = hotline("web", "user", "--help")
    assert out.returncode == 0
    assert all(a in out.stdout for a in ("add", "reset", "revoke", "remove"))


@pytest.mark.parametrize("args", [
    ("--log-level", "verbose", "stats", "calls"),
    ("staffing", "10", "-5"),
    ("staffing", "ten", "180"),
    ("stats", "calls", "--since", "yesterday", "--database", "sqlite:///{db}"),
    ("stats", "calls", "--database", "postgresql+psycopg://nobody@127.0.0.1:9/none"),
    ("report", "--month", "2026-13", "--database", "sqlite:///{db}"),
    ("report", "--month", "2026-10", "--center-code", "nosuch", "--database", "sqlite:///{db}"),
    ("stats", "calls", "--database", "nonsense://"),
])
def test_a_bad_argument_is_one_line_and_exit_2(args: tuple[str, ...], tmp_path,
                                                hotline) -> None:
    url = tmp_path / "ledger.sqlite"
    engine = db.make_engine(f"sqlite:///{url}")
    db.create_schema(engine)
    engine.dispose()
    out = hotline(*(a.replace("{db}", str(url)) for a in args))
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert lines[0].startswith("hotline"), lines


def test_a_read_only_command_never_migrates(tmp_path, hotline) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = db.make_engine(url)
    from acd.history import migrate
    migrate.upgrade(engine, "6a9dab46be45")  # the schema before this table
    out = hotline("stats", "calls", "--database", url)
    assert out.returncode == 2 and "hotline db upgrade" in out.stderr, out.stderr
    assert "qa_scores" not in inspect(engine).get_table_names()  # nothing was migrated
    for reads in (("list",), ("show", "1"), ("revisits",), ("kb", "search", "ETC"),
                  ("outbox",)):
        out = hotline("orders", "--database", url, *reads)
        assert out.returncode == 2 and "hotline db upgrade" in out.stderr, (reads, out.stderr)
    assert "qa_scores" not in inspect(engine).get_table_names()
    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    out = hotline("assess", "--month", "2026-10", "--database", empty)
    assert out.returncode == 2 and "no schema yet" in out.stderr
    assert inspect(db.make_engine(empty)).get_table_names() == []
    engine.dispose()
