"""Prompts: every menu text spoken in Mandarin by espeak-ng (voice `cmn`), converted by sox to
what Asterisk plays without transcoding (8 kHz, mono, 16-bit WAV). A recorded file with the
same name wins over the synthetic one. A prompt without text is an error at build time, never
silence on a call.

Texts come from people (the emergency broadcast, the knowledge base): espeak-ng reads them on
its standard input, never as an argument, so a text like ``-f/etc/hostname`` or ``--help`` is
spoken as it is written and never becomes an option; a text longer than `SPOKEN_MAX`
characters, or with characters that are not text, is refused (`PromptError`)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from hotline import paths
from hotline.logs import get_logger

log = get_logger(__name__)

VOICE = ("-v", "cmn", "-s", "210")  # espeak-ng's Mandarin voice, words per minute
SPOKEN_MAX = 500  # characters: about two minutes of Mandarin, the longest text a caller hears
SYNTH_TIMEOUT_S = 60
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


def check_text(text: str) -> str:
    """The text as it will be spoken, or PromptError: 1 to SPOKEN_MAX characters, no control
    characters (line breaks and tabs become spaces)."""
    if not isinstance(text, str):
        raise PromptError("a prompt's text must be text")
    text = text.replace("\r", " ").replace("\n", " ").replace("\t", " ").strip()
    if not text:
        raise PromptError("a prompt's text is empty")
    if len(text) > SPOKEN_MAX:
        raise PromptError(f"a spoken text is at most {SPOKEN_MAX} characters, got {len(text)}")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise PromptError("a spoken text may not hold control or unassigned characters")
    return text


# A prompt file is read by Asterisk, which in a deployment runs as another user of the
# instance's group (docker/, systemd): readable by the group whatever the writer's umask.
PROMPT_MODE = 0o640


def synthesize(text: str, out: Path) -> None:
    """Speak `text` into `out` as 8 kHz mono 16-bit WAV. The text goes to espeak-ng on stdin:
    whatever it says, it is never read as an option."""
    text = check_text(text)
    espeak, sox = _tools()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        try:
            r = subprocess.run([espeak, *VOICE, "-w", str(raw), "--stdin"], input=text,
                               capture_output=True, text=True, timeout=SYNTH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise PromptError(f"espeak-ng took longer than {SYNTH_TIMEOUT_S} s") from None
        if r.returncode != 0 or not raw.exists():
            raise PromptError(f"espeak-ng failed for {out.name}: {r.stderr.strip()}")
        tmp_out = Path(tmp) / "out.wav"
        # -D: no dither, so one text always gives the same file (cached and comparable).
        r = subprocess.run([sox, "-D", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e",
                            "signed", str(tmp_out)], capture_output=True, text=True,
                           timeout=SYNTH_TIMEOUT_S)
        if r.returncode != 0:
            raise PromptError(f"sox failed for {out.name}: {r.stderr.strip()}")
        shutil.move(str(tmp_out), out)
    os.chmod(out, PROMPT_MODE)


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
    """The emergency broadcast (or a knowledge entry) as a prompt, synthesized once per text;
    its name. PromptError for a text that may not be spoken (check_text)."""
    text = check_text(text)
    name = broadcast_name(text)
    target = directory / f"{name}.wav"
    if not target.exists():
        synthesize(text, target)
    return name


def broadcast_name(text: str) -> str:
    """The prompt name a spoken text gets (one file per text and voice)."""
    return "broadcast-" + _digest((" ".join(VOICE) + "\n" + check_text(text)).encode())[:16]


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
            # Contents and times; the mode is PROMPT_MODE whatever the source's.
            shutil.copyfile(wav, dest)
            st = wav.stat()
            os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))
            os.chmod(dest, PROMPT_MODE)
        n += 1
    return n


def missing(into: Path, names: Iterable[str]) -> list[str]:
    """The prompts of `names` an instance's prompts directory lacks (sorted). Asterisk fails
    such a prompt at once and the caller hears nothing there: `hotline prompts build`."""
    return sorted(n for n in set(names) if not (into / f"{n}.wav").exists())


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
