"""Reading a data file: the reader is picked by the file's suffix, after the checks every file gets."""

from __future__ import annotations

import os
from pathlib import Path

from ..diagnostics import InputError
from ..files import MAX_DATA_BYTES
from .columnar import load_columnar
from .dataset import Dataset
from .excel import load_xlsx
from .json import load_json

__all__ = ["load_data", "DATA_SUFFIXES"]

DATA_SUFFIXES = "a .json, .xlsx, .csv or .parquet"
# each reader takes (path, its name as the user wrote it, the program, the largest file it reads)
_READERS = {".json": load_json, ".xlsx": load_xlsx, ".csv": load_columnar, ".parquet": load_columnar}


def load_data(path: str | os.PathLike, program, *, max_bytes: int = MAX_DATA_BYTES,
              mapping: str | os.PathLike | None = None) -> Dataset:
    """Read a ``.json``, ``.xlsx``, ``.csv`` or ``.parquet`` data file for a compiled policy, checking every value.

    Only regular files of at most ``max_bytes`` are read (``run --max-data-mb`` raises it). A
    ``.csv`` or ``.parquet`` file holds values in long form, its organisations in a file beside it
    (:mod:`planlang.data.columnar`). With ``mapping`` (a TOML file, :mod:`planlang.data.mapping`),
    an ``.xlsx`` workbook in any layout is read through it.
    """
    if mapping is not None:
        from .mapping import load_mapped

        return load_mapped(path, mapping, program, max_bytes)
    display = os.fspath(path)
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        folder, exists = path.is_dir(), path.exists()
    except OSError as error:  # a name the system cannot even look up (too long, a loop of links)
        raise InputError(f"cannot be read: {error.strerror or error}", display) from None
    if folder:
        raise InputError("is a folder, not a data file", display, f"give {DATA_SUFFIXES} data file")
    if suffix not in _READERS:
        kind = f"{suffix} files" if suffix else "files without a .json, .xlsx, .csv or .parquet suffix"
        raise InputError(f"cannot read {kind}", display,
                         f"give {DATA_SUFFIXES} data file" + (" (save the workbook as .xlsx)" if suffix in (".xls", ".xlsm") else ""))
    if not exists:
        raise InputError("no such file", display)
    return _READERS[suffix](path, display, program, max_bytes)

