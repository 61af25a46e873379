"""The TLS certificate of a node's SIP over TLS transport (seats' softphones), generated once.

A self-signed certificate (EC P-256, valid 825 days) for the node's `bind` address, made with
openssl and kept in the state directory beside the other secrets: the key is written 0600
from creation (a private directory, renamed into place). A softphone trusts it by its
fingerprint (`hotline pbx credentials` prints it), or a deployment puts its own certificate
and key at the same paths.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from hotline.center import Center, Node


class TlsError(RuntimeError):
    """The certificate could not be made."""


def paths(state: Path, center: Center, node: Node) -> tuple[Path, Path]:
    """(certificate, key) of a node in the state directory."""
    base = state / "tls" / f"{center.code}-{node.name}"
    return base.with_suffix(".crt"), base.with_suffix(".key")


def ensure(state: Path, center: Center, node: Node) -> tuple[Path, Path]:
    """The node's certificate and key, made now if they do not exist."""
    crt, key = paths(state, center, node)
    if crt.exists() and key.exists():
        return crt, key
    if shutil.which("openssl") is None:
        raise TlsError("making the TLS certificate needs openssl (Debian package openssl)")
    crt.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=crt.parent) as tmp:  # 0700: nobody else sees the key
        t_crt, t_key = Path(tmp) / "sip.crt", Path(tmp) / "sip.key"
        result = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "825",
             "-subj", f"/O=hotline12328/CN={node.bind}",
             "-addext", f"subjectAltName=IP:{node.bind}",
             "-keyout", str(t_key), "-out", str(t_crt)],
            capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise TlsError(f"openssl failed: {result.stderr.strip()[-500:]}")
        os.chmod(t_key, 0o600)
        os.chmod(t_crt, 0o644)
        t_key.replace(key)
        t_crt.replace(crt)
    return crt, key


def fingerprint(crt: Path) -> str:
    """SHA-256 fingerprint of the certificate, as softphones show it."""
    result = subprocess.run(["openssl", "x509", "-in", str(crt), "-noout", "-fingerprint",
                             "-sha256"], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise TlsError(f"openssl failed: {result.stderr.strip()[-500:]}")
    return result.stdout.strip().split("=", 1)[-1]


def install(crt: Path, key: Path, into: Path) -> None:
    """Copy certificate and key to where the rendered pjsip.conf names them."""
    into.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copyfile(crt, into / "sip.crt")
    fd = os.open(into / "sip.key.tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.read_bytes())
    os.replace(into / "sip.key.tmp", into / "sip.key")
