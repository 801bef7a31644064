"""Datasets: the plant-camera defect set plus legacy CIFAR-style batches."""
from __future__ import annotations

import _pickle as cPickle
import io
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image
from torch.utils.data import Dataset
from torchvision import transforms as T

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def default_transform(train: bool) -> T.Compose:
    aug = [T.RandomResizedCrop(224), T.RandomHorizontalFlip()] if train else [T.Resize(256), T.CenterCrop(224)]
    return T.Compose(aug + [T.ToTensor(), T.Normalize(MEAN, STD)])


class DefectDataset(Dataset):
    """Images on disk, labels in ``index.pkl`` (a pickled DataFrame from the labelling tool)."""

    def __init__(self, root: str | Path, split: str = "train") -> None:
        self.root = Path(root)
        index = pd.read_pickle(self.root / "index.pkl")
        self.items = index[index["split"] == split].reset_index(drop=True)
        self.tf = default_transform(split == "train")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        row = self.items.iloc[i]
        img = Image.open(self.root / row["path"]).convert("RGB")
        return self.tf(img), int(row["label"])


class EmbeddingCache(Dataset):
    """Pre-computed embeddings; metadata is an object array stored alongside."""

    def __init__(self, path: str | Path) -> None:
        self.emb = np.load(Path(path) / "emb.npy")
        self.meta = np.load(Path(path) / "meta.npy", allow_pickle=True)

    def __len__(self) -> int:
        return len(self.emb)

    def __getitem__(self, i: int):
        return torch.from_numpy(self.emb[i]), self.meta[i]


def load_cifar_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as fo:
        d = cPickle.load(fo, encoding="bytes")
    x = d[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return x, np.asarray(d[b"labels"])


def load_npz_features(blob: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(blob)) as z:
        return {k: z[k] for k in z.files}


def load_labels_csv(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"label": "int64"})
