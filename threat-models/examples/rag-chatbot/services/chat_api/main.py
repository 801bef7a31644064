"""Chat API: authenticates the user, rate-limits, guards input and hands off to the RAG service."""

from fastapi import Depends, FastAPI, HTTPException, Request

from services.chat_api.auth import current_user
from services.chat_api.guardrails import check_input
from services.chat_api.limits import limiter
from services.chat_api.render import render_answer
from services.rag.orchestrator import answer_question

app = FastAPI(title="HelpDesk Assistant")


@app.post("/chat")
@limiter.limit("20/minute")
async def post_chat(request: Request, user=Depends(current_user)):
    body = await request.json()
    question = body.get("question", "")
    verdict = check_input(question)
    if not verdict.allowed:
        raise HTTPException(status_code=422, detail=verdict.reason)
    answer = answer_question(question, user=user)
    return {"answer": answer.text, "html": render_answer(answer.text), "sources": answer.sources}
