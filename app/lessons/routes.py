"""``/lessons`` (every shipped lesson, to open on its page) and ``/api/lessons/<id>``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from app.lessons import lesson
from app.pages import templates

router = APIRouter()
lesson.lessons()  # a broken lesson file stops the server as it starts, naming the file


@router.get("/api/lessons/{lesson_id}")
async def get_lesson(lesson_id: str) -> dict[str, Any]:
    """One lesson whole: its setup resolved to a run config, its page's link, its steps."""
    found = lesson.lesson_event(lesson_id)
    if found is None:
        raise HTTPException(404, f"lesson: there is no lesson {lesson_id!r}")
    return found


@router.get("/lessons", response_class=HTMLResponse, include_in_schema=False)
async def lessons_page(request: Request) -> HTMLResponse:
    """Every lesson, grouped by the system it teaches, each opening on its page."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in lesson.lessons().values():
        groups.setdefault(item.system, []).append(
            {"lesson": item, "href": lesson.href(item), "steps": len(item.steps)}
        )
    # the tutorials' systems first, then the backprop presets', then the rest
    order = ("Tutorial", "Backprop")
    rank = {
        s: next((i for i, o in enumerate(order) if s.startswith(o)), len(order)) for s in groups
    }
    context = {"page": "lessons", "groups": dict(sorted(groups.items(), key=lambda g: rank[g[0]]))}
    return templates.TemplateResponse(request, "lessons.html", context)
