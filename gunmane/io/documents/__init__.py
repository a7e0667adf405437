"""Generated group documents (issue #6 §4): 実施方針 (policy), 協定書 (agreement) and 仕様書 (spec, with an
Excel annex of its facilities), each as .docx and PDF, built from a :class:`~gunmane.io.documents.inputs.DocumentInput`.

Pure io layer (no Django, no database).  Each writer builds the document once as neutral blocks
(blocks.py) that render_docx.py and render_pdf.py lay out, so both formats carry the same headings,
tables and numbers.  The figures (period, schedule, shares and amounts) come from figures.py, and every
document passes checker.py before it is written (DocumentCheckError, in Japanese, otherwise).  The writers are imported lazily here so that importing ``inputs`` from the web
layer does not load python-docx and reportlab.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from gunmane.io.documents.inputs import DocumentInput

__all__ = ["KINDS", "generate_document"]

KINDS = ("policy", "agreement", "spec")


def generate_document(inp: DocumentInput, kind: Literal["policy", "agreement", "spec"], fmt: Literal["docx", "pdf"],
                      lot_id: str | None = None) -> bytes:
    """One document as bytes: ``kind`` policy | agreement | spec (``lot_id`` required), ``fmt`` docx | pdf.

    ValueError (in Japanese) for an unknown kind or format, a missing or unknown lot;
    DocumentCheckError (a ValueError) for a document that contradicts itself or its inputs.
    """
    from gunmane.io.documents.agreement import agreement_docx, agreement_pdf
    from gunmane.io.documents.policy import policy_docx, policy_pdf
    from gunmane.io.documents.spec import spec_docx, spec_pdf

    if fmt not in ("docx", "pdf"):
        raise ValueError(f"形式「{fmt}」は作成できません。docx か pdf を指定してください。")
    if kind == "policy":
        return policy_docx(inp) if fmt == "docx" else policy_pdf(inp)
    if kind == "agreement":
        return agreement_docx(inp) if fmt == "docx" else agreement_pdf(inp)
    if kind == "spec":
        if not lot_id:
            known = "、".join(lot.lot_id for lot in inp.lots) or "（ロットがありません）"
            raise ValueError(f"仕様書にはロットの指定が必要です。指定できるロット: {known}")
        return spec_docx(inp, lot_id) if fmt == "docx" else spec_pdf(inp, lot_id)
    raise ValueError(f"文書の種類「{kind}」は作成できません。policy・agreement・spec のいずれかを指定してください。")
