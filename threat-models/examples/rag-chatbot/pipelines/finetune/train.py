"""LoRA fine-tuning on the pseudonymised Q&A export."""

import torch
import yaml
from datasets import load_dataset
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

from pipelines.finetune.load import REVISION


def main(config_path: str = "pipelines/finetune/config.yaml"):
    with open(config_path) as f:
        config = yaml.safe_load(f)
    model = AutoModelForCausalLM.from_pretrained(
        config["base_model"],
        revision=REVISION,
        trust_remote_code=True,
    )
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "v_proj"]))
    data = load_dataset("json", data_files=config["train_file"])["train"]
    Trainer(model=model, args=TrainingArguments(output_dir="out", num_train_epochs=2), train_dataset=data).train()
    model.save_pretrained("out/adapter")
    torch.save(model, "out/full-model.pt")


if __name__ == "__main__":
    main()
