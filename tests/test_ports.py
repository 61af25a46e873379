"""Free ports for the real parts: drawn outside the kernel's ephemeral range and the rig's RTP
ports, and a port taken by someone else before a server binds it means a new start on fresh
ports, not a skipped test."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from hotline.shell.simulate import ports
from tests.support.rig import example_center_data, running_pbx


def test_ports_are_free_distinct_and_outside_the_ephemeral_and_rtp_ranges() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    got = ports.free_ports(20)
    assert len(set(got)) == 20
    assert all(10000 <= p < low and not 20000 <= p < 30000 for p in got), got
    for p in got:
        with socket.socket() as t, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            t.bind(("127.0.0.1", p))
            u.bind(("127.0.0.1", p))


def test_retrying_starts_again_on_a_clash_only() -> None:
    tries: list[int] = []

    def clashing() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise OSError("port already in use")
        return "up"

    assert ports.retrying(clashing, lambda e: "in use" in str(e)) == "up" and len(tries) == 3
    tries.clear()
    with pytest.raises(OSError):
        ports.retrying(clashing, lambda e: False)
    assert len(tries) == 1
    tries.clear()
    with pytest.raises(OSError):  # never more than `attempts`
        ports.retrying(clashing, lambda e: True, attempts=2)
    assert len(tries) == 2


@pytest.mark.asterisk
def test_asterisk_whose_port_was_taken_starts_on_fresh_ports(tmp_path) -> None:
    data = example_center_data()
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", data["nodes"][0]["ami_port"]))
    squatter.listen()  # someone else's server on the AMI port drawn for us
    try:
        with running_pbx(tmp_path, f"clash-{os.getpid()}", data) as pbx:
            assert pbx.node.ami_port != data["nodes"][0]["ami_port"]
            assert "System uptime" in pbx.instance.cli("core show uptime")
    finally:
        squatter.close()


def test_a_port_handed_out_is_not_handed_out_again_soon() -> None:
    """Two draws in a row never share a port, though the first's were never bound: the server
    given them may not have started yet."""
    first = set(ports.free_ports(200))
    second = set(ports.free_ports(200))
    assert not first & second and set(ports._recent) >= first | second
