"""The key of the personal-data pseudonyms, its checks and its SQL HMAC."""

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
    got = [r[0] for r in duckdb.connect().execute(sql).fetchall()]
    want = [hmac.new(key, v.encode(), hashlib.sha256).hexdigest()
            for v in ("13812341234", "zhang@example.com")]
    assert got == want


def test_a_key_file_others_can_read_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("SALESMP_PII_KEY", raising=False)
    warehouse = tmp_path / "warehouse.duckdb"
    pii_key.resolve_key(warehouse)
    os.chmod(pii_key.key_file(warehouse), 0o644)
    with pytest.raises(pii_key.PiiKeyError, match=r"can be read by other users \(mode 0644\)"):
        pii_key.resolve_key(warehouse)


def test_the_retired_salt_and_short_keys_are_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("SALESMP_PII_DEV_MODE", raising=False)
    monkeypatch.setenv("SALESMP_PII_SALT", "anything")
    with pytest.raises(pii_key.PiiKeyError, match="SALESMP_PII_SALT is no longer read"):
        pii_key.resolve_key(tmp_path / "warehouse.duckdb")
    monkeypatch.delenv("SALESMP_PII_SALT")
    monkeypatch.setenv("SALESMP_PII_KEY", "short")
    with pytest.raises(pii_key.PiiKeyError, match="has 5 characters"):
        pii_key.resolve_key(tmp_path / "warehouse.duckdb")


def test_a_changed_key_is_detected_unless_rekeying(tmp_path, monkeypatch):
    monkeypatch.delenv("SALESMP_PII_REKEY", raising=False)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    pii_key.check_key(con, b"first-key-0123456789", record=True)
    pii_key.check_key(con, b"first-key-0123456789", record=True)  # same key: nothing to say
    with pytest.raises(pii_key.PiiKeyError, match="differs from the one this warehouse was built with"):
        pii_key.check_key(con, b"second-key-0123456789", record=True)
    monkeypatch.setenv("SALESMP_PII_REKEY", "1")
    pii_key.check_key(con, b"second-key-0123456789", record=True)
    monkeypatch.delenv("SALESMP_PII_REKEY")
    assert pii_key.stored_fingerprint(con) == pii_key.fingerprint(b"second-key-0123456789")
    pii_key.check_key(con, b"second-key-0123456789", record=True)
