"""Tools the assistant may call. Ticket creation needs the user's confirmation in the UI."""

from langchain_core.tools import tool

from services.rag.ticketing import create_ticket


@tool
def open_ticket(summary: str, priority: str = "normal") -> str:
    """Open a help-desk ticket on the user's behalf (confirmed by the user first)."""
    return create_ticket(summary=summary, priority=priority)


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression, e.g. a disk-quota conversion."""
    return str(eval(expression))
