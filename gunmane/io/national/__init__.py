"""National data: 道路メンテナンス年報 workbooks and the xROAD open API."""
