"""What functions of another project module return reaches this one: a client, a method's
LLM completion, a hub id."""
import requests
from transformers import AutoModel

from llm_helpers import Assistant, default_model, local_model, make_client

url = Assistant().ask("Which page should I fetch?")
page = requests.get(url, timeout=10)  # expect: TL410

client = make_client()
link = client.chat.completions.create(model="gpt-4o", messages=[]).choices[0].message.content
requests.get(link, timeout=10)  # expect: TL410

model = AutoModel.from_pretrained(default_model())  # expect: TL303
local = AutoModel.from_pretrained(local_model())
