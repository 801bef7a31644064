"""Train the surface-defect classifier.

    torchrun --nproc_per_node 4 -m visiontrain.train --config configs/resnet50.yaml
"""
from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler

from visiontrain import checkpoint, models
from visiontrain.config import load_config
from visiontrain.data import DefectDataset
from visiontrain.distributed import sync_metrics, is_main
from visiontrain.upload import publish_model

log = logging.getLogger("visiontrain")
EXPORT_DIR = "/tmp/visiontrain-export"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--config", type=Path, required=True)
    p.add_argument("--resume", type=Path, default=None)
    p.add_argument("--epochs", type=int, default=None)
    return p.parse_args()


def train_one_epoch(model, loader, optim, scaler, device) -> float:
    model.train()
    crit = nn.CrossEntropyLoss(label_smoothing=0.1)
    total, n = 0.0, 0
    for images, labels in loader:
        images, labels = images.to(device, non_blocking=True), labels.to(device)
        optim.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = crit(model(images), labels)
        scaler.scale(loss).backward()
        scaler.step(optim)
        scaler.update()
        total += loss.item() * images.size(0)
        n += images.size(0)
    return total / max(n, 1)


@torch.no_grad()
def evaluate(model, loader, device) -> float:
    model.eval()
    correct = seen = 0
    for images, labels in loader:
        pred = model(images.to(device)).argmax(1).cpu()
        correct += (pred == labels).sum().item()
        seen += labels.numel()
    return correct / max(seen, 1)


def main() -> None:
    args = parse_args()
    cfg = load_config(args.config)
    dist.init_process_group("nccl")
    rank = dist.get_rank()
    device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    torch.cuda.set_device(device)

    model = models.build(cfg["model"]["name"], **cfg["model"].get("kwargs", {})).to(device)
    optim = torch.optim.AdamW(model.parameters(), lr=cfg["optim"]["lr"], weight_decay=0.05)
    start_epoch = 0
    if args.resume:
        state = torch.load(args.resume, map_location=device)
        model.load_state_dict(state["model"])
        optim.load_state_dict(state["optim"])
        start_epoch = state["epoch"] + 1

    model = DDP(model, device_ids=[device.index])
    train_ds = DefectDataset(cfg["data"]["root"], split="train")
    val_ds = DefectDataset(cfg["data"]["root"], split="val")
    train_dl = DataLoader(train_ds, batch_size=cfg["batch_size"], sampler=DistributedSampler(train_ds), num_workers=8)
    val_dl = DataLoader(val_ds, batch_size=cfg["batch_size"], num_workers=4)
    scaler = torch.cuda.amp.GradScaler()

    epochs = args.epochs or cfg["epochs"]
    best = 0.0
    for epoch in range(start_epoch, epochs):
        t0 = time.time()
        loss = train_one_epoch(model, train_dl, optim, scaler, device)
        acc = evaluate(model, val_dl, device)
        metrics = sync_metrics({"loss": loss, "acc": acc, "epoch": epoch})
        if is_main():
            log.info("epoch %d loss %.4f acc %.4f (%.0fs)", epoch, metrics["loss"], metrics["acc"], time.time() - t0)
            ckpt_path = Path(cfg["out_dir"]) / f"epoch_{epoch:03d}.pt"
            checkpoint.save_checkpoint(model.module, optim, epoch, ckpt_path)
            if metrics["acc"] > best:
                best = metrics["acc"]
                torch.save(model.module.state_dict(), Path(cfg["out_dir"]) / "best.pt")

    if rank == 0:
        os.makedirs(EXPORT_DIR, exist_ok=True)
        final = os.path.join(EXPORT_DIR, "model_full.pt")
        torch.save(model.module, final)
        publish_model(final, cfg["model"]["name"])
    dist.destroy_process_group()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
