"""Forms of the group workspace (Japanese labels; choices come from the catalogue data files)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from gunmane.io.shipped import vocab
from gunmane.io.shipped.cases import catalogue
from gunmane.io.shipped.parameters import effects_parameters, share_rules
from gunmane.web.groups.models import (
    ChecklistItem,
    CollaborationType,
    DocumentKind,
    Group,
    GroupSettings,
    MemberDuties,
    MemberRole,
    MemberStatus,
    PeopleMeasure,
    Stage,
)
from gunmane.web.registry.models import Municipality, MunicipalityKind


class GroupCreateForm(forms.Form):
    name = forms.CharField(label="群の名称", max_length=100)
    description = forms.CharField(label="概要", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    lead = forms.ModelChoiceField(label="幹事団体", queryset=Municipality.objects.none(),
                                  help_text="編集権限のある団体から選びます。")
    members = forms.ModelMultipleChoiceField(label="構成団体", queryset=Municipality.objects.none(), required=False,
                                             widget=forms.CheckboxSelectMultiple,
                                             help_text="同じ都道府県の市町村から選びます（幹事団体は自動で入ります）。")
    prefecture_supports = forms.BooleanField(label="都道府県が支援する（垂直連携）", required=False)
    collaboration_types = forms.MultipleChoiceField(label="連携の類型", choices=CollaborationType.choices,
                                                    widget=forms.CheckboxSelectMultiple, required=False)

    def __init__(self, *args: Any, editable: QuerySet[Municipality], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        leads = editable.exclude(kind=MunicipalityKind.PREFECTURE).order_by("lg_code")
        self.fields["lead"].queryset = leads  # type: ignore[attr-defined]
        for name in ("lead", "members"):
            self.fields[name].label_from_instance = lambda m: m.name  # type: ignore[attr-defined]
        prefs = set(leads.values_list("prefecture_id", flat=True))
        self.fields["members"].queryset = (  # type: ignore[attr-defined]
            Municipality.objects.filter(prefecture_id__in=prefs)
            .exclude(kind__in=[MunicipalityKind.PREFECTURE, "other"])  # "other": non-government road managers
            .order_by("lg_code"))

    def prefill(self, query: Any) -> list[str]:
        """Fill the blank form from a suggestion (the guide's "start a group": ``?lead=<団体コード>&members=<コード>,
        <コード>&prefecture=1``; members may also repeat). Only governments this form offers are taken; the
        others are returned as what to tell the user, by name where the code names a government."""
        ignored: list[str] = []
        leads = self.fields["lead"].queryset  # type: ignore[attr-defined]
        offered = self.fields["members"].queryset  # type: ignore[attr-defined]
        code = str(query.get("lead", "")).strip()
        lead = leads.filter(lg_code=code).first() if code else None
        if code and lead is None:
            ignored.append(self._named(code, "幹事団体には、編集できる市区町村だけを選べます"))
        codes = [c.strip() for v in query.getlist("members") for c in str(v).split(",") if c.strip()][:60]
        members = list(offered.filter(lg_code__in=codes))
        found = {m.lg_code for m in members}
        ignored += [self._named(c, "構成団体に選べません（幹事団体と同じ都道府県の市町村だけ）") for c in codes if c not in found]
        initial: dict[str, Any] = {"members": [m.pk for m in members if lead is None or m.pk != lead.pk],
                                   "prefecture_supports": query.get("prefecture") == "1"}
        if lead is not None:
            initial["lead"] = lead.pk
            initial["name"] = f"{lead.name}と近隣の群"
            initial["collaboration_types"] = [CollaborationType.HORIZONTAL.value] if members else []
        self.initial.update(initial)
        return ignored

    @staticmethod
    def _named(code: str, why: str) -> str:
        m = Municipality.objects.filter(lg_code=code[:6]).first()
        return f"{m.name if m is not None else '指定された団体'}：{why}"

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if Group.objects.filter(name=name).exists():
            raise forms.ValidationError(f"「{name}」という群はすでにあります。別の名称にしてください。")
        return name


class MemberInviteForm(forms.Form):
    """Invite a government: municipalities of the members' prefectures and those prefectures' governments."""

    municipality = forms.ModelChoiceField(label="招待する団体", queryset=Municipality.objects.none())
    role = forms.ChoiceField(label="役割", choices=[(MemberRole.MEMBER.value, MemberRole.MEMBER.label),
                                                  (MemberRole.PREFECTURE.value, MemberRole.PREFECTURE.label),
                                                  (MemberRole.OBSERVER.value, MemberRole.OBSERVER.label)],
                             initial=MemberRole.MEMBER.value)

    def __init__(self, *args: Any, group: Group, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group = group
        prefs = group.accepted_members().values("municipality__prefecture_id")
        present = group.members.filter(status__in=[MemberStatus.ACCEPTED, MemberStatus.INVITED]).values("municipality_id")
        field = self.fields["municipality"]
        field.queryset = (Municipality.objects.filter(prefecture_id__in=prefs)  # type: ignore[attr-defined]
                          .exclude(kind="other").exclude(pk__in=present).order_by("lg_code"))
        field.label_from_instance = lambda m: m.name  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        muni = data.get("municipality")
        if muni is not None and data.get("role") == MemberRole.PREFECTURE and muni.kind != MunicipalityKind.PREFECTURE:
            raise forms.ValidationError(f"{muni.name}は都道府県ではありません。役割「構成団体」で招待してください。")
        return data


def _sector_choices() -> list[tuple[str, str]]:
    return [(s.code, s.name) for s in vocab.sectors()]


def _rule_choices() -> list[tuple[str, str]]:
    return [(r.key, r.name_ja) for r in share_rules()]  # each explained under the choices (settings.html)


class SettingsForm(forms.ModelForm):
    """The group's decisions. The cost share offers the rules groups use (gunmane/data/effects/share_rules.csv),
    the 均等割 ratio, an agreed percentage per member (協定で定める割合) and whether the supporting prefecture
    bears cost; saving writes them into the group's effect scenarios (GroupSettings.save)."""

    sectors = forms.MultipleChoiceField(label="対象分野", choices=_sector_choices, required=False,
                                        widget=forms.CheckboxSelectMultiple)
    work_kinds = forms.MultipleChoiceField(label="対象業務", choices=lambda: list(catalogue().work_kinds),
                                           required=False, widget=forms.CheckboxSelectMultiple)
    levers = forms.MultipleChoiceField(label="使う手段（束ね方）", required=False, widget=forms.CheckboxSelectMultiple,
                                       choices=lambda: [(k, f"{n}：{e}") for k, n, e in catalogue().levers])
    collaboration_types = forms.MultipleChoiceField(label="連携の類型（複数可）", choices=CollaborationType.choices,
                                                    required=False, widget=forms.CheckboxSelectMultiple)
    cost_share_rule = forms.ChoiceField(label="費用分担の規則（共同で発注する契約の費用の分け方）", choices=_rule_choices,
                                        widget=forms.RadioSelect)
    cost_share_equal_pct = forms.IntegerField(
        label="均等割の割合（%）", required=False, min_value=0, max_value=100,
        help_text="均等割＋施設割・均等割＋直接費割のとき、共同の契約の費用のうち参加団体で等分する割合（空欄なら 50%）")

    class Meta:
        model = GroupSettings
        fields = ["sectors", "work_kinds", "target_area", "issues", "bundle_owners", "bundle_people",
                  "bundle_contractors", "levers", "mechanism", "wants_permanent", "executes_for_others",
                  "shared_engineers", "cost_share_rule", "cost_share_equal_pct", "supporting_bears_cost",
                  "term_years", "start_fiscal_year"]
        widgets = {"issues": forms.Textarea(attrs={"rows": 4}), "bundle_owners": forms.Textarea(attrs={"rows": 2}),
                   "bundle_people": forms.Textarea(attrs={"rows": 2}),
                   "bundle_contractors": forms.Textarea(attrs={"rows": 2})}
        labels = {"term_years": "取組の期間（年、効果試算がないとき）",
                  "start_fiscal_year": "開始年度（効果試算がないとき）"}
        help_texts = {"term_years": "効果試算があるときは、文書の期間とスケジュールは効果試算の期間（開始年度と年数）に合わせます。",
                      "start_fiscal_year": "空欄なら翌年度。効果試算があるときは効果試算の開始年度に合わせます。"}

    def __init__(self, *args: Any, members: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.share_members = [m for m in (members or []) if m.role != MemberRole.OBSERVER]
        agreed = dict(self.instance.cost_share_agreed or {}) if self.instance is not None else {}
        for m in self.share_members:
            code = m.municipality.lg_code
            self.fields[f"agreed_{code}"] = forms.DecimalField(
                label=f"{m.municipality.name}（{m.get_role_display()}）の割合（%）", required=False, min_value=0,
                max_value=100, decimal_places=1, initial=agreed.get(code))

    def agreed_fields(self) -> list[Any]:
        return [self[f"agreed_{m.municipality.lg_code}"] for m in self.share_members]

    def clean_term_years(self) -> int:
        years = int(self.cleaned_data["term_years"])
        if not 1 <= years <= 10:
            raise forms.ValidationError("取組の期間は 1〜10 年にしてください。")
        return years

    def clean_start_fiscal_year(self) -> int | None:
        fy = self.cleaned_data.get("start_fiscal_year")
        if fy is not None and not 2020 <= fy <= 2060:
            raise forms.ValidationError("開始年度は 2020〜2060 の西暦で入力してください。")
        return fy

    def clean_cost_share_equal_pct(self) -> int:
        pct = self.cleaned_data.get("cost_share_equal_pct")
        return 50 if pct is None else int(pct)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        agreed: dict[str, float] = {}
        supporting_pays = bool(data.get("supporting_bears_cost"))
        for m in self.share_members:
            value = data.get(f"agreed_{m.municipality.lg_code}")
            if value is not None:
                agreed[m.municipality.lg_code] = float(value)
        if data.get("cost_share_rule") == "agreed":
            paying = [m for m in self.share_members if supporting_pays or m.role != MemberRole.PREFECTURE]
            missing = [m.municipality.name for m in paying if m.municipality.lg_code not in agreed]
            if missing:
                self.add_error(None, f"「協定で定める割合」では各団体の割合を入力してください（未入力：{'・'.join(missing)}）。")
            total = sum(agreed.get(m.municipality.lg_code, 0.0) for m in paying)
            if not missing and abs(total - 100.0) > 0.05:
                self.add_error(None, f"協定で定める割合の合計を 100% にしてください（いまの合計：{total:g}%）。")
            agreed = {m.municipality.lg_code: agreed.get(m.municipality.lg_code, 0.0) for m in paying}
        data["cost_share_agreed"] = agreed
        return data

    def save(self, commit: bool = True) -> GroupSettings:
        self.instance.cost_share_agreed = self.cleaned_data.get("cost_share_agreed", {})
        return super().save(commit=commit)


def _task_choices() -> list[tuple[str, str]]:
    return [(t.key, t.name + ("（本来管理者の判断）" if t.owner_judgement else "")) for t in catalogue().tasks]


class DutiesForm(forms.ModelForm):
    delegated_tasks = forms.MultipleChoiceField(label="群（幹事団体・県・受注者）に任せる作業", choices=_task_choices,
                                                required=False, widget=forms.CheckboxSelectMultiple)
    kept_judgements = forms.MultipleChoiceField(label="自ら行う判断・作業", choices=_task_choices, required=False,
                                                widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = MemberDuties
        fields = ["delegated_tasks", "kept_judgements", "plans"]
        widgets = {"plans": forms.Textarea(attrs={"rows": 3})}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        both = set(data.get("delegated_tasks") or []) & set(data.get("kept_judgements") or [])
        if both:
            names = dict(_task_choices())
            raise forms.ValidationError("同じ作業を「任せる」と「自ら行う」の両方に選んでいます：" +
                                        "、".join(names[k] for k in sorted(both)))
        return data


class ChecklistItemForm(forms.ModelForm):
    class Meta:
        model = ChecklistItem
        fields = ["status", "owner", "due_date", "evidence_url", "evidence_note"]
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"}), "evidence_note": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, group: Group, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = Municipality.objects.filter(  # type: ignore[attr-defined]
            group_memberships__group=group).order_by("lg_code")

    def clean_evidence_url(self) -> str:
        url = str(self.cleaned_data.get("evidence_url") or "").strip()
        if url and not (url.startswith("/") or url.startswith("http://") or url.startswith("https://")):
            raise forms.ValidationError("根拠のリンクは「/」で始まるこのシステムのページか、http(s):// のアドレスにしてください。")
        return url


class NewItemForm(forms.Form):
    stage = forms.ChoiceField(label="段階", choices=Stage.choices)
    title = forms.CharField(label="確認項目", max_length=300)


class PeopleMeasureForm(forms.ModelForm):
    support_body = forms.ChoiceField(label="支援機関", required=False,
                                     choices=lambda: [("", "（なし）")] + [(b["key"], b["name"])
                                                                          for b in catalogue().support_bodies])

    class Meta:
        model = PeopleMeasure
        fields = ["kind", "title", "support_body", "fiscal_year", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label="文書", choices=DocumentKind.choices)
    file_format = forms.ChoiceField(label="形式", choices=[("docx", "Word（編集できる）"), ("pdf", "PDF（印刷用）")])
    lot = forms.ChoiceField(label="ロット（仕様書のとき）", required=False, choices=[])

    def __init__(self, *args: Any, lots: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].choices = [("", "—"), *lots]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == DocumentKind.SPEC and not data.get("lot"):
            raise forms.ValidationError("仕様書はロットを選んでください。")
        return data


# --------------------------------------------------------------------------- 効果試算: the scenario editor

#: rows of the scenario table in the editor
MAX_SCENARIOS = 8


def numeric_parameters() -> list[Any]:
    """The engine's parameters a user may override with a number (shown, with sources, in the editor)."""
    p = effects_parameters()
    out = []
    for key in p:
        param = p.param(key)
        if isinstance(param.value, (int, float)) and not isinstance(param.value, bool):
            out.append(param)
    return out


class _Sent(forms.TextInput):
    """A widget that tells a field left out of the request (its default) from one sent empty (kept as "")."""

    def __init__(self, default: str) -> None:
        super().__init__()
        self.default = default

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name, self.default)


class _Values(forms.Field):
    """Every value sent under one name (checkboxes), unchecked: the scenario file's reader judges them."""

    widget = forms.SelectMultiple

    def to_python(self, value: Any) -> list[str]:
        return [str(v) for v in value or ()]


def _text(default: str | None = None, *, strip: bool = False) -> forms.CharField:
    widget = _Sent(default) if default is not None else None
    return forms.CharField(required=False, strip=strip, widget=widget)


class ScenarioForm(forms.Form):
    """The editor's fields → the scenario file's document (the TOML `gunmane effects` reads).

    Members and lots are not edited here: they are kept from the stored text (``stored``), as is anything
    else the file has that the editor does not show. Messages are in Japanese and say what was entered."""

    name = forms.CharField(required=False)
    description = forms.CharField(required=False)
    horizon_years = forms.CharField(required=False)
    lead = _text()
    sectors = _Values(required=False)
    cost_share = _text("direct_cost")
    costing_edition = _text()

    def __init__(self, data: Any, *, stored: dict[str, Any]) -> None:
        super().__init__(data)
        self.stored = stored
        self.parameters = numeric_parameters()
        for p in self.parameters:
            self.fields[f"param:{p.id}"] = forms.CharField(required=False)
        for i in range(MAX_SCENARIOS):
            self.fields[f"s{i}-name"] = forms.CharField(required=False)
            self.fields[f"s{i}-levers"] = _Values(required=False)
            self.fields[f"s{i}-h_mode"] = _text("one_contract")
            self.fields[f"s{i}-v_mode"] = _text("one_contract")
            self.fields[f"s{i}-years"] = _text("3")

    def clean_horizon_years(self) -> int:
        raw = self.cleaned_data["horizon_years"]
        lo, hi = 1, 10
        if not raw.isdigit() or not lo <= int(raw) <= hi:
            raise forms.ValidationError(f"試算期間は {lo}〜{hi} 年の整数で入力してください（入力：「{raw}」）。")
        return int(raw)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        overrides: dict[str, Any] = {}
        for p in self.parameters:
            key = f"param:{p.id}"
            raw = str(data.get(key, "")).replace(",", "")
            if not raw:
                continue
            try:
                overrides[p.id] = int(raw) if isinstance(p.value, int) and raw.lstrip("-").isdigit() else float(raw)
            except ValueError:
                self.add_error(key, f"パラメータ「{p.label_ja}」の値「{raw}」は数値ではありません。")
        data["parameters"] = overrides
        scenarios = []
        for i in range(MAX_SCENARIOS):
            name, kinds = data.get(f"s{i}-name", ""), data.get(f"s{i}-levers", [])
            if not name and not kinds:
                continue
            if not name:
                self.add_error(f"s{i}-name", f"{i + 1}番目のシナリオに名前を付けてください。")
                continue
            levers: list[dict[str, Any]] = []
            for kind in kinds:
                lever: dict[str, Any] = {"kind": kind}
                if kind == "horizontal":
                    lever["mode"] = data[f"s{i}-h_mode"]
                if kind == "vertical":
                    lever["mode"] = data[f"s{i}-v_mode"]
                if kind == "years":
                    raw = data[f"s{i}-years"]
                    if not raw.isdigit() or not 2 <= int(raw) <= 10:
                        self.add_error(f"s{i}-years", f"「{name}」の契約年数は 2〜10 年にしてください（入力：「{raw}」）。")
                        continue
                    lever["years"] = int(raw)
                levers.append(lever)
            scenarios.append({"name": name, "levers": levers})
        if not scenarios:
            self.add_error(None, "シナリオを1つ以上つくってください。")
        data["scenarios"] = scenarios
        return data

    def messages(self) -> list[str]:
        """Every message, in the order of the page (conditions, parameters, scenarios, then the form's own)."""
        out = [str(m) for name in self.fields for m in self.errors.get(name, ())]
        return out + [str(m) for m in self.non_field_errors()]

    def document(self) -> dict[str, Any]:
        """The scenario file's document (valid forms only)."""
        data = self.cleaned_data
        doc = dict(self.stored)
        doc["name"] = data["name"] or self.stored.get("name", "効果試算")
        doc["description"] = data["description"]
        doc["horizon_years"] = data["horizon_years"]
        if data["lead"]:
            doc["lead"] = data["lead"]
        if data["sectors"]:
            doc["sectors"] = data["sectors"]
        else:
            doc.pop("sectors", None)
        doc["cost_share"] = data["cost_share"]
        doc["costing_edition"] = data["costing_edition"] or "FY2022"
        doc["parameters"] = data["parameters"]
        doc["scenario"] = data["scenarios"]
        return doc
