"""OIDC bearer-token validation for the chat API."""

import os

import jwt
from fastapi import Header, HTTPException

ISSUER = os.environ["OIDC_ISSUER"]
AUDIENCE = "helpdesk-assistant"


def current_user(authorization: str = Header(...)):
    token = authorization.removeprefix("Bearer ").strip()
    try:
        claims = jwt.decode(token, key=_jwks_key(token), audience=AUDIENCE, issuer=ISSUER, algorithms=["RS256"])
    except jwt.PyJWTError as error:
        raise HTTPException(status_code=401, detail="invalid token") from error
    return {"id": claims["sub"], "tenant": claims["tid"]}


def _jwks_key(token):
    client = jwt.PyJWKClient(f"{ISSUER}/.well-known/jwks.json")
    return client.get_signing_key_from_jwt(token).key
