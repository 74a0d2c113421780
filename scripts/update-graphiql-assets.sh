#!/usr/bin/env bash
# Refresh the GraphiQL assets pboss serves itself (pboss/http/static/graphiql): fetch the pinned
# packages from the npm registry with `npm pack`, check them against the registry's integrity
# hashes, copy the browser builds in and rewrite ASSETS.json (versions and sha256 of each file,
# which tests/api/test_operator_security.py checks). Run after changing a version below; commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
GRAPHIQL=3.8.3
REACT=18.3.1
dest=pboss/http/static/graphiql
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null)
for spec in "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT"; do
  name=${spec%@*}
  tgz="$work/$name-${spec#*@}.tgz"
  want=$(npm view "$spec" dist.integrity)
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  [ "$want" = "$got" ] || { echo "integrity mismatch for $spec" >&2; exit 1; }
  mkdir -p "$work/$name" && tar xzf "$tgz" -C "$work/$name"
done
cp "$work/graphiql/package/graphiql.min.js" "$work/graphiql/package/graphiql.min.css" "$dest/"
cp "$work/react/package/umd/react.production.min.js" "$dest/"
cp "$work/react-dom/package/umd/react-dom.production.min.js" "$dest/"
cp "$work/graphiql/package/LICENSE" "$dest/LICENSE.graphiql"
cp "$work/react/package/LICENSE" "$dest/LICENSE.react"
python3 - "$dest" "$GRAPHIQL" "$REACT" <<'PY'
import hashlib, json, sys
from pathlib import Path
dest, graphiql, react = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
files = {
    "graphiql.min.js": ("graphiql", graphiql, "graphiql.min.js"),
    "graphiql.min.css": ("graphiql", graphiql, "graphiql.min.css"),
    "react.production.min.js": ("react", react, "umd/react.production.min.js"),
    "react-dom.production.min.js": ("react-dom", react, "umd/react-dom.production.min.js"),
    "LICENSE.graphiql": ("graphiql", graphiql, "LICENSE"),
    "LICENSE.react": ("react", react, "LICENSE"),
}
out = {
    "about": "Vendored from the npm registry by scripts/update-graphiql-assets.sh; do not edit.",
    "files": {
        name: {
            "package": pkg,
            "version": version,
            "path": path,
            "sha256": hashlib.sha256((dest / name).read_bytes()).hexdigest(),
        }
        for name, (pkg, version, path) in files.items()
    },
}
(dest / "ASSETS.json").write_text(json.dumps(out, indent=2) + "\n")
PY
echo "graphiql $GRAPHIQL, react $REACT -> $dest"
