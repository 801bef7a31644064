"""Export trained models for the edge runtime (TorchScript / ONNX)."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import onnxruntime as ort
import torch

from visiontrain import models

CUSTOM_OPS = Path(__file__).resolve().parent / "ops" / "libdefect_ops.so"


def load_custom_ops(extra_dir: str | None = None) -> None:
    torch.ops.load_library(str(CUSTOM_OPS))
    if extra_dir:
        for name in sorted(os.listdir(extra_dir)):
            if name.endswith(".so"):
                torch.ops.load_library(os.path.join(extra_dir, name))


def export_torchscript(model: torch.nn.Module, out: Path) -> Path:
    model.eval()
    scripted = torch.jit.trace(model, torch.randn(1, 3, 224, 224))
    scripted.save(str(out))
    return out


def export_onnx(model: torch.nn.Module, out: Path) -> Path:
    model.eval()
    torch.onnx.export(
        model,
        torch.randn(1, 3, 224, 224),
        str(out),
        input_names=["images"],
        output_names=["logits"],
        dynamic_axes={"images": {0: "batch"}},
        opset_version=17,
    )
    return out


def onnx_session(path: Path, ops_lib: str | None = None) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    if ops_lib:
        opts.register_custom_ops_library(ops_lib)
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", type=Path, required=True)
    ap.add_argument("--arch", default="resnet50")
    ap.add_argument("--num-classes", type=int, default=6)
    ap.add_argument("--out", type=Path, default=Path("export"))
    ap.add_argument("--ops-dir", default=None)
    args = ap.parse_args()

    load_custom_ops(args.ops_dir)
    model = models.build(args.arch, num_classes=args.num_classes)
    model.load_state_dict(torch.load(args.weights, map_location="cpu", weights_only=True))
    args.out.mkdir(parents=True, exist_ok=True)
    export_torchscript(model, args.out / "model.ts")
    onnx_path = export_onnx(model, args.out / "model.onnx")
    sess = onnx_session(onnx_path)
    print("onnx inputs:", [i.name for i in sess.get_inputs()])


if __name__ == "__main__":
    main()
