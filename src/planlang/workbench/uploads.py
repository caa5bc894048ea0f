"""Data uploaded in the page: read as the command line reads ``--data``, held in memory, a few at a time.

An upload is one data file (``.json``, ``.xlsx``, ``.csv`` or ``.parquet``) with, for ``.csv`` and
``.parquet``, the companions it names (``NAME.organisations.csv``, ``NAME.submissions.csv``). The
readers take a path, so the files are written into a folder of their own inside the workbench's
private temporary folder (``tempfile.mkdtemp``: readable by this user only), under their base names
checked against a short pattern -- never a path the browser chose. They stay there while the upload
is held (a receipt hashes the file it was read from) and are deleted when it is dropped: the
workbench keeps the last :data:`MAX_UPLOADS`, and the whole folder goes when the server stops.

Workbooks are opened as :mod:`planlang.data.excel` opens every untrusted workbook (size-checked, no
zip bomb, defusedxml, read-only, links not followed). Problems are the command line's, placed in
the file by its own name, with the temporary folder left out.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

import attrs

from planlang.diagnostics import InputError

__all__ = ["Uploads", "Upload", "MAX_UPLOAD_BYTES", "MAX_UPLOADS", "SUFFIXES"]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # the files of one upload together, decoded
MAX_UPLOADS = 8  # uploads held at once; the oldest is dropped first
MAX_FILES = 3  # a data file and its two companions
SUFFIXES = (".json", ".xlsx", ".csv", ".parquet")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,150}")
_COMPANION = re.compile(r"\.(organisations|submissions)$")


class UploadError(Exception):
    """An upload refused: the HTTP ``status``, the message and the file it is about."""

    def __init__(self, status: int, message: str, file: str | None = None, problems: list[str] | None = None):
        super().__init__(message)
        self.status, self.file, self.problems = status, file, problems or []


@attrs.frozen
class Upload:
    """One upload held: its id (what a request's ``data`` field names), the data file's name and the dataset."""

    id: str
    name: str
    dataset: object
    folder: Path = attrs.field(repr=False)


class Uploads:
    """The uploads held for a pack, the newest last; ``add`` reads one, ``get`` finds one by id."""

    def __init__(self, pack, root: Path):
        self.pack, self.root = pack, root
        self._held: OrderedDict[str, Upload] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, body) -> Upload:
        """Read ``{"files": [{"name": NAME, "content": BASE64}, ...]}``: one data file and its companions."""
        files = _files(body)
        data = [name for name in files if not _COMPANION.search(Path(name).stem)]
        if len(data) != 1:
            raise UploadError(422, "give one data file (with, for .csv or .parquet, its .organisations and "
                                   f".submissions files); found {len(data)}: {', '.join(data) or 'only companions'}")
        name = data[0]
        folder = Path(tempfile.mkdtemp(prefix="upload-", dir=self.root))
        try:
            for each, content in files.items():
                with open(folder / each, "xb") as stream:  # x: never over a file already there
                    stream.write(content)
            dataset = self.pack.load_data(folder / name, max_mb=max(1, MAX_UPLOAD_BYTES // (1024 * 1024)))
        except InputError as error:
            shutil.rmtree(folder, ignore_errors=True)
            problems = [self.plain(str(x)) for x in getattr(error, "errors", ())]
            raise UploadError(422, self.plain(error.summary if problems else str(error)), name, problems) from None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        upload = Upload(secrets.token_urlsafe(16), name, dataset, folder)
        with self._lock:
            self._held[upload.id] = upload
            while len(self._held) > MAX_UPLOADS:
                _, dropped = self._held.popitem(last=False)
                shutil.rmtree(dropped.folder, ignore_errors=True)
        return upload

    def get(self, upload_id: str) -> Upload | None:
        with self._lock:
            upload = self._held.get(upload_id)
            if upload is not None:
                self._held.move_to_end(upload_id)
            return upload

    def plain(self, text: str) -> str:
        """``text`` with the temporary folders left out: a problem names the file as the user called it."""
        return re.sub(re.escape(str(self.root)) + r"[/\\]upload-[^/\\]+[/\\]", "", text)


def _files(body) -> dict[str, bytes]:
    if not isinstance(body, dict) or set(body) != {"files"} or not isinstance(body["files"], list):
        raise UploadError(400, 'expected {"files": [{"name": NAME, "content": BASE64}, ...]}')
    if not 1 <= len(body["files"]) <= MAX_FILES:
        raise UploadError(400, f"give from 1 to {MAX_FILES} files (a data file and its companions)")
    files, size = {}, 0
    for item in body["files"]:
        if not isinstance(item, dict) or set(item) != {"name", "content"} or not all(
                isinstance(item[k], str) for k in item):
            raise UploadError(400, "each file is {\"name\": NAME, \"content\": BASE64}")
        name = item["name"].replace("\\", "/").rpartition("/")[2]
        if not _NAME.fullmatch(name) or ".." in name:
            raise UploadError(422, "a file's name is letters, digits, spaces and ._()+- (up to 150)", name[:150])
        if Path(name).suffix.lower() not in SUFFIXES:
            raise UploadError(422, "cannot read this kind of file: give a .json, .xlsx, .csv or .parquet data file"
                                   + (" (save the workbook as .xlsx)" if Path(name).suffix.lower() in (".xls", ".xlsm") else ""),
                              name)
        if name in files:
            raise UploadError(422, "two files have this name", name)
        try:
            content = base64.b64decode(item["content"], validate=True)
        except (binascii.Error, ValueError):
            raise UploadError(400, "the file's content is not base64", name) from None
        size += len(content)
        if size > MAX_UPLOAD_BYTES:
            raise UploadError(413, f"the upload is larger than the {MAX_UPLOAD_BYTES // (1024 * 1024)} MB allowed", name)
        files[name] = content
    return files
