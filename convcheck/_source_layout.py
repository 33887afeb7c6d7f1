"""Import from a source checkout.

The installed package maps the top-level folders ``problems/``, ``properties/`` and ``reports/`` to
``convcheck.problems``, ``convcheck.properties`` and ``convcheck.reports`` (setup.cfg ``package_dir``;
PyPI already has top-level packages of those names). At the repository root, ``python -c ...`` and
``python -m pytest`` put the checkout first on ``sys.path``, so the source folder ``convcheck/`` is
imported instead of the installed package, and it has no such subfolders. This finder gives the source
folder the same mapping, so both ways of importing load the same files.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys

MAPPED_FOLDERS = ("problems", "properties", "reports")


class SourceCheckoutFinder(importlib.abc.MetaPathFinder):
    """Finds ``convcheck.<folder>`` in ``<root>/<folder>`` for the mapped folders only."""

    def __init__(self, root: str):
        self.root = root

    def find_spec(self, fullname, path=None, target=None):
        package, _, folder = fullname.partition(".")
        if package != "convcheck" or folder not in MAPPED_FOLDERS:
            return None
        init = os.path.join(self.root, folder, "__init__.py")
        if not os.path.isfile(init):
            return None
        return importlib.util.spec_from_file_location(
            fullname, init, submodule_search_locations=[os.path.dirname(init)])


def install_if_source_checkout(package_dir: str) -> bool:
    """Register the finder when ``package_dir`` is the checkout's ``convcheck/`` folder.

    An installed package has the mapped folders inside it and needs nothing; a checkout is recognized by
    ``setup.cfg`` and the mapped folders beside ``convcheck/``. Returns whether the finder was added.
    """
    if os.path.isdir(os.path.join(package_dir, MAPPED_FOLDERS[0])):
        return False
    root = os.path.dirname(os.path.abspath(package_dir))
    if not os.path.isfile(os.path.join(root, "setup.cfg")):
        return False
    if not all(os.path.isfile(os.path.join(root, f, "__init__.py")) for f in MAPPED_FOLDERS):
        return False
    if any(isinstance(finder, SourceCheckoutFinder) for finder in sys.meta_path):
        return False
    sys.meta_path.insert(0, SourceCheckoutFinder(root))
    return True
