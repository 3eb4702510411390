#!/bin/sh
# Screenshots of the report with Debian's chromium (headless): every page
# of REPORT (default: a fresh demo of 20,000 people) at 1400 px and 420 px
# wide as PNG, and as an A4 PDF as it prints. Written to OUT (default
# screenshots/). Usage: scripts/screenshots.sh [REPORT_DIR [OUT]]
set -e
cd "$(dirname "$0")/.."
CHROMIUM=${CHROMIUM:-chromium}
command -v "$CHROMIUM" >/dev/null 2>&1 || { echo "screenshots: chromium is not installed (scripts/deps.sh)"; exit 1; }
REPORT=$1
OUT=${2:-screenshots}
if [ -z "$REPORT" ]; then
	[ -x ./yoc ] || make -s
	./yoc demo --persons 20000 --out "${TMPDIR:-/tmp}/yoc-shots-demo" >/dev/null
	REPORT="${TMPDIR:-/tmp}/yoc-shots-demo/report"
fi
mkdir -p "$OUT"
REPORT=$(cd "$REPORT" && pwd)
PROFILE=$(mktemp -d)
trap 'rm -rf "$PROFILE"' EXIT
shoot() { # page width height
	"$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$PROFILE" --virtual-time-budget=3000 \
		--window-size="$2,$3" --screenshot="$OUT/$(basename "$1" .html)-$2.png" \
		"file://$REPORT/$1" >/dev/null 2>&1
}
pdf() { # page
	"$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$PROFILE" \
		--no-pdf-header-footer --virtual-time-budget=3000 \
		--print-to-pdf="$OUT/$(basename "$1" .html).pdf" "file://$REPORT/$1" >/dev/null 2>&1
}
first_pack=$(cd "$REPORT" && ls practices/*.html | head -1)
for page in $(cd "$REPORT" && ls *.html) "$first_pack"; do
	[ -f "$REPORT/$page" ] || continue
	shoot "$page" 1400 4000
	shoot "$page" 420 6000
	pdf "$page"
done
ls -1 "$OUT"
