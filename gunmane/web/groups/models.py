"""群 (Group): members and their roles. The workspace around it (process, surveys, documents) builds on this."""

from __future__ import annotations

import tomllib
from typing import Any

import tomli_w
from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from gunmane.io.scenario import set_cost_share
from gunmane.io.shipped.parameters import share_rules
from gunmane.web.registry.models import Municipality


class CollaborationType(models.TextChoices):
    HORIZONTAL = "horizontal", "広域連携（水平連携）"
    VERTICAL = "vertical", "広域連携（垂直連携）"
    MULTI_SECTOR = "multi_sector", "多分野連携"


class MemberRole(models.TextChoices):
    LEAD = "lead", "幹事"
    MEMBER = "member", "構成団体"
    PREFECTURE = "prefecture", "都道府県（支援）"
    OBSERVER = "observer", "オブザーバー"


class MemberStatus(models.TextChoices):
    """Membership is by consent (docs/groups.md): invited by the group, accepted by the joining municipality."""

    INVITED = "invited", "招待中"
    ACCEPTED = "accepted", "参加"
    DECLINED = "declined", "辞退"
    LEFT = "left", "脱退"


class GroupMemberQuerySet(models.QuerySet["GroupMember"]):
    def accepted(self) -> GroupMemberQuerySet:
        """Members whose editors accepted: the only ones whose data any computation of the group may use."""
        return self.filter(status=MemberStatus.ACCEPTED)


class Group(models.Model):
    name = models.CharField("群の名称", max_length=100, unique=True)
    description = models.TextField("概要", blank=True)
    collaboration_types = models.JSONField("連携の類型", default=list, blank=True,
                                           help_text="horizontal / vertical / multi_sector（複数可）")
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "群"

    def __str__(self) -> str:
        return self.name

    def accepted_members(self) -> GroupMemberQuerySet:
        """The members that consented; invited, declined and departed municipalities are not part of the group."""
        return self.members.accepted()

    def member_codes(self, *, include_observers: bool = False) -> list[str]:
        """lg_codes of the accepted members whose facilities the group's figures cover."""
        qs = self.accepted_members().select_related("municipality")
        if not include_observers:
            qs = qs.exclude(role=MemberRole.OBSERVER)
        return [m.municipality.lg_code for m in qs]

    def collaboration_labels(self) -> list[str]:
        labels = dict(CollaborationType.choices)
        return [labels.get(c, c) for c in self.collaboration_types]


class GroupMember(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members", verbose_name="群")
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="group_memberships",
                                     verbose_name="団体")
    role = models.CharField("役割", max_length=20, choices=MemberRole.choices, default=MemberRole.MEMBER)
    status = models.CharField("参加の状態", max_length=10, choices=MemberStatus.choices, default=MemberStatus.INVITED)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name="招待した人")
    invited_at = models.DateTimeField("招待日時", null=True, blank=True)
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name="回答した人")
    responded_at = models.DateTimeField("回答日時", null=True, blank=True)

    objects = GroupMemberQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["group", "municipality__lg_code"]
        constraints = [models.UniqueConstraint(fields=["group", "municipality"], name="uniq_group_member")]
        verbose_name = verbose_name_plural = "群の構成団体"

    def __str__(self) -> str:
        return f"{self.group}：{self.municipality}（{self.get_role_display()}・{self.get_status_display()}）"

    @property
    def is_accepted(self) -> bool:
        return self.status == MemberStatus.ACCEPTED


# ---------------------------------------------------------------------------------------------------------
# The workspace: what the group decided (scope, bundles, levers, mechanism), its process, people, documents.


class Mechanism(models.TextChoices):
    """地方自治法の連携の仕組み (gunmane/data/groups/mechanisms.json explains each)."""

    AGREEMENT = "agreement", "協定・覚書"
    COUNCIL = "council", "協議会"
    JOINT_ORGAN = "joint_organ", "機関等の共同設置"
    DELEGATION = "delegation", "事務の委託"
    SUBSTITUTE = "substitute", "事務の代替執行"
    PARTNERSHIP = "partnership", "連携協約"
    ASSOCIATION = "association", "一部事務組合"
    UNION = "union", "広域連合"


def cost_share_choices() -> list[tuple[str, str]]:
    """The cost-share rules groups use (data: gunmane/data/effects/share_rules.csv)."""
    return [(r.key, r.name_ja) for r in share_rules()]


DEFAULT_COST_SHARE = "facility_count"


class GroupSettings(models.Model):
    """What the group decided. One row per group (kept apart from Group so the カルテ code stays small)."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="settings", verbose_name="群")
    sectors = models.JSONField("対象分野", default=list, blank=True, help_text="分野コード（road, river …）")
    work_kinds = models.JSONField("対象業務", default=list, blank=True)
    target_area = models.CharField("対象区域", max_length=300, blank=True)
    issues = models.TextField("課題（1行に1つ）", blank=True)
    bundle_owners = models.TextField("自治体の束（発注側の連携）", blank=True)
    bundle_people = models.TextField("技術者の束（人の群マネ）", blank=True)
    bundle_contractors = models.TextField("事業者の束（JV・地域維持型JV・事業協同組合）", blank=True)
    levers = models.JSONField("使う手段", default=list, blank=True)
    mechanism = models.CharField("連携の仕組み", max_length=20, choices=Mechanism.choices, blank=True)
    wants_permanent = models.BooleanField("首長が替わっても続く枠組みにしたい", default=False)
    executes_for_others = models.BooleanField("ある団体（または県）が他の団体の作業を行う", default=False)
    shared_engineers = models.BooleanField("技術職員を共同で置く・共有する", default=False)
    cost_share_rule = models.CharField("費用分担の規則", max_length=20, choices=cost_share_choices,
                                       default=DEFAULT_COST_SHARE)
    cost_share_equal_pct = models.PositiveSmallIntegerField(
        "均等割の割合（%）", default=50, help_text="均等割＋施設割・均等割＋直接費割のとき、共同の契約の費用のうち参加団体で等分する割合")
    cost_share_agreed = models.JSONField("協定で定める割合（団体コード → %）", default=dict, blank=True)
    supporting_bears_cost = models.BooleanField(
        "支援する都道府県も費用を負担する", default=False,
        help_text="選ばないとき、支援の都道府県の施設は群の対象に含めず、費用も負担しません。")
    term_years = models.PositiveSmallIntegerField("協定の期間（年）", default=3)
    start_fiscal_year = models.PositiveSmallIntegerField("開始年度", null=True, blank=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "群の設定"

    def __str__(self) -> str:
        return f"{self.group}の設定"

    def issue_lines(self) -> list[str]:
        return [ln.strip() for ln in self.issues.splitlines() if ln.strip()]

    def supporting_codes(self) -> set[str]:
        """Members that only support (the prefecture): no facilities in scope and no cost, unless the group
        decided that they bear cost."""
        if self.supporting_bears_cost:
            return set()
        return set(self.group.accepted_members().filter(role=MemberRole.PREFECTURE)
                   .values_list("municipality__lg_code", flat=True))

    def apply_cost_share(self, doc: dict[str, Any]) -> dict[str, Any]:
        """A scenario document with this group's cost-share decision written into it (io.scenario.set_cost_share)."""
        return set_cost_share(doc, self.cost_share_rule, equal_part=self.cost_share_equal_pct / 100,
                              agreed={str(k): float(v) for k, v in (self.cost_share_agreed or {}).items()},
                              supporting=self.supporting_codes())

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # the stored scenarios follow the decision at once (their dates and history stay: only the rule changed)
        for es in self.group.effect_scenarios.all():
            text = with_cost_share(es.toml, self)
            if text != es.toml:
                EffectScenario.objects.filter(pk=es.pk).update(toml=text)


class MemberDuties(models.Model):
    """Per member: tasks it hands to the group (lead, prefecture, contractor) and judgements it keeps.

    The 本来管理者 stays recorded on every facility; this records what is delegated, following the
    guide's caution against leaving one's responsibility to partners."""

    member = models.OneToOneField(GroupMember, on_delete=models.CASCADE, related_name="duties", verbose_name="構成団体")
    delegated_tasks = models.JSONField("群に任せる作業", default=list, blank=True)
    kept_judgements = models.JSONField("自ら行う判断", default=list, blank=True)
    plans = models.TextField("公共施設等総合管理計画・個別施設計画（1行に1つ、名称または URL）", blank=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "構成団体の役割"


class Stage(models.TextChoices):
    INTRODUCTION = "introduction", "導入検討"
    POLICY = "policy", "実施方針検討"
    PROCUREMENT = "procurement", "予算要求・発注手続き"
    IMPLEMENTATION = "implementation", "実施"
    EVALUATION = "evaluation", "評価・次期事業の検討"


class ItemStatus(models.TextChoices):
    TODO = "todo", "未着手"
    DOING = "doing", "進行中"
    DONE = "done", "完了"
    NOT_APPLICABLE = "na", "対象外"


class ChecklistItem(models.Model):
    """A check item of a stage (seeded from gunmane/data/groups/process.json, editable per group)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="checklist", verbose_name="群")
    stage = models.CharField("段階", max_length=20, choices=Stage.choices)
    order = models.PositiveSmallIntegerField("順番", default=0)
    title = models.CharField("確認項目", max_length=300)
    evidence_hint = models.CharField("根拠となる資料", max_length=200, blank=True)
    owner = models.ForeignKey(Municipality, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+", verbose_name="担当団体")
    due_date = models.DateField("期限", null=True, blank=True)
    status = models.CharField("状態", max_length=10, choices=ItemStatus.choices, default=ItemStatus.TODO)
    evidence_url = models.CharField("根拠（リンク）", max_length=500, blank=True,
                                    help_text="カルテ・効果試算・アンケート・文書などのページのアドレス")
    evidence_note = models.TextField("メモ", blank=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["group", "stage", "order", "id"]
        verbose_name = verbose_name_plural = "確認項目"

    def __str__(self) -> str:
        return self.title


class ChecklistEvent(models.Model):
    """Who changed what on a check item (the history the issue asks for)."""

    item = models.ForeignKey(ChecklistItem, on_delete=models.CASCADE, related_name="events", verbose_name="確認項目")
    user = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, verbose_name="変更した人")
    at = models.DateTimeField("日時", auto_now_add=True)
    changes = models.JSONField("変更内容", default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = verbose_name_plural = "確認項目の変更履歴"


class PeopleMeasure(models.Model):
    """A people measure of the group (人の群マネ): training plan, shared engineer, advisor, network."""

    class Kind(models.TextChoices):
        TRAINING = "training", "研修"
        SHARED_ENGINEER = "shared_engineer", "技術者の共有・共同設置"
        ADVISOR = "advisor", "アドバイザー・伴走支援"
        NETWORK = "network", "ネットワーク・交流"

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="people_measures", verbose_name="群")
    kind = models.CharField("種類", max_length=20, choices=Kind.choices)
    title = models.CharField("内容", max_length=200)
    support_body = models.CharField("支援機関（カタログのキー）", max_length=40, blank=True)
    fiscal_year = models.PositiveSmallIntegerField("年度", null=True, blank=True)
    note = models.TextField("メモ", blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["group", "fiscal_year", "id"]
        verbose_name = verbose_name_plural = "人の群マネの取り組み"


class DocumentKind(models.TextChoices):
    POLICY = "policy", "実施方針"
    AGREEMENT = "agreement", "協定書（案）"
    SPEC = "spec", "仕様書（発注図書）"


class GeneratedDocument(models.Model):
    """Each generation is kept with the inputs it was built from (versioned per group and kind)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="documents", verbose_name="群")
    kind = models.CharField("文書", max_length=20, choices=DocumentKind.choices)
    version = models.PositiveIntegerField("版")
    file_format = models.CharField("形式", max_length=5, choices=[("docx", "Word"), ("pdf", "PDF")])
    lot = models.CharField("ロット", max_length=40, blank=True)
    file = models.FileField("ファイル", upload_to="documents/%Y/%m/")
    inputs = models.JSONField("作成に使ったデータ", default=dict)
    created_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True,
                                   verbose_name="作成者")
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["group", "kind", "-version", "file_format"]
        verbose_name = verbose_name_plural = "作成した文書"


class EffectScenario(models.Model):
    """A group's 効果試算: the scenario file text (the same TOML `gunmane effects` reads) and which of its
    scenarios the documents use.

    The group's settings decide the cost share: saving writes them into the text (``cost_share``, the equal
    part, the agreed shares, the supporting members), so the stored file alone gives the figures the pages,
    the documents and ``gunmane effects`` show."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="effect_scenarios", verbose_name="群")
    name = models.CharField("名称", max_length=100)
    toml = models.TextField("シナリオファイル（TOML）")
    chosen_index = models.PositiveSmallIntegerField("文書に使うシナリオ（番号）", default=0)
    created_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True, verbose_name="作成者")
    updated_at = models.DateTimeField("更新日時", auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["group", "-updated_at"]
        verbose_name = verbose_name_plural = "効果試算のシナリオ"

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        settings_row = GroupSettings.objects.filter(group_id=self.group_id).first()
        if settings_row is not None:
            self.toml = with_cost_share(self.toml, settings_row)
        super().save(*args, **kwargs)


def with_cost_share(text: str, settings_row: GroupSettings) -> str:
    """The scenario text with the group's cost-share decision (unchanged when the text is not valid TOML: the
    editor reports that)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return text
    new = settings_row.apply_cost_share(doc)
    return text if new == doc else tomli_w.dumps(new)


class SavedDistricting(models.Model):
    """The districting a group chose on its 地域分割 page (「この地区割りをロット設計に使う」): which district each
    facility is in, with the parameters and figures it was computed with. The lot design keeps every lot inside
    one district (gunmane.engine.lots.design_lots ``districts``). One per group; saving again replaces it."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="saved_districting", verbose_name="群")
    assignment = models.JSONField("施設ごとの地区", default=dict, help_text="施設（台帳の内部番号）→ 地区の番号")
    parameters = models.JSONField("条件", default=dict, help_text="D（km）、L、地区数、q とその出典、施設の種類")
    summary = models.TextField("要約", blank=True)
    created_by = models.ForeignKey("auth.User", on_delete=models.SET_NULL, null=True, blank=True, verbose_name="保存した人")
    updated_at = models.DateTimeField("保存日時", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "ロット設計に使う地区割り"

    def __str__(self) -> str:
        return f"{self.group.name} の地区割り"

    @property
    def districts(self) -> int:
        return len(set(self.assignment.values()))
