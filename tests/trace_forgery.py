"""Helpers for tests of untrusted trace files: a good trace, rewritten with chosen arrays/metadata
(optionally with a recomputed digest, as an adversary who knows the format would), and zip
directories patched to announce other sizes."""
import json
import struct
import zipfile
from pathlib import Path

import numpy as np

from convcheck import run
from convcheck.trace_schema import ARRAY_NAMES, DIGEST_KEY, content_digest

GOOD_RUN = dict(problem="quadratic:n=3,seed=0", method="gd", iters=40, step=0.05)


def good_trace_file(folder: Path, name: str = "good.npz", **changes) -> Path:
    return run(**{**GOOD_RUN, **changes}).save(Path(folder) / name)


def read_raw(path: Path):
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: np.array(data[name]) for name in ARRAY_NAMES}
        meta = json.loads(str(data["metadata_json"]))
    return arrays, meta


def write_raw(path: Path, arrays: dict, meta, redigest: bool = True, raw_json: str = None) -> Path:
    """Write ``arrays`` and ``meta`` as a trace file; ``redigest`` recomputes a matching digest;
    ``raw_json`` is stored as the metadata text instead, verbatim."""
    if redigest and isinstance(meta, dict):
        meta = dict(meta)
        meta.pop(DIGEST_KEY, None)
        meta = json.loads(json.dumps(meta, allow_nan=True))
        try:
            meta[DIGEST_KEY] = content_digest(meta, arrays)
        except (TypeError, ValueError, AttributeError):
            pass  # arrays that cannot be digested: the reader must refuse them anyway
    members = dict(arrays)
    members["metadata_json"] = np.array(raw_json if raw_json is not None else json.dumps(meta, allow_nan=True))
    np.savez(path, **members)
    return Path(path)


def announce_size(path: Path, member: str, size: int) -> None:
    """Patch the zip central directory so that ``member`` announces ``size`` uncompressed bytes."""
    raw = bytearray(Path(path).read_bytes())
    with zipfile.ZipFile(path) as archive:
        names = [info.filename for info in archive.infolist()]
    offset = 0
    while True:
        offset = raw.find(b"PK\x01\x02", offset)
        assert offset >= 0, member
        name_length = struct.unpack_from("<H", raw, offset + 28)[0]
        name = raw[offset + 46: offset + 46 + name_length].decode()
        if name == f"{member}.npy":
            if size >= 2 ** 32:  # needs ZIP64: announce the largest plain size instead
                size = 2 ** 32 - 1
            struct.pack_into("<I", raw, offset + 24, size)
            break
        offset += 4
    assert f"{member}.npy" in names
    Path(path).write_bytes(bytes(raw))
