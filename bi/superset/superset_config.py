"""Superset configuration for local use over the serving database (docs/bi.md, "Superset").

Superset reads this file through SUPERSET_CONFIG_PATH (`make superset` and the test set it). Every
file Superset writes lives in SALESMP_SUPERSET_HOME (default `.superset/home`, gitignored): its
metadata database (SQLite) and its uploads. The secret key is fixed and public: this Superset is for
a laptop and the tests, never for a shared server (set SUPERSET_SECRET_KEY to override it).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOME = Path(os.environ.get("SALESMP_SUPERSET_HOME", ROOT / ".superset" / "home")).resolve()
HOME.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("SUPERSET_SECRET_KEY", "salesmp-local-superset-not-a-secret")
SQLALCHEMY_DATABASE_URI = f"sqlite:///{HOME / 'superset.db'}?check_same_thread=false"
DATA_DIR = str(HOME)
UPLOAD_FOLDER = str(HOME / "uploads")

# No result cache: every chart query reads the serving file as it is now, so a dashboard shows a new
# build as soon as it is published (the serving database's own rule: one connection per query).
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
FILTER_STATE_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}
EXPLORE_FORM_DATA_CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 86400}

# Local, no HTTPS: the login cookie must travel over http://127.0.0.1, and the REST API is used by
# scripts and the tests without a CSRF token.
WTF_CSRF_ENABLED = False
TALISMAN_ENABLED = False
SESSION_COOKIE_SECURE = False
SESSION_COOKIE_SAMESITE = "Lax"
FEATURE_FLAGS = {"DASHBOARD_RBAC": False}
# SQL Lab may not write: the serving database is registered without DML, and opened read-only anyway.
PREVENT_UNSAFE_DB_CONNECTIONS = True
ROW_LIMIT = 50000
