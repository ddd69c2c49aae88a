"""cases/actions.py: one declaration per move, each with a transition and a workflow
function; pages offer exactly the declared form."""

from __future__ import annotations

from linge.cases.actions import DECLARATIONS
from linge.cases.transitions import TABLE, Action
from linge.cases.workflow import PERFORMERS

# Written out by hand: the moves a person makes on a page (with a form), and the ones
# only the system or the report form makes.
PAGE_MOVES = {
    "accept", "reject", "merge", "transfer", "add_support", "supervise", "assign", "resolve",
    "escalate", "suspend", "resume", "dispatch", "return", "request_extension",
    "grant_extension", "refuse_extension", "verify", "fail_verification", "rate", "reopen",
}
OTHER_MOVES = {"submit", "auto_close", "flag_overdue"}


def test_every_move_in_the_table_has_exactly_one_declaration() -> None:
    in_table = {action for _state, action in TABLE}
    assert in_table == set(DECLARATIONS) == set(Action)
    assert len(DECLARATIONS) == len(Action)  # the dict holds one per action


def test_every_declaration_has_a_transition_and_a_workflow_function() -> None:
    for action in DECLARATIONS:
        assert any(a == action for _state, a in TABLE), action
        assert action in PERFORMERS, action


def test_which_moves_have_a_form() -> None:
    with_form = {str(a) for a, d in DECLARATIONS.items() if d.form is not None}
    assert with_form == PAGE_MOVES
    assert {str(a) for a in Action} - with_form == OTHER_MOVES
