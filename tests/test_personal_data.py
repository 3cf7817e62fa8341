"""A BI reader of the serving database must not be able to recover a customer's phone number.

On the shared build (tests/conftest.py: built_pipeline, a real `salesmp run` with no PII setting, so
its key was generated beside the warehouse): the attack of a curious BI user, the files' permissions,
and the runs that must refuse to start (the development default, a changed key).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
from pathlib import Path

import duckdb

from dagster_project import pii_key
from tests.conftest import run_salesmp

CUSTOMERS = 60  # customers attacked; each costs 10,000 candidates x the forms below


def _candidates(masked: str) -> list[str]:
    """The 10,000 phones a mask such as 138****1234 leaves open."""
    head, tail = masked[:3], masked[-4:]
    return [f"{head}{middle:04d}{tail}" for middle in range(10_000)]


def _search(rows: list[tuple[str, str, str]], guesses) -> dict[str, str]:
    """customer_id -> the candidate phone whose digest under `guesses` equals the pseudonym."""
    found = {}
    for customer_id, masked, pseudonym in rows:
        for phone in _candidates(masked):
            if pseudonym in guesses(phone):
                found[customer_id] = phone
                break
    return found


def _published_phones(serving: Path) -> list[tuple[str, str, str]]:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        return con.execute(
            "SELECT customer_id, phone_masked, phone_pseudonym FROM dim_customers "
            "WHERE regexp_matches(phone_masked, '^\\d{3}\\*{4}\\d{4}$') AND length(phone_masked) = 11 "
            f"ORDER BY customer_id LIMIT {CUSTOMERS}"
        ).fetchall()
    finally:
        con.close()


def test_the_mask_and_pseudonym_give_up_no_phone_without_the_key(built_pipeline):
    """The search that recovered 191 of 200 phones against salted SHA-256 recovers none; the same
    search with the key (which only the pipeline's owner can read) recovers every one, so the test
    can fail, and the phones it finds are the customers' real ones in raw."""
    root: Path = built_pipeline["root"]
    rows = _published_phones(root / "serving.duckdb")
    assert len(rows) == CUSTOMERS

    # Everything in the repository an attacker could try as a salt or key.
    public_keys = [pii_key.DEV_KEY.encode(), pii_key.OLD_DEV_SALT.encode()]

    def without_key(phone: str) -> set[str]:
        forms = {hashlib.sha256(phone.encode()).hexdigest(), hashlib.md5(phone.encode()).hexdigest()}
        forms.add(hashlib.sha256(f"{pii_key.OLD_DEV_SALT}|{phone}".encode()).hexdigest())
        forms.update(hmac.new(k, phone.encode(), hashlib.sha256).hexdigest() for k in public_keys)
        return forms

    assert _search(rows, without_key) == {}

    key = (root / pii_key.KEY_FILE_NAME).read_text().strip().encode()
    found = _search(rows, lambda phone: {hmac.new(key, phone.encode(), hashlib.sha256).hexdigest()})
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:  # the customers' real phones, latest record, from raw (the feed may carry a malformed one)
        real = dict(con.execute(
            "SELECT customer_id, trim(phone) FROM raw.customers QUALIFY row_number() OVER "
            "(PARTITION BY customer_id ORDER BY updated_at DESC, _partition_date DESC, _source_file DESC, "
            "_line_number DESC) = 1"
        ).fetchall())
    finally:
        con.close()
    # Every phone of 11 digits is found with the key (a malformed one is outside the 10,000 candidates).
    expected = {cid: real[cid] for cid, _, _ in rows if re.fullmatch(r"\d{11}", real[cid] or "")}
    assert len(expected) >= CUSTOMERS * 0.9
    assert found == expected


def test_every_published_personal_column_is_on_the_allow_list(built_pipeline):
    from dagster_project.publish.serving import PERSONAL_COLUMNS_ALLOWED, PERSONAL_NAME_RE

    con = duckdb.connect(str(built_pipeline["root"] / "serving.duckdb"), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
        ).fetchall()
    finally:
        con.close()
    personal = {(t, c) for t, c in columns if PERSONAL_NAME_RE.search(c)}
    allowed = {(t, c) for t, cols in PERSONAL_COLUMNS_ALLOWED.items() for c in cols}
    assert personal == allowed  # all six of dim_customers are published, nothing else
    docs = (Path(__file__).resolve().parent.parent / "docs" / "bi.md").read_text()
    assert all(f"`{c}`" in docs for _, c in allowed)


def test_the_warehouse_and_key_are_owner_only_and_serving_is_readable(built_pipeline):
    root: Path = built_pipeline["root"]
    mode = {name: stat.S_IMODE(os.stat(root / name).st_mode)
            for name in ("warehouse.duckdb", pii_key.KEY_FILE_NAME, "serving.duckdb")}
    assert mode == {"warehouse.duckdb": 0o600, pii_key.KEY_FILE_NAME: 0o600, "serving.duckdb": 0o644}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_run_with_the_development_default_or_another_key_stops_with_one_sentence(built_pipeline):
    root: Path = built_pipeline["root"]
    before = _digest(root / "warehouse.duckdb")
    cases = {
        pii_key.DEV_KEY: "SALESMP_PII_KEY is the development default written in this repository",
        "another-secret-key-of-32-characters!": "The PII key differs from the one this warehouse was built with",
    }
    for key, sentence in cases.items():
        env = {**built_pipeline["env"], "SALESMP_PII_KEY": key}
        env.pop("SALESMP_PII_DEV_MODE", None)
        result = run_salesmp(["run"], env, timeout=300)
        assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
        lines = [line for line in result.stderr.splitlines() if line.startswith("salesmp: ")]
        assert len(lines) == 1 and sentence in lines[0], result.stderr[-2000:]
        assert re.search(r"\.$", lines[0])
    assert _digest(root / "warehouse.duckdb") == before  # refused before anything was written
