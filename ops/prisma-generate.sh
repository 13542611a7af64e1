#!/usr/bin/env bash
# Generates the Prisma client into prisma/generated/ offline, for `npm run test:unit` on a fresh
# clone (setup generates it with the profile's settings). Prisma's CLI skips its engine download
# only with prisma.config.ts's driver adapter, which wants the database URLs set; generating
# connects to nothing, so a placeholder serves where the shell has none.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${DATABASE_URL:-postgresql://generate-only@127.0.0.1:1/none}"
export DATABASE_OWNER_URL="${DATABASE_OWNER_URL:-$DATABASE_URL}"
umask 022
npx prisma generate
