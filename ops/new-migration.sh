#!/usr/bin/env bash
# Writes a migration for the changes made to prisma/schema.prisma since the last migration, offline:
#   npm run migration:new -- add_shares
# It diffs prisma/migrations/schema-at-last-migration.prisma -> prisma/schema.prisma (Prisma's
# `--from-migrations` needs a downloaded engine), then records the new snapshot.
set -euo pipefail
source "$(dirname "$0")/env.sh"
name="${1:-}"
[[ "$name" =~ ^[a-z0-9_]+$ ]] || fail "usage: npm run migration:new -- <name_in_snake_case>"
cd "$SOLAR_ROOT"
[ -f "$PLATFORM_ENV" ] || fail "run 'npm run setup' first (the diff needs the database to be reachable)"
set -a; source "$PLATFORM_ENV"; set +a
snapshot=prisma/migrations/schema-at-last-migration.prisma
dir="prisma/migrations/$(date -u +%Y%m%d%H%M%S)_$name"
sql=$(npx prisma migrate diff --from-schema-datamodel "$snapshot" --to-schema-datamodel prisma/schema.prisma --script 2>/dev/null) \
  || fail "prisma migrate diff failed; run it by hand to see why"
if ! grep -qvE '^\s*(--.*)?$' <<<"$sql"; then info "schema.prisma has no changes since the last migration"; exit 0; fi
mkdir -p "$dir"
printf '%s\n' "$sql" >"$dir/migration.sql"
cp prisma/schema.prisma "$snapshot"
step "Wrote $dir/migration.sql"
info "review it (note: the migrator splits statements at every semicolon, comments included),"
info "then apply it with: npm run setup"
