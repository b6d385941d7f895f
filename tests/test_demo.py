"""`make demo` runs `mcuforge demo` from the repository with a relative output folder: the whole
job (host and, where the tools exist, QEMU) must succeed and report bit-exact outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcuforge.cli import main


@pytest.mark.slow
@pytest.mark.cbuild
@pytest.mark.qemu
def test_demo_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "bit-exact with the integer reference on 397 held-out images: yes" in out
    assert "int8 C 0.9" in out
    assert (tmp_path / "build" / "demo" / "digits_cnn.c").exists()
    assert "bit-exact with the integer reference on 8 images: yes" in out or "skipped:" in out
