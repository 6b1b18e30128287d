"""The workflow diagram: layers by distance from the start, arrows, colours and escaping (pure)."""

from motcua.workflow import diagram

CHAIN = {
    "steps": [
        {"key": "a", "name": "Tiếp nhận", "kind": "task", "order": 1},
        {"key": "b", "name": "Thẩm định", "kind": "task", "order": 2},
        {"key": "c", "name": "Phê duyệt", "kind": "task", "order": 3},
        {"key": "ok", "name": "Trả kết quả", "kind": "result", "order": 4},
        {"key": "no", "name": "Từ chối", "kind": "refusal", "order": 5},
        {"key": "lost", "name": "Không nối", "kind": "task", "order": 6},
    ],
    "transitions": [
        {"key": "t1", "from": "a", "to": "b", "label": "Chuyển", "action": "forward"},
        {"key": "t2", "from": "b", "to": "c", "label": "Trình", "action": "forward"},
        {"key": "t3", "from": "b", "to": "a", "label": "Trả lại", "action": "return"},
        {"key": "t4", "from": "c", "to": "ok", "label": "Duyệt", "action": "approve"},
        {"key": "t5", "from": "a", "to": "no", "label": "Từ chối", "action": "reject"},
        {"key": "t6", "from": "b", "to": "", "label": "Bổ sung", "action": "request_supplement"},
    ],
}


def test_layers_are_the_distance_from_the_start():
    assert diagram.layers(CHAIN) == {"a": 0, "b": 1, "no": 1, "c": 2, "ok": 3, "lost": 4}


def test_the_start_flag_wins_over_the_order():
    data = {**CHAIN, "steps": [dict(s, start=(s["key"] == "b")) for s in CHAIN["steps"]]}
    levels = diagram.layers(data)
    assert levels["b"] == 0 and levels["c"] == 1 and levels["a"] == 1


def test_boxes_do_not_overlap_and_arrows_skip_unknown_targets():
    plan = diagram.layout(CHAIN)
    boxes = list(plan.boxes.values())
    for i, one in enumerate(boxes):
        for other in boxes[i + 1 :]:
            apart_x = one.x + diagram.BOX_W <= other.x or other.x + diagram.BOX_W <= one.x
            apart_y = one.y + diagram.BOX_H <= other.y or other.y + diagram.BOX_H <= one.y
            assert apart_x or apart_y, (one.key, other.key)
        assert one.x + diagram.BOX_W <= plan.width and one.y + diagram.BOX_H <= plan.height
    assert [(a.source, a.target, a.back) for a in plan.arrows] == [
        ("a", "b", False),
        ("b", "c", False),
        ("b", "a", True),
        ("c", "ok", False),
        ("a", "no", False),
    ]
    assert plan.boxes["b"].y > plan.boxes["a"].y and plan.boxes["b"].y == plan.boxes["no"].y


def test_the_svg_colours_the_ends_and_escapes_text():
    data = {
        "steps": [
            {"key": "a", "name": "<script>alert(1)</script>", "kind": "task"},
            {"key": "r", "name": "Kết quả", "kind": "result"},
        ],
        "transitions": [{"from": "a", "to": "r", "label": 'Duyệt "&"', "action": "approve"}],
    }
    svg = diagram.render(data, "Quy trình")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "Duyệt &quot;&amp;&quot;" in svg
    assert 'class="wf-step wf-result"' in svg and diagram.COLOURS["result"][1] in svg
    assert svg.count('class="wf-arrow"') == 1 and "<title>Quy trình</title>" in svg


def test_an_empty_definition_draws_nothing():
    assert diagram.render({}) == "" and diagram.render({"steps": [], "transitions": []}) == ""
    assert diagram.layout({}).boxes == {}


def test_long_names_wrap_on_two_lines():
    lines = diagram._wrap("Chi nhánh Văn phòng đăng ký đất đai thẩm định hồ sơ và trình lãnh đạo", 24)
    assert len(lines) == 2 and lines[1].endswith("…") and all(len(line) <= 24 for line in lines)
