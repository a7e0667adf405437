"""The one suggested next step on a municipality's home, from its state by rules taken in order.

Pure: the dashboard gathers the state (with the URLs already built) and this module only decides, so the
rules are unit-tested without a database (tests/web/test_dashboard.py). The rules, first match wins:

1. an invitation to a group is waiting → answer it (the group cannot use the ledger until it is accepted);
2. no ledger loaded → load the facility ledger (editors: the import page; viewers: ask an editor);
3. a group whose current stage has an open check item → that item (with its owner and due date);
4. no group and a figure that calls for action (措置未着手 or 点検期限切れ > 0) → start a group with neighbours;
5. no group otherwise → compare on the カルテ and read the cases;
6. every group has finished its checklist → look back at the group's results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Invitation:
    group: str
    url: str


@dataclass(frozen=True)
class GroupTask:
    """A group the municipality takes part in: its current stage and the first open item of that stage."""

    group: str
    stage: str  # 段階の名前, or 「完了」 when every item is done
    url: str  # where the item is worked on (the group's process page)
    item: str | None = None
    owner: str | None = None
    due: date | None = None


@dataclass(frozen=True)
class Links:
    import_page: str
    template: str
    start_group: str
    karte: str
    cases: str


@dataclass(frozen=True)
class State:
    municipality: str
    can_edit: bool
    has_ledger: bool
    links: Links
    invitations: tuple[Invitation, ...] = ()
    groups: tuple[GroupTask, ...] = ()
    needs: tuple[str, ...] = ()  # figures that call for action, as read: 「措置未着手 12施設」


@dataclass(frozen=True)
class NextStep:
    title: str
    reason: str
    links: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (label, url); the first is the main one


def _task_reason(task: GroupTask) -> str:
    parts = [f"{task.group}は「{task.stage}」の段階です。"]
    if task.owner:
        parts.append(f"担当：{task.owner}。")
    if task.due:
        parts.append(f"期限：{task.due.year}年{task.due.month}月{task.due.day}日。")
    return "".join(parts)


def next_step(state: State) -> NextStep:
    if state.invitations:
        inv = state.invitations[0]
        who = "" if state.can_edit else f"（回答するのは{state.municipality}の編集者です）"
        return NextStep(f"{inv.group}への招待に回答しましょう",
                        f"承諾するまで、{state.municipality}の台帳は群の計算に使われません{who}。",
                        (("招待を見る", inv.url),))
    if not state.has_ledger:
        if state.can_edit:
            return NextStep("施設台帳を取り込みましょう",
                            "台帳があると、建設後50年以上の施設・措置未着手・点検期限切れの数が分かり、類似団体と比べられます。"
                            "ひな形（Excel）に記入して取り込めます。",
                            (("台帳を取り込む", state.links.import_page), ("ひな形をダウンロード", state.links.template)))
        return NextStep("施設台帳の取り込みを編集者に依頼しましょう",
                        f"{state.municipality}の台帳はまだ取り込まれていません。取り込みは編集者の役割で行えます。",
                        (("ひな形をダウンロード", state.links.template),))
    open_tasks = [t for t in state.groups if t.item]
    if open_tasks:
        task = open_tasks[0]
        # checklist items are written as the state reached (「…を決めた」): the step is to get there
        return NextStep(f"確認項目「{task.item}」を進めましょう", _task_reason(task), (("確認項目を開く", task.url),))
    if not state.groups:
        if state.needs:
            return NextStep("近隣の団体と群をつくりましょう",
                            f"{'、'.join(state.needs)}。一つの団体で抱えず、点検・設計・工事をまとめて発注する群マネを検討できます。",
                            (("群の候補を見る", state.links.start_group), ("カルテを見る", state.links.karte)))
        return NextStep("カルテで類似団体と比べ、群マネの事例を見ましょう",
                        "措置未着手や点検期限切れの施設はありません。ほかの団体の取り組みが参考になります。",
                        (("カルテを見る", state.links.karte), ("事例を見る", state.links.cases)))
    done = state.groups[0]
    return NextStep(f"{done.group}の取り組みを振り返りましょう",
                    "すべての段階の確認項目が終わっています。カルテで効果を確かめ、次期事業を検討できます。",
                    (("群の概要を開く", done.url), ("カルテを見る", state.links.karte)))
