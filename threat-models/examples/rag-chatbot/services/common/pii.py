"""PII masking for logs and exports (e-mail addresses and phone numbers)."""

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE = re.compile(r"\+?\d[\d\s().-]{7,}\d")


def mask(text: str) -> str:
    return PHONE.sub("<phone>", EMAIL.sub("<email>", text))
