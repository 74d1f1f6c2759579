"""Damaged archives: each member that cannot be read is one error among the others, never a
crash; an archive with no agent files in it says so. The archives are real ones made with
zipfile, then damaged byte by byte the way a bad download or a hostile upload would be."""

from __future__ import annotations

import struct
import zipfile
from io import BytesIO

import pytest

from agents.models import Agent

from .test_admin_import import URL as IMPORT_URL
from .test_admin_import import upload
from .test_import_commands import REVIEWER, run, write
from .test_import_zip import agent, make_zip

pytestmark = pytest.mark.django_db

BAD = "bad.md"
GOOD = "good.md"


BAD_TEXT = agent("alpha") + "More text.\n" * 30  # long enough to be compressed


def two_agents() -> bytearray:
    return bytearray(make_zip({BAD: BAD_TEXT, GOOD: agent("beta")}))


def central_header(data: bytearray, name: str) -> int:
    """Where the central directory describes ``name`` (the sizes and flags zipfile trusts)."""
    start = 0
    while True:
        start = data.index(b"PK\x01\x02", start)
        length = struct.unpack("<H", data[start + 28 : start + 30])[0]
        if data[start + 46 : start + 46 + length] == name.encode():
            return start
        start += 4


def local_header(data: bytearray, name: str) -> int:
    central = central_header(data, name)
    return struct.unpack("<I", data[central + 42 : central + 46])[0]


def flip_crc(data: bytearray) -> bytes:
    data[central_header(data, BAD) + 16] ^= 0xFF
    data[local_header(data, BAD) + 14] ^= 0xFF
    return bytes(data)


def corrupt_deflate_data(data: bytearray) -> bytes:
    local = local_header(data, BAD)
    name_length, extra_length = struct.unpack("<HH", data[local + 26 : local + 30])
    data[local + 30 + name_length + extra_length] = 0xFF  # a block type deflate does not have
    return bytes(data)


def set_encryption_flag(data: bytearray) -> bytes:
    data[central_header(data, BAD) + 8] |= 0x1
    data[local_header(data, BAD) + 6] |= 0x1
    return bytes(data)


def set_unknown_compression(data: bytearray) -> bytes:
    data[central_header(data, BAD) + 10] = 99
    data[local_header(data, BAD) + 8] = 99
    return bytes(data)


def lie_about_size(data: bytearray, delta: int) -> bytes:
    for offset in (central_header(data, BAD) + 24, local_header(data, BAD) + 22):
        size = struct.unpack("<I", data[offset : offset + 4])[0]
        data[offset : offset + 4] = struct.pack("<I", size + delta)
    return bytes(data)


DAMAGE = [
    (flip_crc, "damaged in the archive (its CRC-32 checksum does not match)"),
    (corrupt_deflate_data, "damaged in the archive (its compressed data cannot be inflated)"),
    (set_encryption_flag, "encrypted (password-protected); zip it again without a password"),
    (set_unknown_compression, "compressed with a method the portal cannot read (number 99)"),
    (
        lambda data: lie_about_size(data, +50),
        f"damaged in the archive: its header says {len(BAD_TEXT) + 50:,} bytes, it holds "
        f"{len(BAD_TEXT):,}",
    ),
    (lambda data: lie_about_size(data, -50), "damaged in the archive (its CRC-32 checksum"),
]
IDS = ["crc", "deflate", "encrypted", "compression", "size-bigger", "size-smaller"]


@pytest.mark.parametrize(("damage", "message"), DAMAGE, ids=IDS)
def test_command_reports_a_damaged_member_and_imports_the_rest(tmp_path, damage, message):
    path = write(tmp_path, "a.zip", damage(two_agents()))
    write(tmp_path, "b.md", agent("gamma"))

    status, output = run("import_agents", str(tmp_path))

    assert status == 1
    assert f"error: {path}:{BAD}:1: {message}" in output
    assert f"created: {path}:{GOOD} (beta)" in output
    assert output.splitlines()[-1] == (
        "3 files: 2 created, 0 updated, 0 unchanged, 0 conflict, 1 error"
    )
    assert sorted(Agent.objects.values_list("name", flat=True)) == ["beta", "gamma"]


@pytest.mark.parametrize(("damage", "message"), DAMAGE, ids=IDS)
def test_the_import_page_reports_a_damaged_member_in_its_preview(admin_client, damage, message):
    response = admin_client.post(IMPORT_URL, {"files": [upload("a.zip", damage(two_agents()))]})

    page = response.content.decode()
    assert response.status_code == 200
    assert "<td>a.zip:bad.md</td>" in page
    assert f"line 1: {message}".replace("'", "&#x27;") in page
    assert "<td>a.zip:good.md</td>" in page
    assert 'name="batch"' not in page
    assert not Agent.objects.exists()


def test_a_zip_holding_only_another_zip_says_so_on_the_command_line(tmp_path):
    inner = make_zip({"agent.md": REVIEWER})
    path = write(tmp_path, "outer.zip", make_zip({"agents/inner.zip": inner}))

    status, output = run("import_agents", str(path))

    assert status == 1
    assert output.splitlines() == [
        f"error: {path}:1: no .md files in the archive; it holds another archive "
        "(agents/inner.zip): unzip it first",
        "1 files: 0 created, 0 updated, 0 unchanged, 0 conflict, 1 error",
    ]
    assert not Agent.objects.exists()


def test_a_zip_holding_only_another_zip_says_so_on_the_import_page(admin_client):
    outer = make_zip({"inner.zip": make_zip({"agent.md": REVIEWER})})

    response = admin_client.post(IMPORT_URL, {"files": [upload("outer.zip", outer)]})

    page = response.content.decode()
    assert "line 1: no .md files in the archive; it holds another archive (inner.zip)" in page
    assert 'name="batch"' not in page


def test_a_zip_without_agent_files_says_so(admin_client):
    response = admin_client.post(
        IMPORT_URL, {"files": [upload("notes.zip", make_zip({"notes.txt": "hello"}))]}
    )

    page = response.content.decode()
    assert "line 1: no .md files in the archive: nothing to import" in page
    assert 'name="batch"' not in page


def test_a_damaged_central_directory_refuses_the_archive_clearly(tmp_path):
    data = bytearray(make_zip({GOOD: agent("beta")}))
    data[-22:] = b"\x00" * 22  # the end-of-central-directory record
    path = write(tmp_path, "a.zip", bytes(data))

    status, output = run("import_agents", str(path))

    assert status == 1
    assert f"error: {path}:1: {path}: not a readable zip archive" in output
    assert output.splitlines()[-1].endswith("1 error")


def test_a_stored_member_is_read(tmp_path):
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(GOOD, agent("beta"))
    path = write(tmp_path, "a.zip", buffer.getvalue())

    status, output = run("import_agents", str(path))

    assert status == 0, output
    assert Agent.objects.get().name == "beta"
