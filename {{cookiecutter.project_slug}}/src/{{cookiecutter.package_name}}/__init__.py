"""Yours to edit: the ML code of this project (stages, metrics, report); see README.md."""
