"""The shared facility ledger (施設台帳): reference data, facilities, inspections, measures, imports.

Names follow the project glossary; the Japanese term is the verbose_name shown in the UI and admin.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.signals import pre_save
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from gunmane.engine.scales import Scale
from gunmane.io.ledger.grades import band_of, grade_long, scale_by_id, scale_choices


class MunicipalityKind(models.TextChoices):
    PREFECTURE = "prefecture", "都道府県"
    DESIGNATED_CITY = "designated_city", "政令市"
    CORE_CITY = "core_city", "中核市"
    CITY = "city", "市"
    TOWN = "town", "町"
    VILLAGE = "village", "村"
    SPECIAL_WARD = "special_ward", "特別区"
    # Road managers that are not local governments (national offices, expressway companies, road
    # corporations, joint boards), kept only when a national-data import is asked to (gunmane import nenpo
    # --keep-other-managers). Their lg_code is xROAD's kanrisya_code or a generated "X…" code.
    OTHER = "other", "その他の道路管理者"


class Prefecture(models.Model):
    """都道府県 as a geographic grouping (its own government is a Municipality of kind prefecture)."""

    code = models.CharField("都道府県コード", max_length=2, unique=True)
    name = models.CharField("都道府県名", max_length=10)
    name_kana = models.CharField("よみ", max_length=20, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = verbose_name_plural = "都道府県"

    def __str__(self) -> str:
        return self.name


class Municipality(models.Model):
    """A local government (地方公共団体): prefecture, city, town, village or special ward."""

    #: the kinds, reachable from the model (accounts' rules find the model through Membership's relation)
    Kind = MunicipalityKind

    lg_code = models.CharField("団体コード", max_length=6, unique=True)
    code5 = models.CharField("団体コード（5桁）", max_length=5, unique=True)
    prefecture = models.ForeignKey(Prefecture, on_delete=models.PROTECT, related_name="municipalities",
                                   verbose_name="都道府県")
    name = models.CharField("団体名", max_length=40)
    name_kana = models.CharField("よみ", max_length=60, blank=True)
    kind = models.CharField("区分", max_length=20, choices=MunicipalityKind.choices)
    office_lat = models.FloatField("庁舎緯度", null=True, blank=True)
    office_lon = models.FloatField("庁舎経度", null=True, blank=True)
    population = models.IntegerField("人口", null=True, blank=True)
    area_km2 = models.FloatField("面積(km2)", null=True, blank=True)
    website = models.URLField("ウェブサイト", blank=True)
    publishes_ledger_figures = models.BooleanField(
        "台帳から計算した指標を公開する", default=False,
        help_text="公開すると、施設数・点検期限切れ・措置未着手・健全性の分布などの台帳指標を、"
                  "だれでも（ログインしていない訪問者も）カルテで見られます（施設ごとの台帳は公開されません）。")

    class Meta:
        ordering = ["lg_code"]
        verbose_name = verbose_name_plural = "地方公共団体"

    def __str__(self) -> str:
        if self.kind == MunicipalityKind.PREFECTURE:
            return self.name
        return f"{self.prefecture.name}{self.name}" if self.prefecture_id else self.name

    @property
    def is_prefecture(self) -> bool:
        return self.kind == MunicipalityKind.PREFECTURE


class MunicipalYearStats(models.Model):
    """Statistics of one local government for one fiscal year (年度).

    Blank means unknown, never zero. `civil_engineers` is entered by users: no open dataset has it.
    """

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="year_stats",
                                     verbose_name="団体")
    fiscal_year = models.PositiveSmallIntegerField("年度")
    population = models.IntegerField("人口", null=True, blank=True)
    civil_engineering_expenditure = models.BigIntegerField("土木費(円)", null=True, blank=True)
    total_expenditure = models.BigIntegerField("歳出総額(円)", null=True, blank=True)
    road_length_m = models.FloatField("道路実延長(m)", null=True, blank=True)
    park_area_m2 = models.FloatField("公園面積(m2)", null=True, blank=True)
    bridges_inspected = models.IntegerField("点検済み橋梁数", null=True, blank=True)
    bridges_need_repair = models.IntegerField("判定区分III・IVの橋梁数", null=True, blank=True)
    fiscal_capability_index = models.FloatField("財政力指数", null=True, blank=True)
    elderly_ratio = models.FloatField("高齢化率", null=True, blank=True)
    civil_engineers = models.PositiveIntegerField("技術系職員数（土木）", null=True, blank=True,
                                                  help_text="利用者が入力します（公開データがないため）。")
    extra = models.JSONField("その他の指標", default=dict, blank=True)
    source = models.CharField("出典", max_length=300, blank=True)

    class Meta:
        ordering = ["municipality", "fiscal_year"]
        constraints = [models.UniqueConstraint(fields=["municipality", "fiscal_year"],
                                               name="uniq_stats_municipality_year")]
        verbose_name = verbose_name_plural = "団体の年度統計"

    def __str__(self) -> str:
        return f"{self.municipality} {self.fiscal_year}年度"


class HealthScale(models.TextChoices):
    """The road scale's id, kept for code that names it; every shipped scale is a valid health_scale
    (gunmane/data/scales, see FacilityType.health_scale)."""

    ROAD_I_IV = "I-IV", "健全性 Ⅰ〜Ⅳ（道路構造物）"


class Sector(models.Model):
    """分野: road, river, park, sewer …"""

    code = models.SlugField("コード", max_length=20, unique=True)
    name = models.CharField("分野", max_length=20, unique=True)
    name_en = models.CharField("英語名", max_length=40)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = verbose_name_plural = "分野"

    def __str__(self) -> str:
        return self.name


class FacilityType(models.Model):
    """施設種別, with the health scale its inspections use."""

    code = models.SlugField("コード", max_length=30, unique=True)
    sector = models.ForeignKey(Sector, on_delete=models.PROTECT, related_name="facility_types",
                               verbose_name="分野")
    name = models.CharField("施設種別", max_length=30, unique=True)
    name_en = models.CharField("英語名", max_length=60)
    # The id of the inspection scale (gunmane/data/scales): 健全性 Ⅰ〜Ⅳ, 健全度 A〜D, 緊急度 …
    health_scale = models.CharField("点検の尺度", max_length=10, choices=scale_choices,
                                    default=HealthScale.ROAD_I_IV)
    inspection_cycle_years = models.PositiveSmallIntegerField("定期点検の周期（年）", null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sector__order", "order", "code"]
        verbose_name = verbose_name_plural = "施設種別"

    def __str__(self) -> str:
        return self.name

    @property
    def scale(self) -> Scale:
        return scale_by_id(self.health_scale)


class HealthGrade(models.IntegerChoices):
    """健全性 / 判定区分 I–IV (MLIT notice No. 426 of 2014)."""

    I = 1, "Ⅰ 健全"  # noqa: E741 — the grade is called I
    II = 2, "Ⅱ 予防保全段階"
    III = 3, "Ⅲ 早期措置段階"
    IV = 4, "Ⅳ 緊急措置段階"


class ChangeRecordBase(models.Model):
    """What every change record (変更履歴, a django-simple-history row) carries besides who, when and the snapshot.

    `import_record`: the import that made the change (imports write their change records in bulk, see
    registry.imports.bulk), or that an undo reverted. `changes`: for a change ("~"), each changed field's value
    before and after, {attname: [before, after]} — kept explicitly so that an undo and the history pages
    never depend on an earlier snapshot existing (rows imported before history was recorded have none).
    """

    import_record = models.ForeignKey("registry.ImportRecord", on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="+", verbose_name="取り込み")
    changes = models.JSONField("変更内容", null=True, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        abstract = True


class LedgerHistory(HistoricalRecords):
    """HistoricalRecords without indexes on history_date and history_user.

    Nothing looks change records up by date or by user (pages go by row, facility and import), while every
    import writes one per row: those two indexes were a fifth of the bytes an import added (the date is
    stored as text), measured on 20,000 facilities and 40,000 inspections.
    """

    @property
    def _date_indexing(self) -> bool:
        return False

    def _get_history_user_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = super()._get_history_user_fields()
        fields["history_user"].db_index = False
        return fields


# history_change_reason of change records made by gunmane itself (a page's changes carry its path instead).
REASON_IMPORT = "import"
REASON_UNDO = "undo"
REASON_DELETE = "delete"
REASON_RESTORE = "restore"


class Facility(models.Model):
    """施設: one entry of the ledger. `manager` is the 本来管理者 and stays so inside any group."""

    manager = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="facilities",
                                verbose_name="本来管理者")
    facility_id = models.CharField("施設ID", max_length=64)
    national_id = models.CharField("全国施設番号", max_length=40, blank=True, db_index=True)
    name = models.CharField("施設名", max_length=200)
    name_kana = models.CharField("よみ", max_length=200, blank=True)
    sector = models.ForeignKey(Sector, on_delete=models.PROTECT, verbose_name="分野")
    facility_type = models.ForeignKey(FacilityType, on_delete=models.PROTECT, verbose_name="施設種別")
    built_year = models.PositiveSmallIntegerField("建設年度", null=True, blank=True)
    built_year_raw = models.CharField("建設年度（入力値）", max_length=40, blank=True)
    length_m = models.FloatField("延長(m)", null=True, blank=True)
    width_m = models.FloatField("幅員(m)", null=True, blank=True)
    area_m2 = models.FloatField("面積(m2)", null=True, blank=True)
    lat = models.FloatField("緯度", null=True, blank=True)
    lon = models.FloatField("経度", null=True, blank=True)
    route = models.CharField("路線名", max_length=200, blank=True)
    address = models.CharField("所在地", max_length=300, blank=True)
    structure = models.CharField("構造形式", max_length=200, blank=True)
    note = models.TextField("備考", blank=True)
    attributes = models.JSONField("その他の属性", default=dict, blank=True)
    is_synthetic = models.BooleanField("合成データ", default=False)
    # Denormalised from Inspection so that the ledger can filter and sort by grade at 100,000
    # facilities without a correlated subquery; kept up to date by the inspection importer.
    # latest_grade is on the facility type's scale; latest_band is its common band (cross-sector views).
    latest_grade = models.PositiveSmallIntegerField("最新の判定区分", null=True, blank=True)
    latest_band = models.PositiveSmallIntegerField("最新の共通の緊急度区分", null=True, blank=True)
    latest_inspected_on = models.DateField("最新の点検日", null=True, blank=True)
    created_at = models.DateTimeField("登録日時", auto_now_add=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)
    # The latest grade follows the inspections (their own history); updated_at is the history's date.
    history = LedgerHistory(bases=[ChangeRecordBase], verbose_name="施設の変更履歴",
                                verbose_name_plural="施設の変更履歴",
                                excluded_fields=["latest_grade", "latest_band", "latest_inspected_on", "updated_at"],
                                no_db_index=["sector", "facility_type", "national_id"])

    class Meta:
        ordering = ["manager", "facility_id"]
        constraints = [models.UniqueConstraint(fields=["manager", "facility_id"],
                                               name="uniq_facility_manager_id")]
        indexes = [
            models.Index(fields=["manager", "sector"]),
            models.Index(fields=["manager", "facility_type"]),
            models.Index(fields=["manager", "latest_grade"]),
            models.Index(fields=["manager", "built_year"]),
            models.Index(fields=["manager", "name"]),
        ]
        verbose_name = verbose_name_plural = "施設"

    def __str__(self) -> str:
        return f"{self.name}（{self.facility_id}）"

    @property
    def scale(self) -> Scale:
        return self.facility_type.scale

    def get_latest_grade_display(self) -> str:
        return grade_long(self.scale, self.latest_grade)


class InspectionKind(models.TextChoices):
    PERIODIC = "定期点検", "定期点検"
    EXTRAORDINARY = "臨時点検", "臨時点検"
    DAILY = "日常点検", "日常点検"
    OTHER = "その他", "その他"


class Inspection(models.Model):
    """点検: a dated judgment of a facility's health grade. Natural key: facility, date, kind.

    ``grade`` is the 1-based index on the facility type's own scale (1 = best; on road structures the 健全性
    Ⅰ〜Ⅳ), ``grade_raw`` the text as written, ``band`` the common urgency band derived from them (stored for
    cross-sector queries; None where the scale has no grades), ``measured_value`` a measured value the grade
    came with (舗装 MCI)."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="inspections",
                                 verbose_name="施設")
    inspected_on = models.DateField("点検年月日")
    grade = models.PositiveSmallIntegerField("判定区分")
    grade_raw = models.CharField("判定区分（入力値）", max_length=40, blank=True)
    band = models.PositiveSmallIntegerField("共通の緊急度区分", null=True, blank=True)
    measured_value = models.FloatField("測定値（MCI など）", null=True, blank=True)
    inspector = models.CharField("点検者", max_length=200, blank=True)
    kind = models.CharField("点検種別", max_length=20, default=InspectionKind.PERIODIC)
    # Provenance of an inspection read from national data (道路メンテナンス年報 list or xROAD): which
    # source, the fiscal year of the list, the file and the row. Such inspections are known to the fiscal
    # year only and are dated 1 October of it (gunmane.io.national.common).
    source = models.CharField("出典", max_length=10, blank=True, choices=[("", "台帳"), ("nenpo", "道路メンテナンス年報"),
                                                                       ("xroad", "xROAD")])
    source_fiscal_year = models.PositiveSmallIntegerField("出典の年度", null=True, blank=True)
    source_file = models.CharField("出典ファイル", max_length=255, blank=True)
    source_row = models.PositiveIntegerField("出典の行", null=True, blank=True)
    history = LedgerHistory(bases=[ChangeRecordBase], verbose_name="点検の変更履歴",
                                verbose_name_plural="点検の変更履歴")

    class Meta:
        ordering = ["facility", "inspected_on"]
        constraints = [models.UniqueConstraint(fields=["facility", "inspected_on", "kind"],
                                               name="uniq_inspection_facility_date_kind")]
        verbose_name = verbose_name_plural = "点検"

    def __str__(self) -> str:
        return f"{self.facility} {self.inspected_on} {self.get_grade_display()}"

    @property
    def scale(self) -> Scale:
        return self.facility.facility_type.scale

    def get_grade_display(self) -> str:
        """The grade on its scale: 「Ⅲ 早期措置段階」「健全度C 全体的に劣化」「緊急度Ⅱ 中度」."""
        return grade_long(self.scale, self.grade)

    def clean(self) -> None:
        super().clean()
        if self.facility_id is None or self.grade is None:
            return
        sc = self.scale
        if not 1 <= self.grade <= len(sc.grades):
            raise ValidationError({"grade": f"{sc.subject}は {sc.accepted} で、{len(sc.grades)} 区分です"
                                            f"（{self.grade} はありません）。"})

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.facility_id is not None and self.grade is not None:
            self.band = band_of(self.scale, self.grade)
        super().save(*args, **kwargs)


class MeasureKind(models.TextChoices):
    REPAIR = "修繕", "修繕"
    RENEWAL = "更新", "更新"
    REMOVAL = "撤去", "撤去"
    CONSOLIDATION = "集約", "集約"
    REINFORCEMENT = "補強", "補強"


class MeasureStatus(models.TextChoices):
    NOT_STARTED = "未着手", "未着手"
    DESIGNING = "設計中", "設計中"
    UNDER_WORKS = "工事中", "工事中"
    COMPLETED = "完了", "完了"


class Measure(models.Model):
    """措置: repair, renewal, removal … planned or done. Natural key: facility, fiscal year, kind."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="measures",
                                 verbose_name="施設")
    kind = models.CharField("措置区分", max_length=10, choices=MeasureKind.choices)
    fiscal_year = models.PositiveSmallIntegerField("措置年度")
    status = models.CharField("状態", max_length=10, choices=MeasureStatus.choices,
                              default=MeasureStatus.NOT_STARTED)
    cost_thousand_yen = models.FloatField("費用(千円)", null=True, blank=True)
    note = models.TextField("備考", blank=True)
    history = LedgerHistory(bases=[ChangeRecordBase], verbose_name="措置の変更履歴",
                                verbose_name_plural="措置の変更履歴")

    class Meta:
        ordering = ["facility", "fiscal_year"]
        constraints = [models.UniqueConstraint(fields=["facility", "fiscal_year", "kind"],
                                               name="uniq_measure_facility_year_kind")]
        verbose_name = verbose_name_plural = "措置"

    def __str__(self) -> str:
        return f"{self.facility} {self.fiscal_year}年度 {self.kind}（{self.status}）"


class ImportKind(models.TextChoices):
    FACILITIES = "facilities", "施設台帳"
    INSPECTIONS = "inspections", "点検結果"
    MEASURES = "measures", "措置"
    NENPO = "nenpo", "道路メンテナンス年報（施設名一覧）"
    XROAD = "xroad", "xROAD（全国道路施設点検データベース）"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "待機中"
    RUNNING = "running", "処理中"
    SUCCEEDED = "succeeded", "取込完了"
    DRY_RUN = "dry_run", "検証のみ（未登録）"
    INVALID = "invalid", "エラーのため取り込みませんでした"
    FAILED = "failed", "失敗"
    UNDONE = "undone", "取り消し済み"


class ImportRecord(models.Model):
    """One import of a ledger file: who, when, the original file (kept), counts, errors, warnings."""

    kind = models.CharField("種類", max_length=20, choices=ImportKind.choices)
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="imports",
                                     verbose_name="団体", null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="imports", verbose_name="実行者")
    created_at = models.DateTimeField("開始日時", auto_now_add=True)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    status = models.CharField("状態", max_length=20, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    file = models.FileField("元ファイル", upload_to="imports/%Y/%m/", max_length=300)
    original_name = models.CharField("ファイル名", max_length=255)
    encoding = models.CharField("文字コード", max_length=20, blank=True)
    dry_run = models.BooleanField("検証のみ", default=False)
    skip_invalid = models.BooleanField("エラー行を除いて取り込む", default=False)
    clear_blanks = models.BooleanField(
        "空欄のセルで登録済みの値を消す", default=False,
        help_text="チェックしないと、空欄のセルは登録済みの値をそのまま残します（警告に表示）。")
    rows_total = models.PositiveIntegerField("総行数（見込み）", default=0)
    rows_processed = models.PositiveIntegerField("処理済み行数", default=0)
    rows = models.PositiveIntegerField("行数", default=0)
    valid = models.PositiveIntegerField("正常行", default=0)
    invalid = models.PositiveIntegerField("エラー行", default=0)
    created = models.PositiveIntegerField("新規", default=0)
    updated = models.PositiveIntegerField("更新", default=0)
    unchanged = models.PositiveIntegerField("変更なし", default=0)
    errors = models.JSONField("エラー", default=list, blank=True)
    warnings = models.JSONField("警告", default=list, blank=True)
    errors_truncated = models.BooleanField("エラー一覧を省略", default=False)
    message = models.TextField("メッセージ", blank=True)
    unused_columns = models.JSONField("取り込まなかった列", default=list, blank=True)
    # Who runs it (an import runs in a thread of a web server or in a `gunmane import` process): the host,
    # the process id and that process's start time (a pid is reused), and when it last said it was alive.
    # A record left running by a process that is gone is marked failed (imports.records.mark_interrupted_imports).
    worker_host = models.CharField("実行しているホスト", max_length=255, blank=True)
    worker_pid = models.PositiveIntegerField("実行しているプロセス", null=True, blank=True)
    worker_started_at = models.DateTimeField("プロセスの開始日時", null=True, blank=True)
    heartbeat_at = models.DateTimeField("最終応答日時", null=True, blank=True)
    rerun_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reruns",
                                 verbose_name="もう一度取り込んだ元の取り込み")
    undone_at = models.DateTimeField("取り消した日時", null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name="取り消した人")
    # The quality report of a national-data import (gunmane.web.registry.imports.national.QualityReport.as_json()).
    quality = models.JSONField("品質レポート", default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = verbose_name_plural = "取込記録"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def progress_percent(self) -> int:
        if self.status not in (ImportStatus.PENDING, ImportStatus.RUNNING):
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(100 * self.rows_processed / self.rows_total))

    @property
    def encoding_label(self) -> str:
        """The encoding as people know it (Shift_JIS), not Python's codec name."""
        return {"cp932": "Shift_JIS（CP932）", "utf-8": "UTF-8", "utf-8-sig": "UTF-8（BOM付き）",
                "xlsx": "Excel（.xlsx）"}.get(self.encoding, self.encoding or "—")

    @property
    def is_finished(self) -> bool:
        return self.status not in (ImportStatus.PENDING, ImportStatus.RUNNING)

    @property
    def is_ledger_kind(self) -> bool:
        """A facilities, inspections or measures file (national-data imports keep no change history)."""
        return self.kind in (ImportKind.FACILITIES, ImportKind.INSPECTIONS, ImportKind.MEASURES)


class DataVersion(models.Model):
    """A counter bumped whenever the ledger or the statistics change.

    Indicator tables over 1,000,000 facilities are cached in memory (gunmane.web.registry.frames); this
    row tells every process, in O(1), that its cache is stale. Bulk imports bump it explicitly (bulk
    writes send no signals); single-object saves and deletes bump it through signals (registry.signals).
    """

    key = models.CharField(max_length=20, primary_key=True, default="ledger")
    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "データの版"

    def __str__(self) -> str:
        return f"{self.key} v{self.version}"


def bump_data_version() -> None:
    updated = DataVersion.objects.filter(key="ledger").update(version=models.F("version") + 1)
    if not updated:
        DataVersion.objects.get_or_create(key="ledger", defaults={"version": 1})


def data_version() -> int:
    return DataVersion.objects.filter(key="ledger").values_list("version", flat=True).first() or 0


# -- change records of single saves (pages, admin) -------------------------------------------------------
# Bulk imports write their change records themselves (registry.imports.bulk); these handlers complete the ones
# simple-history writes on a model's save() or delete(): the values before and after, and the page.
_TRACKED = (Facility, Inspection, Measure)


def _remember_before(sender: Any, instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    """Read the stored values of a row about to be changed, so its change record can say what changed."""
    if raw or instance._state.adding or instance.pk is None:
        return
    names = [f.attname for f in sender.history.model.tracked_fields]
    instance._gunmane_before = sender.objects.filter(pk=instance.pk).values(*names).first()  # type: ignore[attr-defined]  # our own, read back by _complete_change_record


def _complete_change_record(sender: Any, instance: models.Model, history_instance: Any, **kwargs: Any) -> None:
    before = getattr(instance, "_gunmane_before", None)
    if history_instance.history_type == "~" and before is not None and history_instance.changes is None:
        history_instance.changes = {
            name: [old, getattr(history_instance, name)] for name, old in before.items()
            if old != getattr(history_instance, name)} or None
    if not history_instance.history_change_reason:
        request = getattr(HistoricalRecords.context, "request", None)
        if request is not None:  # which page made the change
            history_instance.history_change_reason = request.path[:100]
    record_id = getattr(instance, "_gunmane_import_record_id", None)
    if record_id is not None:
        history_instance.import_record_id = record_id


for _model in _TRACKED:
    pre_save.connect(_remember_before, sender=_model, dispatch_uid=f"gunmane-history-before-{_model.__name__}")
    pre_create_historical_record.connect(_complete_change_record, sender=_model.history.model,
                                         dispatch_uid=f"gunmane-history-complete-{_model.__name__}")
