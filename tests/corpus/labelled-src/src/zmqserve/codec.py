"""Wire codecs for tensors between the feature service and the workers."""
from __future__ import annotations

import io
from typing import Any

import msgpack
import msgpack_numpy as m  #@ safe: import alone is not a finding (the unsafe call is labelled)
import numpy as np

HEADER = b"TNSR"


def encode(obj: Any) -> bytes:
    return msgpack.packb(obj, default=m.encode, use_bin_type=True)


def decode(blob: bytes) -> Any:
    return msgpack.unpackb(blob, object_hook=m.decode, raw=False)  #@ deser: msgpack with msgpack_numpy.decode (object arrays are pickled)


def decode_plain(blob: bytes) -> Any:
    return msgpack.unpackb(blob, raw=False)  #@ safe: plain msgpack


def encode_array(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    buf.write(HEADER)
    np.save(buf, arr, allow_pickle=False)  #@ safe: allow_pickle=False
    return buf.getvalue()


def decode_array(blob: bytes) -> np.ndarray:
    if not blob.startswith(HEADER):
        raise ValueError("bad frame")
    return np.load(io.BytesIO(blob[len(HEADER):]), allow_pickle=False)  #@ safe: allow_pickle=False


def decode_legacy_array(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=True)  #@ deser: np.load(allow_pickle=True) on wire bytes
