"""The REST API (Django REST framework + drf-spectacular) and the user's own page with its API tokens.

Every endpoint's rule is in gunmane.web.access.URL_RULES (namespace ``api``), like every page's; the checks
behind each rule are the web's own (accounts.permissions for the ledger, groups.permissions for groups), so the
screens and the API answer to one authority (api.permissions). docs/api.md describes the API for integrators.
"""
