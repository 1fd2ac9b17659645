"""Checking a change: ``--new-from-rev REV`` (the tree at REV beside the working tree).

``git.py`` is the adapter that reads a repository (never checking anything out over the
user's files); ``newfromrev.py`` is the use case that analyses the base tree, builds the
``ChangeSet`` change-scoped rules compare with, and keeps only the findings the change made.
"""
