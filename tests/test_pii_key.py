"""Issue 18: the key of the personal-data pseudonyms and its SQL HMAC."""

import hashlib
import hmac
import os
import stat

import duckdb
import pytest

from dagster_project import pii_key


def test_generated_key_file_is_owner_only_and_stable(tmp_path, monkeypatch):
    monkeypatch.delenv("SALESMP_PII_KEY", raising=False)
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    first = pii_key.resolve_key(warehouse)
    mode = stat.S_IMODE(os.stat(warehouse.parent / pii_key.KEY_FILE_NAME).st_mode)
    assert mode == 0o600
    assert len(first) == 64
    assert pii_key.resolve_key(warehouse) == first


def test_dev_default_refused_outside_demo_and_tests(tmp_path, monkeypatch):
    monkeypatch.setenv("SALESMP_PII_KEY", pii_key.DEV_KEY)
    monkeypatch.delenv("SALESMP_PII_DEV_MODE", raising=False)
    with pytest.raises(pii_key.PiiKeyError, match="development default"):
        pii_key.resolve_key(tmp_path / "warehouse.duckdb")
    monkeypatch.setenv("SALESMP_PII_DEV_MODE", "demo")
    assert pii_key.resolve_key(tmp_path / "warehouse.duckdb") == pii_key.DEV_KEY.encode()


def test_changed_key_changes_fingerprint():
    assert pii_key.fingerprint(b"a") != pii_key.fingerprint(b"b")


def test_sql_hmac_matches_python_hmac():
    key = os.urandom(32)
    ipad, opad = pii_key.hmac_pads(key)
    sql = (f"select sha256(unhex('{opad}') || unhex(sha256(unhex('{ipad}') || "
           f"encode(lower(trim(x)))))) from (values (' 13812341234 '), ('Zhang@Example.com')) t(x)")
    got = [r[0] for r in duckdb.connect().sql(sql).fetchall()]
    want = [hmac.new(key, v.encode(), hashlib.sha256).hexdigest()
            for v in ("13812341234", "zhang@example.com")]
    assert got == want
