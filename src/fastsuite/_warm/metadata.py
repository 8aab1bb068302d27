"""The installed distributions' metadata files, read once by the zygote instead of every run.

Pytest scans every distribution's entry points once for each `-p` plugin (pluggy's
load_setuptools_entrypoints), and lists its plugins' distributions: each scan opens a file in
each of some hundred `.dist-info` folders (most of them to find it missing), several
milliseconds a scan. The zygote reads those files (entry_points.txt, METADATA) once and its
children get the same text from memory (`importlib.metadata.PathDistribution.read_text`, the
method every such read goes through): what the files held when the zygote stamped them, and a
stamp that changes (a file edited, added or removed; a distribution installed or removed)
makes the zygote refuse and restart, as for any preloaded file. Only folders in the
environment's site-packages and standard library are kept (the project's are read as usual).

PYTEST_DONT_REWRITE: fastsuite-warm preloads this module (see fastsuite._warm.learning).
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Iterable

from fastsuite._warm import checks

_FILES = ("entry_points.txt", "METADATA")

# (a .dist-info folder, a file name): the file's text, or None where it does not exist.
_texts: dict[tuple[str, str], str | None] = {}
_read_from_disk = importlib.metadata.PathDistribution.read_text


def _read_text(
    self: importlib.metadata.PathDistribution, filename: str | os.PathLike[str]
) -> str | None:
    try:
        return _texts[(str(self._path), str(filename))]
    except KeyError:
        return _read_from_disk(self, filename)


def remember(folders: Iterable[str], roots: tuple[str, ...]) -> dict[str, checks.Stamp | None]:
    """Read and keep the metadata files of the distributions in `folders` that lie under
    `roots`; the stamps, taken before the reads, of what they were read from."""
    _texts.clear()
    stamps: dict[str, checks.Stamp | None] = {}
    absolute = [folder for folder in folders if os.path.isabs(folder)]
    for distribution in importlib.metadata.distributions(path=absolute):
        path = getattr(distribution, "_path", None)
        if type(distribution) is not importlib.metadata.PathDistribution or path is None:
            continue
        folder = str(path)
        if not folder.startswith(roots) or not os.path.isdir(folder):
            continue
        # The folder's stamp covers a file added or removed; each file's, an edit in place.
        stamps[folder] = checks.stamp(folder)
        for filename in _FILES:
            stamps[os.path.join(folder, filename)] = checks.stamp(os.path.join(folder, filename))
        for filename in _FILES:
            _texts[(folder, filename)] = _read_from_disk(distribution, filename)
    importlib.metadata.PathDistribution.read_text = _read_text  # type: ignore[method-assign]
    return stamps
