"""Render a group document in the chosen format with the writers of gunmane.io.documents."""

from __future__ import annotations

from gunmane.io.documents.inputs import DocumentInput


def render_document(kind: str, file_format: str, inp: DocumentInput, lot: str = "") -> bytes:
    """kind: policy | agreement | spec (spec needs ``lot``); file_format: docx | pdf."""
    from gunmane.io.documents import agreement, policy, spec

    if file_format not in ("docx", "pdf"):
        raise ValueError(f"形式「{file_format}」には対応していません（docx または pdf）。")
    if kind == "policy":
        return policy.policy_docx(inp) if file_format == "docx" else policy.policy_pdf(inp)
    if kind == "agreement":
        return agreement.agreement_docx(inp) if file_format == "docx" else agreement.agreement_pdf(inp)
    if kind == "spec":
        return spec.spec_docx(inp, lot) if file_format == "docx" else spec.spec_pdf(inp, lot)
    raise ValueError(f"文書の種類「{kind}」はありません（policy・agreement・spec）。")
