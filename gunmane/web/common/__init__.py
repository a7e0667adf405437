"""What every app's pages share and nothing of any app's models: download responses and the one library of
template tags and filters (``{% load gunmane %}``). The lowest layer of gunmane.web (see its docstring)."""
