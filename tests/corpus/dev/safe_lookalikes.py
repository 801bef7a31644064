"""Code that looks dangerous and is not: nothing here may be reported."""
import ast
import hashlib
import html
import json
import os

import numpy as np
import requests
import torch
import yaml
from markupsafe import Markup, escape
from transformers import AutoModel, AutoTokenizer

REVISION = "0e9e39f249a16976918f6564b8830bc894c89659"

model = AutoModel.from_pretrained("org/model", revision=REVISION)
tokenizer = AutoTokenizer.from_pretrained(os.environ["MODEL_DIR"])
state = torch.load("model.pt", weights_only=True)
arr = np.load("x.npy")
cfg = yaml.safe_load(open("c.yaml"))
value = ast.literal_eval(text)
data = json.loads(payload)
model.eval()
page = Markup(f"<p>{escape(user_text)}</p>")
snippet = html.escape(answer)
digest = hashlib.sha256(b"x").hexdigest()
health = requests.get("http://localhost:8000/health", timeout=2)
api = requests.get("https://api.example.com", verify="/etc/ssl/corp.pem")
key = os.environ.get("OPENAI_API_KEY", "")
placeholder = {"api_key": "your-api-key-here"}
torch.save(model.state_dict(), "weights.pt")
model.save_pretrained("out")
