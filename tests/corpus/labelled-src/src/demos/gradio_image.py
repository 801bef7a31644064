"""Image captioning + classification playground."""
from __future__ import annotations

import os

import gradio as gr
import torch
from PIL import Image
from transformers import AutoImageProcessor, BlipForConditionalGeneration, BlipProcessor, pipeline

CAPTION_MODEL = "Salesforce/blip-image-captioning-base"  #@ safe: constant definition; the finding is reported at the call that uses it
CLASSIFIER_DIR = os.environ.get("CLASSIFIER_DIR", "./models/defect-vit")

processor = BlipProcessor.from_pretrained(CAPTION_MODEL)  #@ unpin: hub id constant, no revision
captioner = BlipForConditionalGeneration.from_pretrained(CAPTION_MODEL, torch_dtype=torch.float32)  #@ unpin: hub id constant, no revision
classifier = pipeline("image-classification", model=CLASSIFIER_DIR)  #@ safe: local model directory
nsfw = pipeline("image-classification", model="Falconsai/nsfw_image_detection")  #@ unpin: pipeline(model="org/m") without revision
depth = pipeline("depth-estimation", model="Intel/dpt-hybrid-midas", revision="@@KEY:sha@@")  #@ safe: pipeline pinned to a 40-hex commit
vit_proc = AutoImageProcessor.from_pretrained("google/vit-base-patch16-224", revision="@@KEY:sha@@")  #@ safe: from_pretrained pinned to a 40-hex commit


def caption(img: Image.Image) -> str:
    inputs = processor(images=img, return_tensors="pt")
    with torch.no_grad():
        out = captioner.generate(**inputs, max_new_tokens=40)
    return processor.decode(out[0], skip_special_tokens=True)


def analyse(img: Image.Image):
    if img is None:
        return "", {}
    flags = {r["label"]: r["score"] for r in nsfw(img)}
    if flags.get("nsfw", 0) > 0.8:
        return "(image hidden)", {}
    labels = {r["label"]: r["score"] for r in classifier(img, top_k=5)}
    labels["mean_depth"] = float(depth(img)["predicted_depth"].mean())
    return caption(img), labels


demo = gr.Interface(
    fn=analyse,
    inputs=gr.Image(type="pil"),
    outputs=[gr.Textbox(label="Caption"), gr.Label(label="Defect class")],
    title="Defect inspector",
    allow_flagging="never",
)

if __name__ == "__main__":
    demo.launch()  #@ safe: launch() without share
