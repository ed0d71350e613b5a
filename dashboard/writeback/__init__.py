"""Write-back (issues #10, #19): changes sent to a vendor from the dashboard, in one room.

``services`` performs a write (access, re-read, send, store the answer, audit); ``operations``
turns each declared write operation into what ``services`` sends; ``forms`` builds a form from a
connector's declaration; ``flow`` runs a form page (GET, POST, htmx region); ``views`` and
``urls`` are the pages; ``models`` holds the audit log; the templates are under
``templates/writes/`` here. Connectors declare what they write (``connectors/base.py``) and own
their JSON (``connectors/<vendor>/writes.py``).
"""
