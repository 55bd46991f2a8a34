"""What `tutor list` prints: banks, topics and questions, as a table or JSON."""

from __future__ import annotations

from typing import Any

from tutor.catalog import Catalog
from tutor.charts import text_table


def listing_json(catalog: Catalog) -> dict[str, Any]:
    """Every bank, topic and question with its metadata."""
    return {
        "banks": [
            {"path": b.path, "topic": b.topic, "title": b.title, "questions": len(b.questions)}
            for b in catalog.banks
        ],
        "topics": list(catalog.topics),
        "questions": [
            {
                "id": q.id,
                "title": q.title,
                "topic": q.topic,
                "difficulty": q.difficulty,
                "kind": q.kind,
                "parts": len(q.parts),
                "concepts": list(q.concepts),
                "tags": list(q.tags),
                "claim": q.claim,
                "mistakes": sorted(q.mistake_names),
                "bank": q.source.path,
            }
            for q in catalog.questions
        ],
    }


def listing_text(catalog: Catalog) -> str:
    """One table per bank: id, title, difficulty, kind and concepts."""
    blocks = []
    for bank in catalog.banks:
        rows = [
            (q.id, q.title, str(q.difficulty), q.kind, " ".join(q.concepts)) for q in bank.questions
        ]
        title = f"{bank.title}  (topic: {bank.topic}, {bank.path})"
        blocks.append(text_table(("id", "title", "level", "kind", "concepts"), rows, title=title))
    total = len(catalog.questions)
    blocks.append(
        f"{total} questions in {len(catalog.banks)} banks; topics: {', '.join(catalog.topics)}"
    )
    return "\n\n".join(blocks)
