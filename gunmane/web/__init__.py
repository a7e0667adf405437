"""The Django web application: the shared ledger, accounts and permissions, group workspaces, analysis, surveys.

Layers, lowest first; a module imports only from its own layer and the ones below (no circles between
apps; gunmane.engine and gunmane.io sit below all of them):

1. ``common`` and ``maintenance`` — no app's models: download responses and the one template-tag library
   (``{% load gunmane %}``); backup and restore, which go through Django's app registry.
   ``jobs`` (above them) — long work on the task queue: a job's progress and stored file; the apps above
   define the tasks (docs/tasks.md).
2. ``accounts`` — users' memberships and the ledger's permission rules (accounts.permissions). The
   ledger's importer asks these rules, so accounts sits *below* registry and reaches registry's
   Municipality through Membership's foreign key instead of importing it.
3. ``registry`` — the ledger: municipalities, facilities, inspections, measures, imports, history, and the
   ledger as the engine's frames (registry.frames).
4. ``groups`` — groups by consent, their permission rules (groups.permissions: a group's rows of the rule
   and the ledger-derived figures, which follow group partnership), workspace, documents and 効果試算.
5. ``analysis`` and ``surveys`` — カルテ and lifecycle pages; surveys of a group. Independent of each other.
6. ``demo`` — seeds every app below with the demo region; used by the CLI and the tests only.
   ``guide`` — the front door: home pages and the public guide (reads analysis's figures and surveys'
   templates). Independent of demo.
7. ``api`` — the REST API and the user's page with its API tokens; it reads each URL's rule from ``access``
   (which imports no app, so it sits beside demo and guide) and checks it with the apps' permission modules.
8. The site: ``access`` (every URL's rule and the method middleware), ``urls``, ``settings``, ``wsgi``.

A lower layer reaches a higher one only through Django's own indirections — a model's reverse relation
(``group.surveys``), a foreign key named by string — never by importing it.
"""
