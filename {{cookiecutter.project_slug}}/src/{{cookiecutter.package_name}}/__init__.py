"""Pipeline stages, tracking and reporting of this project: see README.md."""
