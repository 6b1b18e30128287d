"""Validation of definitions on plain data (no database): every problem found, each naming its step."""

import pytest

from motcua.workflow import graph

ROLES = {"clerk", "specialist", "leader", "document_clerk"}


def step(key, kind="task", budget=0, **extra) -> dict:
    row = {"key": key, "name": key.title(), "kind": kind, "holder": "receiving", "role": "specialist"}
    row["budget_sessions"] = budget
    row.update(extra)
    return row


def move(key, source, target, action="forward", **extra) -> dict:
    row = {"key": key, "from": source, "to": target, "action": action, "label": key, "role": "specialist"}
    row.update(extra)
    return row


def three_levels() -> dict:
    """Commune (2) → district (3) → leader (1) → result; reject from the district; 6 sessions = 3 days."""
    return {
        "name": "Ba cấp",
        "steps": [
            step("xa", budget=2),
            step("huyen", budget=3),
            step("lanh-dao", budget=1, role="leader"),
            step("tra", "result", role="clerk"),
            step("tu-choi", "refusal", role="clerk"),
        ],
        "transitions": [
            move("len-huyen", "xa", "huyen", "transfer"),
            move("trinh", "huyen", "lanh-dao"),
            move("tra-lai", "huyen", "xa", "return"),
            move("bo-sung", "huyen", "", "request_supplement"),
            move("duyet", "lanh-dao", "tra", "approve", role="leader"),
            move("tu-choi", "huyen", "tu-choi", "reject", condition="form.dien_tich > 300"),
        ],
    }


def codes(data, total=6) -> list[str]:
    _definition, problems = graph.check(data, total, ROLES)
    return [p.code for p in problems]


def problems(data, total=6) -> list[graph.Problem]:
    return graph.check(data, total, ROLES)[1]


def test_a_sound_definition_has_no_problem():
    definition, found = graph.check(three_levels(), 6, ROLES)
    assert found == []
    assert definition.start.key == "xa"
    assert [t.key for t in definition.outgoing("huyen")] == ["trinh", "tra-lai", "bo-sung", "tu-choi"]
    # A reason is always needed for return, reject and supplement requests.
    assert [t.key for t in definition.transitions if t.reason_required] == ["tra-lai", "bo-sung", "tu-choi"]


def test_round_trip_through_the_json_format():
    definition, _ = graph.parse(three_levels())
    data = graph.to_data(definition)
    again, found = graph.parse(data)
    assert found == [] and graph.to_data(again) == data
    # Exporting states the forced reasons explicitly; otherwise the definition is unchanged.
    assert [t.requires_reason for t in again.transitions] == [False, False, True, True, False, True]
    assert [(s.key, s.budget_sessions) for s in again.steps] == [(s.key, s.budget_sessions) for s in definition.steps]


def test_unreachable_step_is_named():
    data = three_levels()
    data["steps"].append(step("mo-coi", budget=0))
    data["transitions"].append(move("mo-coi-tra", "mo-coi", "tra"))
    found = problems(data)
    assert [(p.code, p.params) for p in found] == [("unreachable", {"step": "mo-coi", "start": "xa"})]


def test_dead_end_and_no_way_to_a_terminal():
    data = three_levels()
    data["steps"].insert(2, step("treo", budget=0))
    data["steps"].insert(3, step("vong", budget=0))
    data["transitions"] += [move("sang-treo", "huyen", "treo"), move("sang-vong", "treo", "vong")]
    data["transitions"] += [move("ve-treo", "vong", "treo")]
    data["transitions"] += [move("cut", "xa", "vong")]
    found = {(p.code, p.params.get("step")) for p in problems(data)}
    assert ("no_terminal", "treo") in found and ("no_terminal", "vong") in found
    data["transitions"] = [t for t in data["transitions"] if t["key"] != "ve-treo"]
    assert ("dead_end", "vong") in {(p.code, p.params.get("step")) for p in problems(data)}


def test_missing_roles_are_refused():
    data = three_levels()
    data["steps"][1]["role"] = ""
    data["transitions"][1]["role"] = ""
    data["transitions"][2]["role"] = "president"
    found = problems(data)
    assert {(p.code, p.where) for p in found} == {
        ("step_role", "steps.huyen"),
        ("transition_role", "transitions.trinh"),
        ("unknown_role", "transitions.tra-lai"),
    }


def test_budgets_that_do_not_add_up():
    data = three_levels()
    found = problems(data, total=8)
    assert [(p.code, p.params) for p in found] == [
        ("budget_short", {"path": "xa → huyen → lanh-dao → tra", "sum": 6, "total": 8})
    ]
    found = problems(data, total=5)
    assert found[0].code == "budget_over" and found[0].params["sum"] == 6
    # The return loop is not counted twice: only acyclic paths are.
    assert problems(data, total=6) == []


def test_terminal_steps_take_no_time_and_have_no_way_out():
    data = three_levels()
    data["steps"][3]["budget_sessions"] = 1
    data["transitions"].append(move("sau-tra", "tra", "xa", role="clerk"))
    found = codes(data)
    assert "terminal_budget" in found and "terminal_outgoing" in found


def test_invalid_conditions_are_reported_with_the_language_error():
    data = three_levels()
    data["transitions"][5]["condition"] = "__import__('os').system('rm -rf /')"
    found = problems(data)
    assert [(p.code, p.params["error_code"]) for p in found] == [("condition", "not_allowed")]


def test_action_rules():
    data = three_levels()
    data["transitions"][5]["to"] = "tra"  # reject must lead to a refusal
    data["transitions"][2]["to"] = "tu-choi"  # return must lead to a working step
    data["transitions"][3]["to"] = "lanh-dao"  # a supplement stays at its step
    data["transitions"].append(move("thang", "xa", "tu-choi"))  # refusal only by reject
    assert set(codes(data)) == {"reject_target", "return_target", "supplement_target", "refusal_via_reject"}


def test_keys_and_structure():
    data = three_levels()
    data["steps"].append(step("huyen"))
    data["steps"].append(step("Sai Khoá"))
    data["transitions"].append(move("trinh", "huyen", "lanh-dao"))
    data["transitions"].append(move("claim", "huyen", "lanh-dao"))
    data["transitions"].append(move("ma", "khong-co", "cung-khong"))
    found = codes(data)
    for code in (
        "duplicate_step",
        "bad_key",
        "duplicate_transition",
        "reserved_key",
        "transition_from",
        "transition_to",
    ):
        assert code in found


def test_start_rules():
    data = three_levels()
    data["steps"][1]["start"] = True
    data["steps"][2]["start"] = True
    assert "several_starts" in codes(data)
    only_result = {"steps": [step("tra", "result")], "transitions": []}
    assert set(codes(only_result, total=0)) == {"start_terminal"}
    assert codes({"steps": [], "transitions": []}) == ["no_steps"]
    no_result = {"steps": [step("a", budget=6), step("b", "refusal")], "transitions": [move("x", "a", "b", "reject")]}
    assert codes(no_result) == ["no_result"]


def test_holders_need_their_details():
    data = three_levels()
    data["steps"][0].update(holder="fixed", agency="")
    data["steps"][1].update(holder="level", level="")
    data["steps"][2].update(holder="form_field", form_field="")
    data["steps"][3].update(holder="nowhere")
    assert set(codes(data)) == {"holder_agency", "holder_level", "holder_field", "holder"}


def test_consultations():
    data = three_levels()
    data["steps"][1].update(kind="consultation", quorum=3, consult=[{"holder": "fixed", "agency": "X", "role": ""}])
    found = set(codes(data))
    assert {"consult_quorum", "step_role"} <= found
    data["steps"][1].update(quorum=1, consult=[])
    assert "consult_targets" in codes(data)
    data["steps"][0]["consult"] = [{"holder": "competent", "role": "specialist"}]
    assert "consult_only" in codes(data)


def test_shape_problems_are_collected_not_raised():
    data = {
        "format": "other",
        "steps": [{"key": 5, "name": None, "budget_sessions": "two", "start": "yes"}, "not a step"],
        "transitions": "none",
    }
    definition, found = graph.parse(data)
    assert definition is not None
    assert {p.code for p in found} == {"format", "field_type", "not_an_object", "not_a_list"}
    assert graph.parse([1, 2])[0] is None


@pytest.mark.parametrize("total", [0, 2])
def test_immediate_and_same_day_totals(total):
    data = {
        "steps": [step("lam", budget=total), step("tra", "result", role="clerk")],
        "transitions": [move("xong", "lam", "tra")],
    }
    assert problems(data, total) == []
    assert codes(data, total + 1) == ["budget_short"]


def test_problem_messages_in_vietnamese():
    from django.utils import translation

    from motcua.workflow.messages import problem_message

    data = three_levels()
    data["steps"].append(step("mo-coi"))
    with translation.override("vi"):
        messages = [problem_message(p) for p in problems(data, total=8)]
    assert "Bước “mo-coi” không thể đến được từ bước bắt đầu “xa”." in messages
    assert (
        "Tổng thời gian các bước không khớp: 6 trên 8 buổi làm việc "
        "(đường dài nhất tới kết quả là xa → huyen → lanh-dao → tra)." in messages
    )
