"""The front door: the home pages and the public guide that answers the guide's six questions.

「群マネの手引き Ver.1」 is organised around six questions (状態・群マネとは・具体例・一歩・何を決める・素地).
Signed out, the home page answers each in a few sentences and leads to the public pages behind it (public
statistics, the concept, the case catalogue, the standard process, the plan items and mechanisms, 人の群マネ
and the survey templates); signed in, it is the user's own status, groups and next step.

Modules: ``public`` (the six-question page, the concept, municipality search), ``catalogue`` (cases,
process, decisions, 素地 — readable without a group; "start a group"), ``dashboard`` (the signed-in home),
``home`` (which of the two the root URL shows). The app sits above analysis and surveys (it reads their
figures and templates) and below the site's URL table.
"""
