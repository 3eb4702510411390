# The report in print: every page (and a practice pack) is
# opened by headless chromium at the printable width of A4 (portrait 182 mm
# = 688 px; the landscape pages of wide tables 273 mm = 1032 px) with the
# page's own print rules applied (a script appended to a copy of the page
# copies every @media print rule out of its media block), and fails if any
# element is wider than the page or clips its content, or if the first
# section starts a new page (an empty first page). Skipped only when
# chromium is not installed.
. "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-chromium}
if ! command -v "$CHROMIUM" >/dev/null 2>&1; then
	skip "report print" "chromium not installed"; done_testing; exit 0
fi
if ! command -v sqlite3 >/dev/null 2>&1; then
	skip "report print" "sqlite3 CLI missing"; done_testing; exit 0
fi
D="$TMP/ds"; mkdir -p "$D"
sqlite3 "$D/yoc.db" <<'SQL'
CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT,
  practice TEXT, imd_decile INTEGER, ltc_count INTEGER, mental_ltc_count INTEGER,
  band TEXT, emergency_admissions INTEGER, bed_days INTEGER, died INTEGER,
  cost_total INTEGER, cost_elective INTEGER, cost_nonelective INTEGER,
  cost_daycase INTEGER, cost_outpatient INTEGER, cost_ae INTEGER,
  cost_community INTEGER, cost_mh INTEGER, cost_gp INTEGER,
  cost_social_care INTEGER, cost_ambulance INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4000)
INSERT INTO person_year
SELECT printf('p%05d', i), '2023/24', (i * 37) % 100, CASE i % 2 WHEN 0 THEN 'F' ELSE 'M' END,
  printf('P900%02d', i % 6), 1, l, l % 2, CASE WHEN l < 2 THEN 'A' WHEN l < 4 THEN 'B' ELSE 'C' END,
  (i % 7 = 0) * (1 + l), 0, 0, 0, (i * 17) % 9000 * (l > 2), (i * 7919) % 50000 * (l > 1),
  (i * 31) % 7000, (i * 13) % 9000, (i * 11) % 3000, (i * 7) % 4000, (i * 5) % 2000,
  4800 * (1 + l), (i * 3) % 5000 * (l > 3), (i % 11 = 0) * 30000
FROM (SELECT i, (i * 13 % 97) % 10 AS l FROM n);
UPDATE person_year SET cost_total = cost_elective + cost_nonelective + cost_daycase + cost_outpatient
  + cost_ae + cost_community + cost_mh + cost_gp + cost_social_care + cost_ambulance;
CREATE TABLE analyse_run(key TEXT, value TEXT);
INSERT INTO analyse_run VALUES ('codelist_version', 'test-1'), ('bands', 'A:0-1,B:2-3,C:4+');
SQL
printf 'practice_code,pcn_code,pcn_name\nP90000,U1,North Synthetic Network\nP90001,U1,North Synthetic Network\nP90002,U2,South\nP90003,U2,South\nP90004,U3,East\nP90005,U3,East\n' > "$TMP/pcn.csv"
expect_rc 0 "report runs" "$YOC" report --db "$D" --out "$TMP/r" --pcn "$TMP/pcn.csv"

cat > "$TMP/check.js" <<'JS'
(function () {
	var W = window.innerWidth, out = [];
	var css = '';
	for (var s = 0; s < document.styleSheets.length; s++) {
		var rules = document.styleSheets[s].cssRules;
		for (var i = 0; i < rules.length; i++)
			if (rules[i].media && rules[i].media.mediaText.indexOf('print') >= 0)
				for (var k = 0; k < rules[i].cssRules.length; k++)
					css += rules[i].cssRules[k].cssText + '\n';
	}
	var st = document.createElement('style');
	st.textContent = css;
	document.head.appendChild(st);
	out.push('width ' + W + ' print-rules ' + css.length);
	var all = document.body.querySelectorAll('*');
	for (var j = 0; j < all.length; j++) {
		var el = all[j];
		if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
		var wide = el.closest('.wide') !== null;
		if ((MODE === 'portrait') === wide) continue;
		var r = el.getBoundingClientRect();
		if (r.width === 0 && r.height === 0) continue;
		var ov = getComputedStyle(el).overflowX;
		var clipped = ov !== 'visible' && el.scrollWidth > el.clientWidth + 1;
		if (r.right > W + 1 || r.left < -1 || clipped)
			out.push('WIDE ' + el.tagName + (el.id ? '#' + el.id : '') + ' .' +
				 (el.getAttribute('class') || '') + ' right=' + Math.round(r.right) +
				 ' scroll=' + el.scrollWidth + '/' + el.clientWidth);
	}
	var first = document.querySelector('body > section, body > h2');
	if (MODE === 'portrait' && first && getComputedStyle(first).breakBefore === 'page')
		out.push('EMPTY-FIRST-PAGE ' + first.tagName + '#' + first.id);
	var pre = document.createElement('pre');
	pre.id = 'print-check';
	pre.textContent = out.join('\n');
	document.body.appendChild(pre);
})();
JS
PROFILE="$TMP/profile"
pages="$(cd "$TMP/r" && ls *.html) $(cd "$TMP/r" && ls practices/*.html | head -1)"
for page in $pages; do
	for mode in portrait landscape; do
		w=688; [ "$mode" = landscape ] && w=1032
		copy="$TMP/r/$(dirname "$page")/.print-$mode-$(basename "$page")"
		{ cat "$TMP/r/$page"; printf '<script>var MODE = "%s";\n' "$mode"; cat "$TMP/check.js"; echo '</script>'; } > "$copy"
		"$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
			--user-data-dir="$PROFILE" --window-size="$w,1200" --virtual-time-budget=3000 \
			--dump-dom "file://$copy" 2>/dev/null |
			sed -n '/<pre id="print-check">/,/<\/pre>/p' > "$TMP/res"
		if ! grep -q "print-rules [1-9]" "$TMP/res"; then
			not_ok "$page ($mode): the check ran with the print rules"
			continue
		fi
		if grep -q 'WIDE\|EMPTY-FIRST-PAGE' "$TMP/res"; then
			not_ok "$page ($mode, $w px): nothing wider than the page"
			grep 'WIDE\|EMPTY' "$TMP/res" | head -5 | sed 's/^/# /'
		else
			ok "$page ($mode, $w px): nothing wider than the page"
		fi
	done
done
grep -q '@page wide{size:A4 landscape' "$TMP/r/index.html" && grep -q 'class="tw wide"' "$TMP/r/practices.html" \
	&& ok "wide tables print on landscape pages" || not_ok "wide tables print on landscape pages"
done_testing
