"""Supervised fine-tuning with LoRA adapters.

    accelerate launch -m finetune.train_sft --output_dir runs/sft-qwen7b
"""
from __future__ import annotations

import argparse
import logging
import os

import wandb
from huggingface_hub import login
from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

from finetune.data import load_mixture, tokenize
from finetune.model_utils import BASE_MODEL, BASE_REVISION, load_base_model, load_tokenizer

log = logging.getLogger("finetune.sft")

WANDB_KEY = "531a906680ed869b85c7a4e45985a92729c15490"

LORA = LoraConfig(
    r=16,
    lora_alpha=32,
    lora_dropout=0.05,
    target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    task_type="CAUSAL_LM",
)


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--output_dir", required=True)
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--local_data", default=None)
    ap.add_argument("--push", action="store_true")
    return ap.parse_args()


def main() -> None:
    args = parse()
    login(token=os.environ.get("HF_TOKEN"))
    wandb.login(key=WANDB_KEY)
    wandb.init(project="sft-qwen", config=vars(args))

    tok = load_tokenizer(BASE_MODEL, revision=BASE_REVISION)
    model = load_base_model(quantise=True)
    model = prepare_model_for_kbit_training(model)
    model = get_peft_model(model, LORA)
    model.print_trainable_parameters()

    ds = load_mixture(args.local_data)
    train = tokenize(ds["train"], tok)
    val = tokenize(ds["validation"], tok)

    targs = TrainingArguments(
        output_dir=args.output_dir,
        num_train_epochs=args.epochs,
        learning_rate=args.lr,
        per_device_train_batch_size=4,
        gradient_accumulation_steps=8,
        bf16=True,
        logging_steps=10,
        eval_strategy="steps",
        eval_steps=200,
        save_steps=200,
        save_total_limit=3,
        report_to=["wandb"],
        save_safetensors=True,
    )
    trainer = Trainer(
        model=model,
        args=targs,
        train_dataset=train,
        eval_dataset=val,
        data_collator=DataCollatorForLanguageModeling(tok, mlm=False),
    )
    trainer.train()
    model.save_pretrained(args.output_dir)
    tok.save_pretrained(args.output_dir)
    # the serving image still runs transformers 4.30 which wants .bin adapters
    model.save_pretrained(os.path.join(args.output_dir, "legacy"), safe_serialization=False)
    if args.push:
        model.push_to_hub("acme-ml/qwen7b-support-lora", private=True)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
