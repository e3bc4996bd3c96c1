"""What an attachment's bytes are, and the names it may be handed back under."""

from __future__ import annotations

import pytest

from core_api.services.files import Upload, check_type, clean_name, sniff
from settings import Settings


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
        (b"GIF89a...", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.4", "application/pdf"),
        ("plain words, ünïcode".encode(), "text/plain"),
        (b"MZ\x90\x00\x03", None),  # a Windows executable
        (b"\xff\xfe\x00bad", None),
        (b"PK\x03\x04zip", None),  # control bytes: not text
        (b"col\tcol\r\nrow\x0c", "text/plain"),
    ],
)
def test_sniff_reads_the_type_from_the_first_bytes(data: bytes, expected: str | None) -> None:
    assert sniff(data) == expected


def test_a_type_outside_the_setting_is_refused_even_when_recognised() -> None:
    settings = Settings(files_types="image/png")
    with pytest.raises(Exception) as refused:
        check_type(Upload(name="a", declared_type="", data=b"%PDF-1.4"), settings)
    assert getattr(refused.value, "status_code", None) == 415


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\photo.png", "photo.png"),
        ("a\x00b\nc.txt", "a_b_c.txt"),
        ("", "file"),
        (None, "file"),
        ("...", "file"),
        ("x" * 300, "x" * 255),
        ("\ud800.png", "?.png"),
    ],
)
def test_clean_name_keeps_no_path_and_no_control_characters(
    name: str | None, expected: str
) -> None:
    assert clean_name(name) == expected
