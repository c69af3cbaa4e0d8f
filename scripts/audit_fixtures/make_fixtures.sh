#!/usr/bin/env bash
# Regenerates the real result files under audits/tests/fixtures/ with the real tools:
#   - dbt run_results.json from builds of a copy of demo_dbt_projects/core (a passing build, the
#     `tessera_demo: failing` build with one failing test, a partial `dbt test --select dim_customers`)
#     and the manifest they match (plus the manifest of the `additive` contract change);
#   - a Great Expectations 1.x validation result and checkpoint result (gx_suite.py);
#   - a Soda Core v3 scan result (`soda scan -srf`, soda_checks.yml).
# GX and Soda live in their own virtualenv (var/audit-tools-venv), not in requirements.txt.
# Run from anywhere: bash scripts/audit_fixtures/make_fixtures.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/scripts/audit_fixtures"
OUT="$ROOT/audits/tests/fixtures"
TOOLS="${AUDIT_TOOLS_VENV:-$ROOT/var/audit-tools-venv}"
DBT="$ROOT/.venv/bin/dbt"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export DO_NOT_TRACK=1 DBT_SEND_ANONYMOUS_USAGE_STATS=false
mkdir -p "$OUT"

echo "== tools virtualenv ($TOOLS)"
if ! "$TOOLS/bin/python" -c "import great_expectations, soda.scan" 2>/dev/null; then
  python3.11 -m venv "$TOOLS"
  # soda-core-duckdb pins duckdb<1.1; GX 1.24 wants pandas<3 and SQLAlchemy<2.1 to import cleanly.
  "$TOOLS/bin/pip" install -q "great-expectations==1.24.1" "soda-core-duckdb==3.5.6" "pandas>=2.2,<3" \
    "sqlalchemy>=2.0,<2.1"
fi

echo "== dbt builds of a copy of demo_dbt_projects/core"
mkdir -p "$WORK/projects"
tar -C "$ROOT/demo_dbt_projects" --exclude=target --exclude=logs --exclude='*.duckdb' --exclude=dbt_packages \
  -cf - . | tar -C "$WORK/projects" -xf -
cd "$WORK/projects/core"
"$DBT" deps --profiles-dir . >"$WORK/deps.log"
# dbt exits 1 when a test fails: that is the point of this build.
if "$DBT" build --profiles-dir . --vars '{tessera_demo: failing}' >"$WORK/failing.log"; then
  echo "the failing build did not fail: see the demo's tessera_demo=failing variant" >&2
  exit 1
fi
cp target/run_results.json "$OUT/dbt_core_build_failing.json"
"$DBT" build --profiles-dir . >"$WORK/pass.log" || { tail -30 "$WORK/pass.log"; exit 1; }
cp target/run_results.json "$OUT/dbt_core_build_pass.json"
cp target/manifest.json "$OUT/dbt_core_manifest.json"
"$DBT" test --profiles-dir . --select dim_customers >"$WORK/partial.log" || { tail -30 "$WORK/partial.log"; exit 1; }
cp target/run_results.json "$OUT/dbt_core_test_dim_customers.json"
# The additive contract change (a new nullable column): for "a held version waits for the gate".
"$DBT" parse --profiles-dir . --vars '{tessera_demo: additive}' >"$WORK/parse.log" || { tail -30 "$WORK/parse.log"; exit 1; }
cp target/manifest.json "$OUT/dbt_core_manifest_additive.json"

echo "== a copy of the marts readable by the tools' DuckDB (soda-core-duckdb needs duckdb<1.1)"
mkdir -p "$WORK/v1"
"$ROOT/.venv/bin/python" - "$WORK/projects/core/core.duckdb" "$WORK/v1/core.duckdb" <<'PY'
import sys

import duckdb

con = duckdb.connect()
con.execute(f"ATTACH '{sys.argv[1]}' AS src (READ_ONLY)")
con.execute(f"ATTACH '{sys.argv[2]}' AS dst (STORAGE_VERSION 'v1.0.0')")
for (table,) in con.execute(
    "select table_name from information_schema.tables where table_catalog = 'src' and table_type = 'BASE TABLE'"
).fetchall():
    con.execute(f'CREATE TABLE dst.main."{table}" AS SELECT * FROM src.main."{table}"')
PY

echo "== Great Expectations"
"$TOOLS/bin/python" "$HERE/gx_suite.py" "$WORK/v1/core.duckdb" "$OUT" 2>"$WORK/gx.log" || { tail -30 "$WORK/gx.log"; exit 1; }

echo "== Soda Core"
mkdir -p "$WORK/home/.soda"
echo "send_anonymous_usage_stats: false" >"$WORK/home/.soda/config.yml"  # no network here
sed "s|@DATABASE@|$WORK/v1/core.duckdb|" "$HERE/soda_configuration.yml.in" >"$WORK/soda.yml"
set +e
(cd "$HERE" && HOME="$WORK/home" "$TOOLS/bin/soda" scan -d core -c "$WORK/soda.yml" -srf "$OUT/soda_scan_core.json" \
  soda_checks.yml >"$WORK/soda.log" 2>&1)
rc=$?
set -e
# soda exits 1 on warnings, 2 on failures, 3 on errors: only a scan that could not run is a problem.
if [ "$rc" -gt 2 ] || [ ! -s "$OUT/soda_scan_core.json" ]; then tail -30 "$WORK/soda.log"; exit 1; fi
# The scan result embeds the temp path of the database; keep the fixture stable.
sed -i "s|$WORK/v1/|/tmp/|g" "$OUT/soda_scan_core.json"

echo "== wrote:"
ls -l "$OUT"
