#!/usr/bin/env bash
# Renders the report of the shipped corpus (suggest, then compare) in headless Chromium and saves
# docs/report.png (top of the page) and docs/report-comparison.png (the comparison section), as linked
# from the README.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
target/release/themata suggest corpora/peer-support/quotes.csv --out "$out/run" --quiet >/dev/null
target/release/themata compare --suggested "$out/run" --manual corpora/peer-support/quotes.csv \
    --codebook corpora/peer-support/codebook.csv --quiet >/dev/null
shoot() { # window height, output
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$out/profile" \
        --window-size=1200,"$1" --screenshot="$2" "file://$out/run/$3" 2>/dev/null
}
# The comparison alone: the same page with the other sections hidden.
sed 's|</head>|<style>#summary, #charts, #themes, #k-table { display: none; }</style></head>|' \
    "$out/run/report.html" > "$out/run/comparison.html"
mkdir -p docs
shoot 2600 docs/report.png report.html
shoot 1250 docs/report-comparison.png comparison.html
echo "wrote docs/report.png and docs/report-comparison.png"
