"""The center description: the example loads; every malformed field is refused by name."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from hotline import center
from hotline.center import CenterError


def example() -> dict[str, Any]:
    return tomllib.loads(center.EXAMPLE.read_text(encoding="utf-8"))


def test_the_shipped_example_is_valid() -> None:
    c = center.load(center.EXAMPLE)
    assert c.hotline_number == "12328"
    assert {q.domain for q in c.queues} >= {"highway", "urban_transit", "road_transport",
                                            "waterway", "complaint"}
    assert all(set(s.queues) <= {q.name for q in c.queues} for s in c.seats)
    # The back office: handling units with a Chinese name and a contact, the level above.
    assert c.unit("sy_taxi") is not None and c.unit("sy_taxi").name == "沈阳市客运出租汽车管理处"
    assert c.exchange.upper == "liaoning" and c.exchange.peer("dalian") is not None


@pytest.mark.parametrize(("path", "value", "field"), [
    (("queues", 1, "wrapup_s"), "five", "queues[1].wrapup_s"),
    (("queues", 0, "domain"), "railway", "queues[0].domain"),
    (("queues", 0, "name"), "general", "queues[0].name"),
    (("queues", 1, "overflow_to"), "nowhere", "queues[1].overflow_to"),
    (("seats", 2, "queues"), ["highway", "ghost"], "seats[2].queues"),
    (("seats", 0, "id"), "eighty", "seats[0].id"),
    (("seats", 1, "name"), "Li \"Boss\" Wang", "seats[1].name"),
    (("nodes", 0, "ami_port"), 80, "nodes[0].ami_port"),
    (("center", "default_queue"), "ghost", "center.default_queue"),
    (("center", "recording"), "yes", "center.recording"),
    (("handoffs", "rail"), "rail; rm -rf", "handoffs.rail"),
    (("engine", "colour"), "blue", "engine.colour"),
    (("units", 0, "code"), "交通局", "units[0].code"),
    (("units", 1, "code"), "sy_transport", "units[1].code"),
    (("units", 0, "name"), "<b>局</b>", "units[0].name"),
    (("units", 0, "phone"), "12345", "units[0].phone"),
    (("units", 0, "email"), "not-mail", "units[0].email"),
    (("units", 0, "fax"), "024", "units[0].fax"),
    (("exchange", "upper"), "beijing", "exchange.upper"),
    (("exchange", "peers", 0, "code"), "shenyang", "exchange.peers[0].code"),
    (("exchange", "platform_url"), "ftp://x", "exchange.platform_url"),
    (("exchange", "sms_url"), "http://x/\nHost: y", "exchange.sms_url"),
    (("exchange", "retry_s"), 0, "exchange.retry_s"),
    # lists of tables: not a list, or an entry that is not a table
    (("units",), "sy_taxi", "units"),
    (("units", 1), "sy_taxi", "units[1]"),
    (("exchange", "peers"), {"code": "dalian"}, "exchange.peers"),
    (("exchange", "peers", 0), "dalian", "exchange.peers[0]"),
    (("hosted",), "huludao", "hosted"),
    (("hosted",), [{"code": "huludao"}, "jinzhou"], "hosted[1]"),
    (("supervisors",), 9001, "supervisors"),
    (("supervisors",), [[9001]], "supervisors[0]"),
])
def test_a_bad_field_is_refused_by_name(path: tuple[Any, ...], value: Any, field: str) -> None:
    data = example()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(CenterError) as err:
        center.parse(data)
    assert str(err.value).startswith(field + ":"), str(err.value)


def test_missing_sections_and_overlapping_ports_are_refused() -> None:
    data = example()
    del data["seats"]
    with pytest.raises(CenterError, match=r"^seats: needs at least one"):
        center.parse(data)
    data = example()
    data["nodes"][0]["ami_port"] = data["nodes"][0]["sip_port"]
    with pytest.raises(CenterError, match=r"^nodes\[0\]: .* must not overlap"):
        center.parse(data)


def test_the_command_line_names_the_bad_field(tmp_path: Path) -> None:
    bad = tmp_path / "center.toml"
    bad.write_text(center.EXAMPLE.read_text(encoding="utf-8").replace(
        "wrapup_s = 15", 'wrapup_s = "fifteen"'), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "--center", str(bad),
                             "pbx", "render"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "queues[5].wrapup_s: must be an integer" in result.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[center\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "hotline.shell.cli", "--center", str(broken),
                             "pbx", "render"], capture_output=True, text=True)
    assert result.returncode == 2 and "not valid TOML" in result.stderr


def test_an_unreadable_center_file_is_a_center_error(tmp_path) -> None:
    """A directory or bytes that are not UTF-8 where the center file should be: CenterError
    naming the path (one line from the CLI), never an OSError's traceback."""
    not_text = tmp_path / "center.toml"
    not_text.write_bytes(b"\xff\xfe[center]\n")
    for path in (tmp_path, not_text):
        with pytest.raises(CenterError, match="cannot be read"):
            center.load(path)
