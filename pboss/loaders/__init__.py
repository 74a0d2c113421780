"""Loaders: the native interchange format, partner feed mappings, validation, the streaming bulk
loader (atomic, idempotent, with a drift report), export, and the synthetic metro generator.
"""

from pboss.loaders.export import export_bundle
from pboss.loaders.issues import LoadError, LoadRefused, RowIssue
from pboss.loaders.loader import Loader, LoadOptions, NativeSource, load_directory, load_paths
from pboss.loaders.report import LoadReport

__all__ = [
    "LoadError",
    "LoadOptions",
    "LoadRefused",
    "LoadReport",
    "Loader",
    "NativeSource",
    "RowIssue",
    "export_bundle",
    "load_directory",
    "load_paths",
]
