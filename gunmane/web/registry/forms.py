"""Forms of the ledger app."""

from __future__ import annotations

from pathlib import Path

from django import forms

from gunmane.io import limits
from gunmane.web.registry.models import ImportKind

ALLOWED_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".json"}
NATIONAL_KINDS = {ImportKind.NENPO: {".xlsx", ".xlsm"}, ImportKind.XROAD: {".json", ".csv", ".txt"}}
MAX_UPLOAD_BYTES = 500 * 1024 * 1024


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label="取り込む台帳", choices=ImportKind.choices, initial=ImportKind.FACILITIES,
                             widget=forms.RadioSelect)
    file = forms.FileField(label="ファイル（CSV または Excel .xlsx）",
                           help_text="UTF-8・Shift_JIS（CP932）の CSV、Excel（.xlsx）。見出し行は先頭10行以内に置いてください。")
    fiscal_year = forms.IntegerField(label="点検年度（年報のみ・任意）", required=False, min_value=2014, max_value=2100,
                                     help_text="年報の一覧の年度がファイルから読めないときだけ指定します（例: r07 の一覧なら 2025）。")
    dry_run = forms.BooleanField(label="検証のみ（登録しない）", required=False)
    skip_invalid = forms.BooleanField(label="エラーのある行を除いて取り込む", required=False,
                                      help_text="チェックしないと、エラーが1件でもあれば1行も登録しません。")
    clear_blanks = forms.BooleanField(
        label="空欄のセルで登録済みの値を消す", required=False,
        help_text="チェックしないと、空欄のセルは登録済みの値をそのまま残します（警告に表示します）。"
                  "ファイルにない列の値は、どちらの場合も変わりません。")

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        kind, f = data.get("kind"), data.get("file")
        if kind in NATIONAL_KINDS and f is not None:
            suffix = Path(f.name).suffix.lower()
            if suffix not in NATIONAL_KINDS[kind]:
                expected = "Excel（.xlsx）" if kind == ImportKind.NENPO else "JSON（.json）または CSV"
                self.add_error("file", f"「{f.name}」は{ImportKind(kind).label}のファイルではありません。"
                               f"{expected}を選んでください。")
        return data

    def clean_file(self) -> object:
        f = self.cleaned_data["file"]
        suffix = Path(f.name).suffix.lower()
        if suffix == ".xls":
            raise forms.ValidationError("古い Excel 形式（.xls）は読めません。Excel で「.xlsx」形式で保存し直してください。")
        if suffix not in ALLOWED_SUFFIXES:
            raise forms.ValidationError(f"「{f.name}」は取り込めない形式です。CSV または Excel（.xlsx）を選んでください。")
        if f.size == 0:
            raise forms.ValidationError(f"「{f.name}」は空のファイルです。")
        limit = min(MAX_UPLOAD_BYTES, limits.current().file_bytes)
        if f.size > limit:
            raise forms.ValidationError(f"ファイルが大きすぎます（上限 {limit // 1024 // 1024:,} MB、"
                                        "設定 GUNMANE_LIMIT_FILE_MB）。CSV に分けるか、管理者に上限の変更を依頼してください。")
        return f


class CivilEngineersForm(forms.Form):
    """技術系職員数: no open dataset has it, so each municipality enters its own (by fiscal year)."""

    fiscal_year = forms.TypedChoiceField(label="年度", coerce=int)
    civil_engineers = forms.IntegerField(label="技術系職員数（土木）", min_value=0, max_value=100_000, required=False,
                                         help_text="空欄にすると「未入力」に戻ります（0 人の場合は 0 を入力）。")

    def __init__(self, *args: object, years: list[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["fiscal_year"].choices = [(y, f"{y}年度") for y in years]  # type: ignore[attr-defined]
