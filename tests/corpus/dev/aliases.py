"""Every way a dangerous callable gets another name."""
import functools
import importlib
import _pickle as cp
import torch as th
import yaml as y
from torch import load as tl
from yaml import FullLoader as FL

loader = cp.loads
state = loader(blob)  # expect: TL101
weights = tl("model.pt")  # expect: TL110
get = getattr(th, "load")
ckpt = get("ckpt.pt")  # expect: TL110
mod = importlib.import_module("pickle")
obj = mod.load(open("cache.pkl", "rb"))  # expect: TL101
cpu_load = functools.partial(th.load, map_location="cpu")
sd = cpu_load("x.pt")  # expect: TL110
safe_load = functools.partial(th.load, weights_only=True)
sd2 = safe_load("x.pt")
cfg = y.load(text, Loader=FL)  # expect: TL204
cfg2 = y.load(text, y.SafeLoader)
cfg3 = y.load(  # expect: TL202
    text,
    Loader=y.UnsafeLoader,
)  # (the finding starts on the call's first line)
