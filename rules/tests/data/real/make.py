"""Benign fixtures written by real NumPy and joblib (versions in README.md): the scanner must
find nothing but TL903 (pickle-format file) in them. Run from this directory:
    python3 make.py
Only plain data objects are saved; nothing here defines or pickles code."""
import collections
import pickle

import joblib
import numpy as np

rng = np.random.default_rng(7)
arrays = {
    "f8": rng.standard_normal((4, 3)),
    "i4": np.arange(10, dtype=np.int32),
    "u5": np.array(["alpha", "beta", "gamma"]),
    "s3": np.array([b"abc", b"de"], dtype="S3"),
    "bool": np.array([True, False]),
    "structured": np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8", (2,))]),
    "fortran": np.asfortranarray(rng.standard_normal((3, 5))),
    "empty": np.zeros((0, 4)),
    "datetime": np.array(["2024-01-01", "2024-06-30"], dtype="datetime64[ns]"),
}
state = collections.OrderedDict(
    (name, array) for name, array in arrays.items()
)
state["meta"] = {"epoch": 3, "lr": 0.001, "tags": {"a", "b"}, "range": slice(1, 5)}

for protocol in range(0, 6):
    with open(f"state.p{protocol}.pkl", "wb") as f:
        pickle.dump(state, f, protocol=protocol)

joblib.dump(state, "state.joblib")
joblib.dump(state, "state.zlib.joblib", compress=3)
joblib.dump(state, "state.gzip.joblib", compress=("gzip", 3))
np.save("floats.npy", arrays["f8"])
np.save("objects.npy", np.array([{"a": 1}, [1, 2]], dtype=object), allow_pickle=True)
np.savez_compressed("arrays.npz", **{k: v for k, v in arrays.items() if k != "datetime"})
