"""Tests of deepprimer.data (a package, so basenames may repeat across test folders)."""
