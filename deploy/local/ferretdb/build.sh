#!/usr/bin/env bash
# Builds FerretDB v1.24.2 (SQLite backend) with four small fixes, into the path given.
#
# Four fixes. First: v1.24.2's SQLite backend looks documents up by `_ferretdb_sjson->'$._id'`
# while its unique `_id` index is on `_ferretdb_sjson->"_id"`. SQLite cannot use
# the index for the other spelling, so every find or update by _id scans the
# whole table: an update took 18 ms in a 3,000-document collection and grew with
# it (EXPLAIN QUERY PLAN: SCAN). With the column spelled as the index is, it is a
# SEARCH USING INDEX. We patch a copy of the module from Go's module cache and
# build against it; nothing of FerretDB's source is kept in this repository.
set -euo pipefail

out="$1"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(dirname "$out")/ferretdb-build"
go="${GO:-go}"

export GOTOOLCHAIN=local GOFLAGS=-mod=mod
cd "$here"
"$go" mod download github.com/FerretDB/FerretDB
src="$("$go" list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)"

rm -rf "$work"
mkdir -p "$work"
cp -r "$src" "$work/FerretDB"
chmod -R u+w "$work/FerretDB"
metadata="$work/FerretDB/internal/backends/sqlite/metadata/metadata.go"
sed -i "s|IDColumn = DefaultColumn + \"->'\\\$._id'\"|IDColumn = DefaultColumn + \"->'_id'\"|" "$metadata"
grep -q "IDColumn = DefaultColumn + \"->'_id'\"" "$metadata" || {
    echo "build.sh: the _id column patch did not apply to $metadata" >&2
    exit 1
}

# And: a filter with `_id` and other fields (our optimistic `{_id, version}`) was
# not pushed down at all, only a filter of `_id` alone. The handler filters every
# document it gets back again, so narrowing the query by `_id` is always safe.
collection="$work/FerretDB/internal/backends/sqlite/collection.go"
sed -i 's|if params.Filter.Len() == 1 {|if params.Filter.Len() >= 1 {|' "$collection"
[ "$(grep -c 'if params.Filter.Len() >= 1 {' "$collection")" = 2 ] || {
    echo "build.sh: the _id pushdown patch did not apply to $collection" >&2
    exit 1
}

# And: `{_id: {$in: [...]}}` (a letter's audit trail read by its entries' ids) is pushed
# down as an IN on the same index (id_in.go.in); v1.24.2 scanned the table for it.
cp "$here/id_in.go.in" "$work/FerretDB/internal/backends/sqlite/id_in.go"
sed -i '0,/args = \[\]any{string(must.NotFail(sjson.MarshalSingleValue(v)))}/s||&\n\t\tcase *types.Document:\n\t\t\twhereClause, args = idInClause(v)|' "$collection"
[ "$(grep -c 'whereClause, args = idInClause(v)' "$collection")" = 1 ] || {
    echo "build.sh: the _id \$in pushdown patch did not apply to $collection" >&2
    exit 1
}

# And: writers queue in Go, one at a time per database, and an update, findAndModify or
# delete holds its turn from its read to its write (writes.patch; see fsql.HoldWrites).
# SQLite lets one writer in at a time; its busy handler makes the others sleep and poll,
# so under many writers the lock sat free while they slept, and a writer unlucky for
# 10 s (busy_timeout) got SQLITE_BUSY: the 500s of the pipeline benchmark. Holding the
# turn across read and write also makes a conditional update atomic, as on MongoDB
# (v1.24.2 reads, then rewrites by _id alone).
# The copy is a repository of its own: run inside ours (var/ is in the checkout), git apply
# would take the paths as ours and skip them without a word.
(cd "$work/FerretDB" && git init -q && git apply -p1 "$here/writes.patch") &&
    grep -q 'func HoldWrites' "$work/FerretDB/internal/util/fsql/db.go" || {
    echo "build.sh: writes.patch did not apply" >&2
    exit 1
}

# Our module, pointed at the patched copy.
cp main.go go.mod go.sum "$work/"
cd "$work"
"$go" mod edit -replace "github.com/FerretDB/FerretDB=./FerretDB"
"$go" build -trimpath -o "$out" .
