"""The container images of docker/, built with podman (or docker) without an image registry.

Bases are made, not pulled: `mmdebstrap` writes a Debian root as a tarball and the container
tool imports it. Two bases:

- `base-bookworm`: Debian 12 minbase with Python 3.11 (the Python the tests run on), for the
  engine, Redis and PostgreSQL images, which install their Debian packages on top;
- `base-asterisk`: Debian sid with the rig's packages (Asterisk 22 is only in sid), made by
  mmdebstrap like the rig's root, or imported from an existing rig root (`--asterisk-root`).

Each image is built `FROM` its base given by digest (podman; docker gets the base's content
tag), so a rebuild starts from exactly the same files. `--mirror URL` (and
`--security-mirror URL`) take the bases' packages from that archive, e.g. the Debian snapshot
archive's URL of a date, so the same command builds the same bases a year later; without,
mmdebstrap's own default mirrors of the day. Every image (bases included) is tagged with a
hash of what went into it (`hotline12328/engine:<hash>`); a tag that exists is not built
again.
"""

from __future__ import annotations

import email.parser
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from asterisk_conf.rig import PACKAGES as ASTERISK_PACKAGES
from hotline.logs import get_logger

log = get_logger(__name__)

REPO = Path(__file__).resolve().parents[3]
PREFIX = "localhost/hotline12328"
# What the engine image copies (docker/engine/Dockerfile): pyproject's packages and its
# metadata. The hash covers every file under them.
ENGINE_INPUTS = ("pyproject.toml", "README.md", "hotline", "acd", "ivr", "agi_scripts",
                 "queue_stats", "recordings", "asterisk_conf")


class ImageError(RuntimeError):
    """A base or an image could not be made; the message says which and why."""


@dataclass(frozen=True)
class Base:
    name: str
    suite: str
    packages: tuple[str, ...]
    components: str = "main"


BOOKWORM = Base("base-bookworm", "bookworm", ("python3", "python3-venv", "ca-certificates"))
ASTERISK = Base("base-asterisk", "sid", ASTERISK_PACKAGES)


@dataclass(frozen=True)
class Image:
    name: str
    context: str            # relative to the repository
    dockerfile: str         # relative to the repository
    base: Base
    inputs: tuple[str, ...]  # files and folders (relative to the repository) that go in


IMAGES = (
    Image("engine", ".", "docker/engine/Dockerfile", BOOKWORM, ENGINE_INPUTS),
    Image("asterisk", "docker/asterisk", "docker/asterisk/Dockerfile", ASTERISK,
          ("docker/asterisk",)),
    Image("redis", "docker/redis", "docker/redis/Dockerfile", BOOKWORM, ("docker/redis",)),
    Image("postgres", "docker/postgres", "docker/postgres/Dockerfile", BOOKWORM,
          ("docker/postgres",)),
)
# The compose file's variable for each image (docker/compose.yaml, .env).
ENV_NAMES = {"engine": "HOTLINE_ENGINE_IMAGE", "asterisk": "HOTLINE_ASTERISK_IMAGE",
             "redis": "HOTLINE_REDIS_IMAGE", "postgres": "HOTLINE_POSTGRES_IMAGE"}


def tool_command(tool: str) -> list[str]:
    """The container tool's command line. podman on Debian 12 runs with runc (crun fails on
    hosts with hybrid cgroups); docker as it is."""
    if shutil.which(tool) is None:
        raise ImageError(f"{tool} is not installed")
    if tool == "podman" and shutil.which("runc") is not None:
        return ["podman", "--runtime", "runc"]
    return [tool]


def content_hash(paths: Iterable[Path], extra: Sequence[str] = ()) -> str:
    """sha256 over every file's relative path and bytes (caches and byte code left out)."""
    h = hashlib.sha256()
    for text in extra:
        h.update(text.encode() + b"\0")
    for top in sorted(paths):
        files = [top] if top.is_file() else sorted(
            p for p in top.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            and p.suffix not in (".pyc", ".pyo"))
        for f in files:
            h.update(str(f.relative_to(REPO) if f.is_relative_to(REPO) else f).encode() + b"\0")
            h.update(f.read_bytes())
            h.update(b"\0")
    return h.hexdigest()[:16]


def _run(cmd: list[str], *, stdin: int | None = None, what: str) -> str:
    result = subprocess.run(cmd, stdin=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise ImageError(f"{what} failed ({result.returncode}): "
                         f"{(result.stderr or result.stdout)[-3000:]}")
    return result.stdout


def exists(tool: list[str], ref: str) -> bool:
    return subprocess.run([*tool, "image", "inspect", ref], capture_output=True).returncode == 0


def pinned(tool: list[str], ref: str) -> str:
    """How an image is named in FROM so that nothing else can stand in: its digest (podman);
    docker's imported images have no registry digest, so their content tag."""
    if tool[0] != "podman":
        return ref
    out = _run([*tool, "image", "inspect", "--format", "{{.Digest}}", ref], what="inspect")
    return f"{ref.rsplit(':', 1)[0]}@{out.strip()}"


def mirrors(suite: str, mirror: str | None, security: str | None = None) -> list[str]:
    """apt sources for mmdebstrap: the given archive (with -updates, and -security from the
    security archive, for a release); none (mmdebstrap's default) without one."""
    if not mirror:
        return []
    out = [f"deb {mirror} {suite} main"]
    if suite not in ("sid", "unstable"):
        out.append(f"deb {mirror} {suite}-updates main")
        if security:
            out.append(f"deb {security} {suite}-security main")
    return out


def make_base(tool: list[str], base: Base, mirror: str | None = None, security: str | None = None,
              from_root: Path | None = None) -> str:
    """The base image (made unless its tag exists); its pinned name for FROM."""
    if from_root is not None:
        status = from_root / "var/lib/dpkg/status"
        if not status.exists():
            raise ImageError(f"{from_root} is not a Debian root (no var/lib/dpkg/status)")
        key = content_hash([status], ["root", base.suite])
    else:
        key = content_hash([], [base.suite, *base.packages,
                                *(mirrors(base.suite, mirror, security) or ["default"])])
    ref = f"{PREFIX}/{base.name}:{key}"
    if exists(tool, ref):
        return pinned(tool, ref)
    started = time.monotonic()
    if from_root is not None:
        # The root as it is, without what runs in it (instances, sockets, temporary files).
        cmd = ["tar", "-C", str(from_root), "--numeric-owner", "--exclude=./srv/*",
               "--exclude=./proc/*", "--exclude=./sys/*", "--exclude=./dev/*",
               "--exclude=./run/*", "--exclude=./tmp/*", "--exclude=./opt/hotline",
               "--exclude=./.hotline-root", "-c", "."]
        what = f"importing {from_root}"
    else:
        if shutil.which("mmdebstrap") is None:
            raise ImageError("mmdebstrap is not installed (Debian package mmdebstrap)")
        cmd = ["mmdebstrap", "--variant=minbase", "--format=tar",
               "--aptopt=Acquire::Check-Valid-Until \"false\"",
               f"--include={','.join(base.packages)}", base.suite, "-",
               *mirrors(base.suite, mirror, security)]
        what = f"mmdebstrap {base.suite}"
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: it never fills and blocks
        producer = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        assert producer.stdout is not None
        try:
            _run([*tool, "import", "--change", f"LABEL org.hotline12328.base={key}", "-", ref],
                 stdin=producer.stdout.fileno(), what=f"{what} | {tool[0]} import")
        finally:
            producer.stdout.close()
            producer.wait()
        if producer.returncode != 0:
            # A root cut short must not stay behind under the tag of a finished one.
            subprocess.run([*tool, "rmi", "-f", ref], capture_output=True)
            errors.seek(0)
            raise ImageError(f"{what} failed ({producer.returncode}): "
                             f"{errors.read().decode(errors='replace')[-2000:]}")
    log.info("base image made", image=ref, seconds=round(time.monotonic() - started, 1))
    return pinned(tool, ref)


WHEELS = REPO / "build" / "wheels"
PYTHON = "3.11.2"  # the bookworm base's Python: the wheels are made for it
PLATFORMS = ("manylinux_2_36_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64")


def wheels(directory: Path = WHEELS) -> Path:
    """The engine's dependencies as wheels, made on this machine with its package index
    settings (a proxy, a mirror, a CA), so the image build reaches no index. Made again when
    pyproject.toml changes."""
    if sys.version_info[:2] != tuple(int(x) for x in PYTHON.split(".")[:2]):
        raise ImageError(f"the engine image's wheels are made for Python {PYTHON} (the "
                         f"base's); this is Python {sys.version.split()[0]}")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    deps = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    stamp = content_hash([REPO / "pyproject.toml"], [sys.version, PYTHON, *PLATFORMS, "2"])
    marker = directory / ".made-for"
    if marker.exists() and marker.read_text() == stamp:
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    started = time.monotonic()
    # This Python resolves and builds the set; what the base's Python wants beyond it (its
    # environment markers differ, e.g. python_full_version) is added until nothing is missing.
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "--quiet", "--wheel-dir", str(directory), *deps], what="pip wheel")
    for _ in range(10):
        missing = missing_for_base(directory)
        if not missing:
            break
        _run([*pip, "download", "--quiet", "--no-deps", "--dest", str(directory),
              "--only-binary=:all:", "--python-version", PYTHON, "--implementation", "cp",
              *(f"--platform={p}" for p in PLATFORMS), *missing], what="pip download")
    else:
        raise ImageError(f"wheels for the base's Python still miss {missing}")
    (directory / "requirements.txt").write_text("\n".join(deps) + "\n")
    marker.write_text(stamp)
    log.info("wheels made", directory=str(directory), seconds=round(time.monotonic() - started, 1))
    return directory


def missing_for_base(directory: Path) -> list[str]:
    """Requirements of the wheels in `directory`, as the base's Python evaluates their
    markers, that no wheel there provides."""
    env: dict[str, str] = {**{k: str(v) for k, v in default_environment().items()},
                           "python_full_version": PYTHON,
                           "python_version": ".".join(PYTHON.split(".")[:2]),
                           "implementation_version": PYTHON, "extra": ""}
    have: set[str] = set()
    wanted: list[Requirement] = []
    for whl in sorted(directory.glob("*.whl")):
        have.add(canonicalize_name(parse_wheel_filename(whl.name)[0]))
        with zipfile.ZipFile(whl) as z:
            meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
            message = email.parser.Parser().parsestr(z.read(meta).decode("utf-8", "replace"))
        for line in message.get_all("Requires-Dist") or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate(env):
                wanted.append(req)
    return sorted({f"{r.name}{r.specifier}" for r in wanted
                   if canonicalize_name(r.name) not in have})


def build_image(tool: list[str], image: Image, base_ref: str) -> str:
    """Build one image unless the tag of its inputs exists; its reference."""
    key = content_hash([REPO / p for p in image.inputs], [base_ref, image.dockerfile])
    ref = f"{PREFIX}/{image.name}:{key}"
    if exists(tool, ref):
        return ref
    started = time.monotonic()
    cmd = [*tool, "build", "--network", "host", "--build-arg", f"BASE={base_ref}",
           "-f", str(REPO / image.dockerfile), "-t", ref, "-t", f"{PREFIX}/{image.name}:latest"]
    if tool[0] == "podman":
        cmd += ["--format", "docker", "--layers"]  # keep HEALTHCHECK; reuse unchanged layers
    _run([*cmd, str(REPO / image.context)], what=f"building {image.name}")
    log.info("image built", image=ref, seconds=round(time.monotonic() - started, 1))
    return ref


def build_all(tool_name: str = "podman", mirror: str | None = None, security: str | None = None,
              asterisk_root: Path | None = None,
              only: Sequence[str] = ()) -> dict[str, str]:
    """Every image of docker/ (or `only` those), each made once per content; {name: ref}."""
    tool = tool_command(tool_name)
    bases: dict[str, str] = {}
    out: dict[str, str] = {}
    for image in IMAGES:
        if only and image.name not in only:
            continue
        if image.name == "engine":
            wheels()
            if not (REPO / "acd/web/static/vendor/echarts.min.js").is_file():
                raise ImageError("the wallboard's chart library is missing from "
                                 "acd/web/static/vendor/: run ./run setup (npm ci) first")
        if image.base.name not in bases:
            root = asterisk_root if image.base is ASTERISK else None
            bases[image.base.name] = make_base(tool, image.base, mirror, security, root)
        out[image.name] = build_image(tool, image, bases[image.base.name])
    return out


def env_lines(refs: dict[str, str]) -> str:
    """The images as compose variables, for the deployment's .env."""
    return "".join(f"{ENV_NAMES[name]}={ref}\n" for name, ref in refs.items())

