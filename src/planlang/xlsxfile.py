"""Saving a workbook so that the same workbook gives the same bytes, run after run.

openpyxl stamps the time of saving into a workbook's properties (``docProps/core.xml``: created and
modified) and into every member of its zip, so two runs on the same inputs made different files,
and neither a hash nor ``cmp`` could tell a changed figure from a later run. The time written is
fixed instead: that of the ``SOURCE_DATE_EPOCH`` environment variable (seconds since 1970-01-01
UTC, the reproducible-builds convention) when it is set, else 1980-01-01 00:00 UTC, the earliest
a zip file can record. A receipt (``--receipt``) records when a run was made.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import zipfile

from .diagnostics import UsageError

__all__ = ["save_workbook", "saved_at", "put_text", "EPOCH_VARIABLE"]

EPOCH_VARIABLE = "SOURCE_DATE_EPOCH"
_UNIX = dt.datetime(1970, 1, 1)
_FIRST = dt.datetime(1980, 1, 1)  # a zip's dates run from 1980 to 2107
_SECONDS = (int((_FIRST - _UNIX).total_seconds()), int((dt.datetime(2107, 12, 31, 23, 59, 58) - _UNIX).total_seconds()))


def saved_at() -> dt.datetime:
    """The time written into every workbook (UTC, naive as openpyxl wants it)."""
    text = os.environ.get(EPOCH_VARIABLE)
    if text is None:
        return _FIRST
    if not (text.isascii() and text.isdigit() and _SECONDS[0] <= int(text) <= _SECONDS[1]):
        raise UsageError(f"expected a whole number of seconds since 1970 from {_SECONDS[0]:,} to {_SECONDS[1]:,} "
                         f"(1980 to 2107, the years a zip file can record), found {text!r}", EPOCH_VARIABLE,
                         f"unset {EPOCH_VARIABLE} to write 1980-01-01")
    return _UNIX + dt.timedelta(seconds=int(text))


_FORMULA_START = ("=", "+", "-", "@")


def put_text(cell, value) -> None:
    """Put a value read from someone's data (a code, a name, a heading) in a cell: text stays text.

    Text that Excel would run as a formula (``=HYPERLINK(...)``, ``@SUM``, ``+cmd``) or read as an
    error code is stored as a string and shown with a quote prefix, never as a formula.
    """
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        cell.quotePrefix = value.startswith(_FORMULA_START)


def save_workbook(book, path: str) -> None:
    """Save an openpyxl workbook to ``path``, stamped with :func:`saved_at` throughout."""
    from openpyxl.writer.excel import ExcelWriter

    when = saved_at()
    book.properties.created = book.properties.modified = when
    # opened here, write-only: zipfile would open a path read-write first, and a named pipe opened so
    # hands its reader an end of file before the workbook is written (then waits for a reader forever)
    with open(path, "wb") as stream, _StampedZip(stream, "w", zipfile.ZIP_DEFLATED, allowZip64=True,
                                                 date_time=when.timetuple()[:6]) as archive:
        ExcelWriter(book, archive).save()


class _StampedZip(zipfile.ZipFile):
    """A zip whose every member has the same time and permissions, whenever and from whatever it was written."""

    def __init__(self, *args, date_time: tuple, **options):
        self._date_time = date_time
        super().__init__(*args, **options)

    def _member(self, name: str, size: int = 0) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self._date_time)
        info.compress_type = self.compression
        info.external_attr = 0o600 << 16  # as writestr gives a member named by a string
        info.file_size = size
        return info

    def writestr(self, name, data, compress_type=None, compresslevel=None) -> None:
        if not isinstance(name, zipfile.ZipInfo):
            name = self._member(name)
        super().writestr(name, data, compress_type, compresslevel)

    def write(self, filename, arcname=None) -> None:
        # openpyxl writes each worksheet to a temporary file first: ZipFile.write would record that file's time
        info = self._member(arcname or os.path.basename(filename), os.path.getsize(filename))
        with open(filename, "rb") as source, self.open(info, "w") as member:
            shutil.copyfileobj(source, member, 1 << 20)
