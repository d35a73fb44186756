"""Stories: articles grouped as they are added, and what is read from a story.

cluster (assignment, near-copies), book (the stories' tables in the registry), timeline (dated
entries), changes (what is new since a date), disagree (where independent sources differ).
Every line shown is a verified citation built by `rag.verify.citations`.
"""
