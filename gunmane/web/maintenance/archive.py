"""The backup archive (バックアップファイル): one .zip with the database, the kept files, a manifest and checksums.

Why .zip and not .tar.gz:

- a municipal Windows PC opens a .zip with Explorer, no extra tool is needed to look inside;
- the central directory sits at the end, so a copy cut short (full disk, interrupted transfer) fails to
  open at once, before anything is read or changed;
- members are addressable one by one: restore reads the manifest first, then checks every member against
  SHA256SUMS (and zip's own CRC-32) while unpacking it, without a second pass over a compressed stream;
- members that are already compressed (pg_dump's custom format, .xlsx, .docx, .pdf) are stored as they
  are, the rest (SQLite file, JSON, CSV) deflated.

Layout: ``manifest.json``, ``SHA256SUMS`` (``sha256sum -c`` format, covers every other member including the
manifest), ``database/…`` (the dump, and optionally the portable Django JSON), ``media/…`` (everything
under MEDIA_ROOT). No Django here: this module only knows files and bytes.
"""

from __future__ import annotations

import hashlib
import json
import stat
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

FORMAT = "gunmane-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"
DATABASE_DIR = "database"
MEDIA_DIR = "media"
CHUNK = 1 << 20
# Already compressed: deflating them again costs time and gains nothing.
STORED_SUFFIXES = frozenset({".xlsx", ".xlsm", ".docx", ".pptx", ".pdf", ".zip", ".gz", ".bz2", ".xz", ".png",
                             ".jpg", ".jpeg", ".pgdump"})
_SMALL_LIMIT = 256 * 1024 * 1024  # manifest and checksum list; far above any real one


class BackupError(Exception):
    """A refusal or failure with a stable ``code`` and a message in Japanese and English.

    ``invalid`` is True when the input (archive, target database, arguments) is the reason — exit code 1
    with status ``invalid`` — and False when the operation itself failed (a tool, the disk, the server).
    """

    def __init__(self, code: str, message_ja: str, message_en: str, *, invalid: bool = True) -> None:
        super().__init__(code, message_ja, message_en)
        self.code = code
        self.message_ja = message_ja
        self.message_en = message_en
        self.invalid = invalid

    def __str__(self) -> str:
        return f"{self.message_ja} ({self.code})"

    def message(self, lang: str = "ja") -> str:
        return self.message_en if lang == "en" else self.message_ja

    def as_json(self, lang: str = "ja") -> dict[str, str]:
        return {"code": self.code, "message": self.message(lang)}


@dataclass(frozen=True)
class Member:
    """One archive member as written: name inside the archive, size in bytes, SHA-256 (hex)."""

    path: str
    size: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


def media_member(relative: str) -> str:
    return f"{MEDIA_DIR}/{relative}"


def safe_relative(name: str) -> str | None:
    """``name`` as a plain relative POSIX path, or None if it could escape its folder (zip-slip) or is odd."""
    if not name or "\\" in name or "\x00" in name or "\n" in name or "\r" in name:
        return None
    p = PurePosixPath(name)
    if p.is_absolute() or any(part in ("", ".", "..") for part in name.split("/")) or ":" in p.parts[0]:
        return None
    return p.as_posix()


class ArchiveWriter:
    """Adds members to an open ZipFile while hashing them; :meth:`finish` adds the manifest and SHA256SUMS last."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self._zf = zf
        self.members: list[Member] = []

    def _info(self, name: str, size: int, mtime: float) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=time.localtime(max(mtime, 315532800))[:6])  # zip starts in 1980
        stored = PurePosixPath(name).suffix.lower() in STORED_SUFFIXES
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        info.file_size = size  # lets zipfile choose ZIP64 for members over 2 GiB
        info.external_attr = (stat.S_IFREG | 0o600) << 16  # a regular file, readable by its owner only
        return info

    def add_file(self, name: str, source: Path) -> Member:
        st = source.stat()
        digest, n = hashlib.sha256(), 0
        with source.open("rb") as src, self._zf.open(self._info(name, st.st_size, st.st_mtime), "w") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                n += len(chunk)
        member = Member(name, n, digest.hexdigest())
        self.members.append(member)
        return member

    def add_bytes(self, name: str, data: bytes) -> Member:
        with self._zf.open(self._info(name, len(data), time.time()), "w") as dst:
            dst.write(data)
        member = Member(name, len(data), hashlib.sha256(data).hexdigest())
        self.members.append(member)
        return member

    def finish(self, manifest: dict[str, Any]) -> None:
        self.add_bytes(MANIFEST, (json.dumps(manifest, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
        sums = "".join(f"{m.sha256}  {m.path}\n" for m in self.members)
        self.add_bytes(CHECKSUMS, sums.encode("utf-8"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- reading -------------------------------------------------------------------------------------------------
def _unreadable(archive: Path, detail: str) -> BackupError:
    return BackupError(
        "archive_unreadable",
        f"バックアップファイル {archive.name} を開けません。途中で切れているか、gunmane のバックアップ（zip）では"
        f"ありません。コピーが最後まで終わったか確かめてください。何も変更していません。（{detail}）",
        f"Cannot open the backup {archive.name}: it is truncated or not a gunmane backup (zip). "
        f"Nothing was changed. ({detail})")


def _corrupt(archive: Path, member: str, detail: str) -> BackupError:
    return BackupError(
        "archive_corrupt",
        f"バックアップファイル {archive.name} が壊れています（{member}: {detail}）。"
        "別のバックアップを使ってください。何も変更していません。",
        f"The backup {archive.name} is corrupted ({member}: {detail}). Use another backup. Nothing was changed.")


def _read_small(zf: zipfile.ZipFile, name: str) -> bytes:
    with zf.open(name) as fh:
        data = fh.read(_SMALL_LIMIT + 1)
    if len(data) > _SMALL_LIMIT:
        raise ValueError(f"{name} is too large")
    return data


def _parse_sums(text: str) -> dict[str, str]:
    sums: dict[str, str] = {}
    for line in text.splitlines():
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or name in sums:
            raise ValueError(f"bad line in {CHECKSUMS}: {line[:80]!r}")
        sums[name] = digest
    return sums


@dataclass(frozen=True)
class VerifiedArchive:
    """An archive whose every member matched its checksum, unpacked into ``staging`` (same relative names)."""

    manifest: dict[str, Any]
    staging: Path
    members: tuple[Member, ...]

    def path(self, member: str) -> Path:
        return self.staging / member


def _copy_verified(src: IO[bytes], dest: Path, expected_size: int) -> tuple[str, int]:
    digest, n = hashlib.sha256(), 0
    with dest.open("wb") as out:
        while chunk := src.read(CHUNK):
            n += len(chunk)
            if n > expected_size:
                break  # longer than recorded: a mismatch, and no reason to fill the disk
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), n


def read_verified(archive: Path, staging: Path) -> VerifiedArchive:
    """Check every member of ``archive`` against SHA256SUMS and the manifest, unpacking it into ``staging``.

    Nothing outside ``staging`` is touched, so a corrupted or truncated archive is refused before the
    database or the files change.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise _unreadable(archive, str(exc)) from exc
    except OSError as exc:
        raise _unreadable(archive, exc.strerror or str(exc)) from exc
    with zf:
        names = zf.namelist()
        if MANIFEST not in names or CHECKSUMS not in names:
            raise BackupError("archive_unsupported",
                              f"{archive.name} は gunmane のバックアップではありません（{MANIFEST} または {CHECKSUMS} が"
                              "ありません）。何も変更していません。",
                              f"{archive.name} is not a gunmane backup (no {MANIFEST} or {CHECKSUMS}). Nothing was changed.")
        if len(set(names)) != len(names):
            raise _corrupt(archive, "zip", "duplicate member names")
        current = CHECKSUMS
        try:
            sums = _parse_sums(_read_small(zf, CHECKSUMS).decode("utf-8"))
            current = MANIFEST
            manifest_bytes = _read_small(zf, MANIFEST)
            if hashlib.sha256(manifest_bytes).hexdigest() != sums.get(MANIFEST):
                raise ValueError("SHA-256 mismatch")
            manifest = json.loads(manifest_bytes)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, UnicodeDecodeError, OSError) as exc:
            raise _corrupt(archive, current, str(exc)) from exc
        _check_format(archive, manifest)
        _check_shape(archive, manifest)
        expected = _expected_members(archive, manifest, sums)
        if set(names) != set(sums) | {CHECKSUMS}:
            extra = sorted(set(names) - set(sums) - {CHECKSUMS})
            missing = sorted(set(sums) - set(names))
            raise _corrupt(archive, (extra + missing)[0], "member not listed in SHA256SUMS" if extra else "member missing")
        staging.mkdir(parents=True, exist_ok=True)
        members = []
        for name, size in expected.items():
            dest = staging / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(name) as src:
                    digest, n = _copy_verified(src, dest, size)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                raise _corrupt(archive, name, str(exc)) from exc
            if n != size:
                raise _corrupt(archive, name, f"size {n} != {size} bytes")
            if digest != sums[name]:
                raise _corrupt(archive, name, "SHA-256 mismatch")
            members.append(Member(name, size, digest))
    return VerifiedArchive(manifest, staging, tuple(members))


def _check_format(archive: Path, manifest: Any) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("archive_unsupported",
                          f"{archive.name} は gunmane のバックアップではありません。何も変更していません。",
                          f"{archive.name} is not a gunmane backup. Nothing was changed.")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError("archive_too_new",
                          f"{archive.name} は新しい版の gunmane（{manifest.get('gunmane_version')}）で作られた形式"
                          f"（{version}）です。この gunmane を更新してから復元してください。何も変更していません。",
                          f"{archive.name} uses backup format {version} from a newer gunmane "
                          f"({manifest.get('gunmane_version')}). Upgrade gunmane first. Nothing was changed.")


def _check_shape(archive: Path, manifest: dict[str, Any]) -> None:
    """The parts restore relies on have the types it expects (a hand-edited manifest fails here, not later)."""
    try:
        db = manifest["database"]
        ok = (isinstance(db, dict) and isinstance(db.get("vendor"), str) and isinstance(db.get("dump"), dict)
              and isinstance(manifest["migrations"]["applied"], dict)
              and all(isinstance(v, list) and all(isinstance(n, str) for n in v)
                      for v in manifest["migrations"]["applied"].values())
              and isinstance(manifest["tables"], dict)
              and all(isinstance(k, str) and isinstance(v, int) for k, v in manifest["tables"].items())
              and isinstance(manifest["files"], list))
    except (KeyError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise _corrupt(archive, MANIFEST, "unexpected structure")


def _expected_members(archive: Path, manifest: dict[str, Any], sums: dict[str, str]) -> dict[str, int]:
    """Every member the manifest promises (name → size), each agreeing with SHA256SUMS and safe to unpack."""
    expected: dict[str, int] = {}
    try:
        db = manifest["database"]
        entries = [db["dump"], *([db["portable"]] if db.get("portable") else [])]
        entries += [{**f, "path": media_member(f["path"])} for f in manifest["files"]]
        for entry in entries:
            name, size, digest = entry["path"], int(entry["size"]), entry["sha256"]
            if safe_relative(name) is None or not name.startswith((f"{DATABASE_DIR}/", f"{MEDIA_DIR}/")):
                raise ValueError(f"unsafe member name {name!r}")
            if sums.get(name) != digest:
                raise ValueError(f"{name}: manifest and {CHECKSUMS} disagree")
            expected[name] = size
    except (KeyError, TypeError, ValueError) as exc:
        raise _corrupt(archive, MANIFEST, str(exc)) from exc
    if set(expected) | {MANIFEST} != set(sums):
        raise _corrupt(archive, MANIFEST, f"{CHECKSUMS} lists members the manifest does not")
    return expected
