"""Presenters: turn selector results into what a page draws (layouts, marks, paths). No ORM."""
