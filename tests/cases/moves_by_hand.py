"""The case moves written out by hand from the design: state × action → target and who may.

Nothing here is computed from `cases.transitions.TABLE`, `workflow.allowed_actions` or
`cases.policy`: a reviewer checks these lines against the design (docs/design.md),
and the tests in `test_moves_by_hand.py` and `tests/workbench/test_moves_through_pages.py`
check every persona of `tests.conftest.build_city` against them. A wrong rule in the
code (any resident may rate, a department verifies its own work, village staff may not
reject) makes them fail.

Role words:
    报告人      the resident who reported the case (居民甲)
    其他居民    any other resident (居民乙)
    网格长 / 专职网格员 / 兼职网格员   the team of the case's grid (上墩村第1网格)
    村社干部    staff of the case's village (上墩村)
    镇街派遣员  dispatcher of the case's town platform (温峤镇四平台)
    部门经办人  handler of the unit the case was dispatched to (温峤镇综合执法队)
    领导        leaders whose area holds the case (温峤镇 and the city's command centre)
    系统        the worker (deadline sweep, auto-close)
Everyone else may do nothing to the case: 网格指导员, 民警, workers of other grids,
villages and towns, another town's dispatcher, units the case was not dispatched to,
the administrator, an anonymous visitor.
"""

from __future__ import annotations

from linge.cases.models import State

# The case states by the names the design uses.
STATE = {
    "待受理": State.SUBMITTED, "处理中": State.ACCEPTED, "待派遣": State.ESCALATED,
    "已派遣": State.DISPATCHED, "待核查": State.VERIFYING, "挂起": State.SUSPENDED,
    "待评价": State.RESOLVED, "已办结": State.CLOSED, "不予受理": State.REJECTED,
    "已合并": State.MERGED,
}

GRID_SIDE = "网格长 专职网格员 兼职网格员 村社干部"  # 受理, 办结, 合并 in the grid
GRID_LEAD = "网格长 专职网格员 村社干部"  # 不予受理, 上报, 挂起, 指派: not 兼职
ON_ANY_OPEN_CASE = {
    "add_support": ("", "其他居民"),  # 我也遇到: the case stays where it is
    "supervise": ("", "领导"),  # 督办, once
}
SWEEP = {"flag_overdue": ("", "系统")}  # past its deadline (the tests' clock is 30 days on)

# Each situation a case can be in → {action: (target state, who may)}; "" keeps the state.
# An action not listed is refused to everyone in that situation.
MOVES: dict[str, dict[str, tuple[str, str]]] = {
    "待受理": {
        "accept": ("处理中", GRID_SIDE),
        "reject": ("不予受理", GRID_LEAD),
        "merge": ("已合并", GRID_SIDE),
        "transfer": ("待受理", GRID_SIDE + " 镇街派遣员"),
        **ON_ANY_OPEN_CASE, **SWEEP,
    },
    "待受理·已督办": {
        "accept": ("处理中", GRID_SIDE),
        "reject": ("不予受理", GRID_LEAD),
        "merge": ("已合并", GRID_SIDE),
        "transfer": ("待受理", GRID_SIDE + " 镇街派遣员"),
        "add_support": ("", "其他居民"),
        **SWEEP,  # 督办 no second time
    },
    "处理中": {
        "assign": ("", GRID_LEAD),
        "resolve": ("待评价", GRID_SIDE),
        # 系统 escalates only an overdue case whose category says so: not this one.
        "escalate": ("待派遣", GRID_LEAD),
        "suspend": ("挂起", GRID_LEAD),
        **ON_ANY_OPEN_CASE, **SWEEP,
    },
    "待派遣": {
        "dispatch": ("已派遣", "镇街派遣员"),
        "resolve": ("待评价", "镇街派遣员"),
        "return": ("处理中", "镇街派遣员"),
        "suspend": ("挂起", "镇街派遣员"),
        **ON_ANY_OPEN_CASE, **SWEEP,
    },
    "已派遣": {
        "resolve": ("待核查", "部门经办人"),  # the town checks it before the resident sees it
        "return": ("待派遣", "部门经办人"),
        "request_extension": ("", "部门经办人"),
        "suspend": ("挂起", "镇街派遣员"),
        **ON_ANY_OPEN_CASE, **SWEEP,
    },
    "已派遣·已申请延时": {
        "resolve": ("待核查", "部门经办人"),
        "return": ("待派遣", "部门经办人"),
        "grant_extension": ("", "镇街派遣员"),
        "refuse_extension": ("", "镇街派遣员"),
        "suspend": ("挂起", "镇街派遣员"),
        **ON_ANY_OPEN_CASE, **SWEEP,
    },
    "待核查": {
        # Never 部门经办人: a department does not check its own work.
        "verify": ("待评价", "镇街派遣员"),
        "fail_verification": ("已派遣", "镇街派遣员"),
        **ON_ANY_OPEN_CASE, **SWEEP,
    },
    "挂起·网格挂起": {
        "resume": ("处理中", "网格长 专职网格员 村社干部 镇街派遣员"),
        **ON_ANY_OPEN_CASE,  # the clock stands still: nothing to flag
    },
    "挂起·镇街挂起": {
        "resume": ("待派遣", "镇街派遣员"),  # what the town suspended, only the town resumes
        **ON_ANY_OPEN_CASE,
    },
    "待评价": {
        "rate": ("已办结", "报告人"),
        "reopen": ("已派遣", "报告人"),  # 返工: back to the department that handled it
        "auto_close": ("已办结", "系统"),  # unrated for 7 days (the clock is 30 days on)
    },
    "已办结": {},
    "不予受理": {},
    "已合并": {},
}

# Every action a case can be asked to make, besides 上报 (submit), written out so that an
# action the design does not know is not silently left untried.
ACTIONS = [
    "accept", "reject", "merge", "transfer", "add_support", "supervise", "assign", "resolve",
    "escalate", "suspend", "resume", "dispatch", "return", "request_extension",
    "grant_extension", "refuse_extension", "verify", "fail_verification", "rate", "reopen",
    "auto_close", "flag_overdue",
]

# Role words → personas of tests.conftest.build_city.
WHO: dict[str, tuple[str, ...]] = {
    "报告人": ("resident",),
    "其他居民": ("other_resident",),
    "网格长": ("grid_leader",),
    "专职网格员": ("full_time",),
    "兼职网格员": ("part_time",),
    "村社干部": ("village_staff",),
    "镇街派遣员": ("dispatcher",),
    "部门经办人": ("office_handler",),
    "领导": ("town_leader", "leader"),
    "系统": ("system",),
}
NOBODY = (
    "grid_guide",  # 网格指导员
    "police",  # 民警
    "neighbour_worker",  # 邻网格专职网格员
    "other_village_worker",  # 邻村专职网格员
    "other_town_worker",  # 外镇专职网格员
    "other_town_dispatcher",  # 外镇派遣员
    "other_office_handler",  # 外镇执法队经办人
    "department_handler",  # 市级部门经办人 (the case went to the town's office)
    "other_department_handler",  # 另一市级部门经办人
    "admin",  # 管理员: runs the site, makes no moves
    "anonymous",  # 未登录
)
PERSONAS = [persona for group in WHO.values() for persona in group] + list(NOBODY)


def may(situation: str, action: str, persona: str) -> bool:
    move = MOVES[situation].get(action)
    if move is None:
        return False
    return any(persona in WHO[word] for word in move[1].split())


def target(situation: str, action: str) -> str:
    """The state the move leads to ("" for the same situation's state)."""
    name = MOVES[situation][action][0]
    return STATE[name] if name else STATE[situation.split("·")[0]]
