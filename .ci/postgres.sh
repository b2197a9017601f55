#!/usr/bin/env bash
# CI: make PostgreSQL's server binaries available for tests/test_store_pg.py (it starts its own throwaway cluster).
# Idempotent and never fails the CI: if the binaries are missing and cannot be installed, say so and exit 0; the
# PostgreSQL store tests then skip with their reason.
have_pg() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }
if have_pg; then
  echo "postgres: server binaries present ($(ls -d /usr/lib/postgresql/*/bin | head -n1))"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "postgres: binaries missing and cannot install them here (need root and apt-get); PostgreSQL tests will skip"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if { timeout 600 apt-get update -qq && timeout 600 apt-get install -y -qq --no-install-recommends postgresql; } \
  >/dev/null 2>&1 && have_pg; then
  echo "postgres: installed $(ls -d /usr/lib/postgresql/*/bin | head -n1)"
else
  echo "postgres: apt-get install postgresql failed; PostgreSQL tests will skip"
fi
exit 0
