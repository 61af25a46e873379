"""Prompts: every menu text spoken in Mandarin by espeak-ng (voice `cmn`), converted by sox to
what Asterisk plays without transcoding (8 kHz, mono, 16-bit WAV). A recorded file with the
same name wins over the synthetic one. A prompt without text is an error at build time, never
silence on a call."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from hotline import paths
from hotline.logs import get_logger

log = get_logger(__name__)

VOICE = ("-v", "cmn", "-s", "210")  # espeak-ng's Mandarin voice, words per minute
RECORDED = Path(__file__).resolve().parent.parent / "recordings" / "prompts" / "recorded"


class PromptError(RuntimeError):
    pass


def build_dir() -> Path:
    return paths.state_dir() / "prompts" / "zh"


def _tools() -> tuple[str, str]:
    espeak, sox = shutil.which("espeak-ng"), shutil.which("sox")
    if espeak is None or sox is None:
        raise PromptError("prompts need espeak-ng and sox (Debian packages espeak-ng, sox)")
    return espeak, sox


def synthesize(text: str, out: Path) -> None:
    """Speak `text` into `out` as 8 kHz mono 16-bit WAV."""
    espeak, sox = _tools()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        r = subprocess.run([espeak, *VOICE, "-w", str(raw), text],
                           capture_output=True, text=True)
        if r.returncode != 0 or not raw.exists():
            raise PromptError(f"espeak-ng failed for {out.name}: {r.stderr.strip()}")
        tmp_out = Path(tmp) / "out.wav"
        r = subprocess.run([sox, str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed",
                            str(tmp_out)], capture_output=True, text=True)
        if r.returncode != 0:
            raise PromptError(f"sox failed for {out.name}: {r.stderr.strip()}")
        shutil.move(str(tmp_out), out)


def build(prompts: dict[str, str], out: Path | None = None,
          recorded: Path = RECORDED) -> dict[str, str]:
    """Build every prompt into `out`; {name: "recorded" | "synthetic" | "cached"}."""
    out = out or build_dir()
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    done: dict[str, str] = {}
    for name, text in sorted(prompts.items()):
        if not text or not text.strip():
            raise PromptError(f"prompt {name!r} has no text")
        target = out / f"{name}.wav"
        own = recorded / f"{name}.wav"
        if own.exists():
            shutil.copy(own, target)
            manifest[name] = "recorded:" + _digest(own.read_bytes())
            done[name] = "recorded"
            continue
        key = "text:" + _digest((" ".join(VOICE) + "\n" + text).encode())
        if manifest.get(name) == key and target.exists():
            done[name] = "cached"
            continue
        synthesize(text, target)
        manifest[name] = key
        done[name] = "synthetic"
    manifest_path.write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    return done


def broadcast_prompt(text: str, directory: Path) -> str:
    """The emergency broadcast as a prompt (synthesized once per text); its name."""
    name = "broadcast-" + _digest((" ".join(VOICE) + "\n" + text).encode())[:16]
    target = directory / f"{name}.wav"
    if not target.exists():
        synthesize(text, target)
    return name


def install(into: Path, source: Path | None = None) -> int:
    """Copy built prompts into an Asterisk instance's prompts directory; how many."""
    source = source or build_dir()
    if not source.exists():
        return 0
    into.mkdir(parents=True, exist_ok=True)
    n = 0
    for wav in source.glob("*.wav"):
        dest = into / wav.name
        if not dest.exists() or dest.stat().st_mtime < wav.stat().st_mtime:
            shutil.copy2(wav, dest)
        n += 1
    return n


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
