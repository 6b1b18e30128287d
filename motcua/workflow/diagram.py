"""A workflow definition drawn as an SVG diagram, without Django and without JavaScript.

Steps are boxes placed in layers by their distance (in transitions) from the start step, top to
bottom; transitions are arrows with their button labels. Forward arrows go down; arrows that
go back up (returns) or stay in the layer curve round the right side so they stay readable.
Result and refusal steps are coloured, so the desk sees at a glance where a dossier can end.
Pure functions over the plain definition data (``definitions.data_from_rows`` / the JSON
export), so they are tested without a database.
"""

from collections import deque
from dataclasses import dataclass, field
from html import escape
from typing import Any

BOX_W = 180
BOX_H = 52
GAP_X = 40
GAP_Y = 70
MARGIN = 20
SIDE = 120  # room on the right for the arrows that go back up
COLOURS = {
    "result": ("#e7f6ec", "#1e7b3c"),
    "refusal": ("#fdecec", "#b3261e"),
    "consultation": ("#eef3fd", "#2f5fb3"),
    "task": ("#ffffff", "#4a5568"),
}


@dataclass(frozen=True)
class Box:
    key: str
    name: str
    kind: str
    layer: int
    x: int
    y: int
    start: bool = False


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    label: str
    action: str
    back: bool  # drawn round the side: the target is not in a lower layer


@dataclass
class Layout:
    boxes: dict[str, Box] = field(default_factory=dict)
    arrows: list[Arrow] = field(default_factory=list)
    width: int = 0
    height: int = 0


def _start_key(steps: list[dict[str, Any]]) -> str | None:
    if not steps:
        return None
    marked = [s for s in steps if s.get("start")]
    if marked:
        return str(marked[0]["key"])
    return str(sorted(steps, key=lambda s: (s.get("order", 0),))[0]["key"])


def layers(data: dict[str, Any]) -> dict[str, int]:
    """Each step's layer: its distance from the start; unreachable steps go one layer below the rest."""
    steps = [s for s in data.get("steps") or [] if s.get("key")]
    start = _start_key(steps)
    keys = [str(s["key"]) for s in steps]
    outgoing: dict[str, list[str]] = {k: [] for k in keys}
    for t in data.get("transitions") or []:
        source, target = t.get("from"), t.get("to")
        if source in outgoing and target in outgoing:
            outgoing[source].append(target)
    found: dict[str, int] = {}
    if start is not None:
        found[start] = 0
        queue = deque([start])
        while queue:
            key = queue.popleft()
            for nxt in outgoing[key]:
                if nxt not in found:
                    found[nxt] = found[key] + 1
                    queue.append(nxt)
    below = (max(found.values()) + 1) if found else 0
    for key in keys:
        found.setdefault(key, below)
    return found


def layout(data: dict[str, Any]) -> Layout:
    """Positions of every step box and the arrows between them (definition order inside a layer)."""
    steps = [s for s in data.get("steps") or [] if s.get("key")]
    levels = layers(data)
    rows: dict[int, list[dict[str, Any]]] = {}
    for step in sorted(steps, key=lambda s: s.get("order", 0)):
        rows.setdefault(levels[str(step["key"])], []).append(step)
    widest = max((len(r) for r in rows.values()), default=0)
    inner = widest * BOX_W + max(widest - 1, 0) * GAP_X
    result = Layout()
    for level, row in rows.items():
        span = len(row) * BOX_W + (len(row) - 1) * GAP_X
        left = MARGIN + (inner - span) // 2
        for index, step in enumerate(row):
            key = str(step["key"])
            result.boxes[key] = Box(
                key=key,
                name=str(step.get("name") or key),
                kind=str(step.get("kind") or "task"),
                layer=level,
                x=left + index * (BOX_W + GAP_X),
                y=MARGIN + level * (BOX_H + GAP_Y),
                start=bool(step.get("start")) or key == _start_key(steps),
            )
    for t in sorted(data.get("transitions") or [], key=lambda t: t.get("order", 0)):
        source, target = t.get("from"), t.get("to")
        if source not in result.boxes or target not in result.boxes:
            continue
        back = result.boxes[target].layer <= result.boxes[source].layer
        result.arrows.append(
            Arrow(str(source), str(target), str(t.get("label") or t.get("key") or ""), str(t.get("action") or ""), back)
        )
    result.width = 2 * MARGIN + inner + (SIDE if any(a.back for a in result.arrows) else 0)
    result.height = 2 * MARGIN + (len(rows) * BOX_H + max(len(rows) - 1, 0) * GAP_Y)
    return result


def _wrap(text: str, limit: int = 24) -> list[str]:
    """At most two lines of ``limit`` characters; the rest is cut with an ellipsis."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > limit:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    if len(lines) > 2:
        lines = [lines[0], lines[1][: limit - 1] + "…"]
    return [(w if len(w) <= limit else w[: limit - 1] + "…") for w in lines]


def to_svg(plan: Layout, title: str = "") -> str:
    """The layout as a standalone, accessible SVG string (every text escaped)."""
    if not plan.boxes:
        return ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" role="img" '
        f'width="{plan.width}" height="{plan.height}" viewBox="0 0 {plan.width} {plan.height}" '
        f'font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="wf-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#4a5568"/></marker></defs>',
    ]
    right = max(b.x for b in plan.boxes.values()) + BOX_W
    for index, arrow in enumerate(plan.arrows):
        a, b = plan.boxes[arrow.source], plan.boxes[arrow.target]
        colour = "#b3261e" if arrow.action in ("return", "reject") else "#4a5568"
        if arrow.back:
            bend = right + 20 + (index % 4) * 22
            x1, y1 = a.x + BOX_W, a.y + BOX_H // 2
            x2, y2 = b.x + BOX_W, b.y + BOX_H // 2 + 8
            path = f"M{x1},{y1} C{bend},{y1} {bend},{y2} {x2},{y2}"
            lx, ly = bend - 4, (y1 + y2) // 2
        else:
            x1, y1 = a.x + BOX_W // 2, a.y + BOX_H
            x2, y2 = b.x + BOX_W // 2, b.y
            path = f"M{x1},{y1} L{x2},{y2}"
            lx, ly = (x1 + x2) // 2 + 4, (y1 + y2) // 2
        parts.append(
            f'<g class="wf-arrow" data-from="{escape(arrow.source)}" data-to="{escape(arrow.target)}">'
            f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.5" marker-end="url(#wf-arrow)"/>'
            f'<text x="{lx}" y="{ly}" fill="{colour}">{escape(arrow.label)}</text></g>'
        )
    for box in plan.boxes.values():
        fill, stroke = COLOURS.get(box.kind, COLOURS["task"])
        width = 3 if box.start else 1.5
        lines = _wrap(box.name)
        parts.append(
            f'<g class="wf-step wf-{escape(box.kind)}" data-key="{escape(box.key)}">'
            f'<rect x="{box.x}" y="{box.y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{width}"/>'
        )
        top = box.y + BOX_H // 2 - (len(lines) - 1) * 7 + 4
        for n, line in enumerate(lines):
            parts.append(
                f'<text x="{box.x + BOX_W // 2}" y="{top + n * 14}" text-anchor="middle" fill="{stroke}">'
                f"{escape(line)}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def render(data: dict[str, Any], title: str = "") -> str:
    """``data`` (a definition) straight to SVG."""
    return to_svg(layout(data), title)
