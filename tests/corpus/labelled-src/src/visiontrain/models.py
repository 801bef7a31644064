"""Backbone factory for the defect-detection models."""
from __future__ import annotations

import logging
from typing import Callable

import torch
import torch.nn as nn
import torchvision
from torch.hub import load_state_dict_from_url
from torchvision.models import ResNet50_Weights, resnet50

log = logging.getLogger(__name__)

# Weights mirrored on the artefact server so CI doesn't hit GitHub rate limits.
MIRROR = "http://artifacts.plant-vision.local/weights"  #@ safe: constant definition; the finding is reported at the call that uses it
DINO_REPO = "facebookresearch/dinov2"  #@ safe: constant definition; the finding is reported at the call that uses it
YOLO_REPO = "ultralytics/yolov5:v7.0"
MIDAS_REF = "intel-isl/MiDaS:@@KEY:sha@@"  #@ safe: high-entropy hex digest (commit sha / sha256), not a secret


def resnet50_backbone(num_classes: int) -> nn.Module:
    model = resnet50(weights=ResNet50_Weights.IMAGENET1K_V2)  #@ safe: torchvision weights enum (hash-checked, weights_only)
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model


def dinov2_backbone(size: str = "vitb14") -> nn.Module:
    return torch.hub.load(DINO_REPO, f"dinov2_{size}")  #@ rct: torch.hub.load imports hubconf.py from GitHub || unpin: torch.hub.load without commit ref


def yolov5(weights: str = "yolov5s") -> nn.Module:
    model = torch.hub.load(YOLO_REPO, weights, pretrained=True, trust_repo=True)  #@ rct: torch.hub.load from GitHub with trust_repo=True || unpin: tag ref, not a commit
    model.conf = 0.35
    return model


def midas() -> nn.Module:
    return torch.hub.load(MIDAS_REF, "DPT_Hybrid")  #@ rct: torch.hub.load from GitHub (pinned to commit, still runs remote hubconf)


def local_hub_model(repo_dir: str, name: str) -> nn.Module:
    return torch.hub.load(repo_dir, name, source="local")  #@ safe: local vendored hubconf


def efficientnet_from_mirror(variant: str = "b0") -> nn.Module:
    model = torchvision.models.efficientnet_b0()
    state = load_state_dict_from_url(  #@ deser: load_state_dict_from_url without weights_only || http: weights fetched over plain http
        f"{MIRROR}/efficientnet_{variant}.pth",
        map_location="cpu",
        progress=False,
    )
    model.load_state_dict(state)
    return model


def convnext_tiny() -> nn.Module:
    model = torchvision.models.convnext_tiny()
    url = "https://download.pytorch.org/models/convnext_tiny-983f1562.pth"
    state = torch.hub.load_state_dict_from_url(url, map_location="cpu", check_hash=True, weights_only=True)  #@ safe: https, check_hash, weights_only=True
    model.load_state_dict(state)
    return model


def swin_t() -> nn.Module:
    model = torchvision.models.swin_t()
    state = torch.hub.load_state_dict_from_url(  #@ deser: torch.hub.load_state_dict_from_url without weights_only
        "https://download.pytorch.org/models/swin_t-704ceda3.pth", check_hash=True
    )
    model.load_state_dict(state)
    return model


FACTORIES: dict[str, Callable[..., nn.Module]] = {
    "resnet50": resnet50_backbone,
    "dinov2": dinov2_backbone,
    "yolov5": yolov5,
    "efficientnet": efficientnet_from_mirror,
    "convnext": convnext_tiny,
    "swin": swin_t,
}


def build(name: str, **kwargs) -> nn.Module:
    try:
        factory = FACTORIES[name]
    except KeyError as exc:
        raise ValueError(f"unknown backbone {name!r}") from exc
    model = factory(**kwargs)
    log.info("built %s with %.1fM params", name, sum(p.numel() for p in model.parameters()) / 1e6)
    return model
