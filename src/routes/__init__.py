"""Thin Litestar controllers, one sub-package per audience mirroring the feature packages;
the pages that belong to no single audience (home, PWA, guides, errors, the region picker, the
JSON API) sit here."""
