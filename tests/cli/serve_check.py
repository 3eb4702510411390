#!/usr/bin/env python3
"""Checks of a running `yoc serve` (tests/cli/serve.sh): security, roles,
disclosure control and differencing. Prints PASS/FAIL lines.

Expected counts are computed here, independently of the server: the selected
people by SQL over the dataset (python's sqlite3), each person's key as the
first byte of HMAC-SHA256(secret, pseudo_id), the cell key as their sum mod
256, the noise from the perturbation table of docs/server.md, then the
report's rule (1..7 hidden, others rounded to 5, halves up)."""
import hashlib, hmac, http.client, json, math, socket, sqlite3, struct, sys, time

port, db, idle = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
con = sqlite3.connect(db + "/yoc.db")
fyear = con.execute("select max(fyear) from person_year").fetchone()[0]
secret = bytes.fromhex(open(db + "/serve/cellkey.key").read().strip())
fails = 0


def res(ok, what):
    global fails
    print(("PASS " if ok else "FAIL ") + what)
    if not ok:
        fails += 1


def req(method, path, body=None, cookie=None, csrf=None, raw=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    h = {"Content-Type": "application/json"}
    if cookie:
        h["Cookie"] = "yoc_session=" + cookie
    if csrf:
        h["X-CSRF-Token"] = csrf
    h.update(headers or {})
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    text = r.read()
    c.close()
    try:
        j = json.loads(text)
    except ValueError:
        j = None
    return r.status, j, r, text


def login(user, pw):
    st, j, r, _ = req("POST", "/api/login", {"user": user, "password": pw})
    ck = r.getheader("Set-Cookie") or ""
    tok = ck.split(";")[0].split("=", 1)[1] if st == 200 else None
    return st, tok, (j or {}).get("csrf"), ck


# ---- the documented cell-key method, written out again ----
def pkey(pid):
    return hmac.new(secret, pid.encode(), hashlib.sha256).digest()[0]


def noise(ck, n):
    r = (ck + 167 * n) & 255
    d = -2 if r < 26 else -1 if r < 77 else 0 if r < 179 else 1 if r < 230 else 2
    return max(d, 1 - n)


def publish(ids):
    n = len(ids)
    if n == 0:
        return 0
    v = n + noise(sum(pkey(p) for p in ids) & 255, n)
    if v <= 7:
        return None
    return (v + 2) // 5 * 5


def sql_ids(where):
    q = ("select p.pseudo_id from person_year p left join risk_score r on r.pseudo_id ="
         " p.pseudo_id and r.fyear = p.fyear where p.fyear = ? and (%s)" % where)
    try:
        return [x[0] for x in con.execute(q, (fyear,))]
    except sqlite3.OperationalError:
        q = "select p.pseudo_id from person_year p where p.fyear = ? and (%s)" % where
        return [x[0] for x in con.execute(q, (fyear,))]


# ---- every route refused without a session ----
routes = [("GET", "/api/session"), ("GET", "/api/meta"), ("POST", "/api/select"),
          ("POST", "/api/logout"), ("POST", "/api/extract"), ("GET", "/api/users"),
          ("GET", "/api/nothing")]
for m, p in routes:
    st, j, _, _ = req(m, p, {"filters": {}})
    res(st == 401, "%s %s without a session is refused (got %d)" % (m, p, st))
    st, j, _, _ = req(m, p, {"filters": {}}, cookie="0" * 32)
    res(st == 401, "%s %s with a forged cookie is refused (got %d)" % (m, p, st))

# ---- headers ----
st, _, r, body = req("GET", "/")
csp = r.getheader("Content-Security-Policy") or ""
res(st == 200 and b"selection tool" in body, "the front end is served")
res("default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp,
    "strict Content-Security-Policy")
res(r.getheader("X-Content-Type-Options") == "nosniff" and r.getheader("X-Frame-Options") == "DENY"
    and r.getheader("Referrer-Policy") == "no-referrer", "security headers")

# ---- traversal ----
for p in ["/../yoc.db", "/%2e%2e/yoc.db", "/..%2fserve%2fusers", "/serve/users", "/users",
          "/../../../etc/passwd", "/app.js/../../serve/users", "/.htaccess"]:
    st, _, _, body = req("GET", p)
    res(st == 404 and b"argon2" not in body and b"root:" not in body,
        "traversal %s refused (got %d)" % (p, st))

st, _, _, body = req("GET", "/index.html%00/../../serve/users")
res(b"argon2" not in body, "a NUL in the path serves no file outside the front end")

# ---- login, lockout ----
for i in range(5):
    login("vic", "not-the-password")
st, t2, _, _ = login("vic", "victim-pass-1")
res(st == 429 and t2 is None, "five failed logins lock the account (got %d)" % st)
st, tok, csrf, ck = login("ann", "wrong-password-x")
res(st == 401 and tok is None, "a wrong password is refused")
st, tok, csrf, ck = login("ann", "analyst-pass-1")
res(st == 200 and len(tok) == 32 and "HttpOnly" in ck and "SameSite=Strict" in ck,
    "login gives a 128-bit HttpOnly SameSite=Strict cookie")
res("Secure" not in ck, "no Secure flag over plain HTTP (set under TLS)")
st, t3, _, _ = login("ann", "analyst-pass-1")
res(st == 200, "another user is not locked out")

# ---- CSRF ----
st, _, _, _ = req("POST", "/api/select", {"filters": {}}, cookie=tok)
res(st == 403, "a POST without the CSRF token is refused (got %d)" % st)
st, _, _, _ = req("POST", "/api/select", {"filters": {}}, cookie=tok, csrf="f" * 32)
res(st == 403, "a POST with a wrong CSRF token is refused (got %d)" % st)
st, _, _, _ = req("POST", "/api/select", {"filters": {}}, cookie=t3, csrf=csrf)
res(st == 403, "another session's CSRF token is refused (got %d)" % st)

# ---- malformed and oversized requests ----
bad = ['{', '[]', '{"filters":{"age_min":"65"}}', '{"filters":{"practice":["x\' or 1=1 --"]}}',
       '{"filters":{"nope":1}}', '{"rule":"copd and"}', '{"rule":"nosuchfield > 1"}',
       '{"filters":{},"filters":{}}', '{"x":1}', '\xff\xfe']
for b in bad:
    st, j, _, _ = req("POST", "/api/select", cookie=tok, csrf=csrf, raw=b)
    res(st == 400 and j and "error" in j, "bad request %r refused with 400 (got %d)" % (b[:30], st))
st, _, _, _ = req("POST", "/api/select", cookie=tok, csrf=csrf,
                  raw='{"rule":"' + "a" * 100000 + '"}')
res(st == 413, "a 100 KB body is refused with 413 (got %d)" % st)
st, _, _, _ = req("POST", "/api/select", cookie=tok, csrf=csrf, raw='{"rule":"' + "x" * 5000 + '"}')
res(st == 400, "a rule over 4,096 bytes is refused (got %d)" % st)

# ---- counts match SQL + the documented method ----
cases = [({"filters": {"age_min": 65, "ltc": ["copd"]}}, "p.age >= 65 and p.copd"),
         ({"filters": {"sex": ["2"], "ltc_count_min": 2}}, "p.sex = '2' and p.ltc_count >= 2"),
         ({"filters": {"ltc": ["diabetes", "chd"], "ltc_mode": "or", "imd": [1, 2, 3]}},
          "(p.diabetes or p.chd) and p.imd_decile in (1,2,3)"),
         ({"filters": {"emergency_min": 1}}, "p.emergency_admissions >= 1"),
         ({"rule": "age < 18 or bed_days >= 3"}, "p.age < 18 or p.bed_days >= 3"),
         ({"filters": {"age_min": 80}, "rule": "count(copd, heart_failure, ckd) >= 1"},
          "p.age >= 80 and (p.copd + p.heart_failure + p.ckd) >= 1"),
         ({"filters": {}}, "1")]
for body, where in cases:
    st, j, _, _ = req("POST", "/api/select", body, cookie=tok, csrf=csrf)
    ids = sql_ids(where)
    want = publish(ids)
    res(st == 200 and j["count"] == want and j["perturbed"] is True,
        "count of %s is SQL's %d people, perturbed and rounded: %s (got %s)"
        % (json.dumps(body), len(ids), want, j and j.get("count")))
    if st == 200:
        c = [x for x in j["conditions"] if x["condition"] == "hypertension"][0]
        wc = publish(sql_ids("(%s) and p.hypertension" % where))
        res(c["count"] == wc, "hypertension cell of %s matches (%s, got %s)"
            % (json.dumps(body), wc, c["count"]))
        pyr = j["pyramid"][14]  # 70-74
        wp = publish(sql_ids("(%s) and p.age between 70 and 74 and p.sex = '1'" % where))
        res(pyr["male"] == wp, "pyramid cell 70-74 male matches (%s, got %s)" % (wp, pyr["male"]))

# ---- the cohort filter: members of the register on any day of the year ----
st, j, _, _ = req("POST", "/api/select", {"filters": {"cohort": ["frailty"], "age_min": 40}},
                  cookie=tok, csrf=csrf)
ids = sql_ids("p.age >= 40 and p.pseudo_id in (select pseudo_id from cohort_register where"
              " cohort = 'frailty' and join_date <= '%d-03-31' and (leave_date is null or"
              " leave_date >= '%d-04-01'))" % (int(fyear[:4]) + 1, int(fyear[:4])))
res(st == 200 and j["count"] == publish(ids) and len(ids) > 50,
    "cohort filter: SQL's %d people, published %s (got %s)" % (len(ids), publish(ids), j and j.get("count")))
st, j, _, _ = req("POST", "/api/select", {"filters": {"cohort": ["nosuch"]}}, cookie=tok, csrf=csrf)
res(st == 400, "an unknown cohort is refused (got %d)" % st)
st, j, _, _ = req("GET", "/api/meta", cookie=tok)
res(st == 200 and j.get("cohorts") == ["frailty", "heart"], "meta lists the cohorts (%s)" % (j and j.get("cohorts")))

# ---- trend by month: recomputed from person_month, published the documented way ----
pm = {}
for pid, b in con.execute("select pseudo_id, months from person_month where fyear = ?", (fyear,)):
    c, a = [0] * 12, [0] * 12
    for m, cost, adm in struct.iter_unpack("<BqI", b):
        c[m] += cost
        a[m] += adm
    pm[pid] = (c, a)


def div_round(a, b):
    return (a + b // 2) // b if a >= 0 else -((-a + b // 2) // b)


def money3(p):
    unit = 100
    while abs(p) // unit >= 1000:
        unit *= 10
    return div_round(p, unit) * unit


def publish_ck(ids, v):
    if v == 0:
        return 0
    ck = sum(pkey(p) for p in ids) & 255
    x = v + noise(ck, v)
    return None if x <= 7 else (x + 2) // 5 * 5


def expect_trend(ids):
    n = publish(ids)
    out = {"cost_per_person": [], "cost_total": [], "emergency_admissions_per_1000": [],
           "emergency_admissions": [], "people_with_emergency_admission": []}
    for m in range(12):
        cost = sum(pm[p][0][m] for p in ids if p in pm)
        adm = sum(pm[p][1][m] for p in ids if p in pm)
        ev = publish_ck(ids, adm)
        ok = n is not None and n > 0
        out["cost_per_person"].append(div_round(money3(cost), 100 * n) if ok else None)
        out["cost_total"].append(money3(cost) // 100 if ok else None)
        out["emergency_admissions_per_1000"].append(
            math.floor(10000.0 * ev / n + 0.5) / 10.0 if ok and ev is not None else None)
        out["emergency_admissions"].append(ev if n is not None else None)
        out["people_with_emergency_admission"].append(
            publish([p for p in ids if p in pm and pm[p][1][m] > 0]))
    return out


all_ids = sql_ids("1")
want_pop = expect_trend(all_ids)
y0 = int(fyear[:4])
for body, where in cases[:4] + [({"filters": {}}, "1")]:
    st, j, _, _ = req("POST", "/api/select", body, cookie=tok, csrf=csrf)
    tr = j and j.get("trend")
    months = ["%04d-%02d" % (y0 if m < 9 else y0 + 1, (m + 3) % 12 + 1) for m in range(12)]
    want = expect_trend(sql_ids(where))
    got = {x["measure"]: x["group"] for x in tr["measures"]} if tr else {}
    gotp = {x["measure"]: x["population"] for x in tr["measures"]} if tr else {}
    res(st == 200 and tr["months"] == months and got == want and gotp == want_pop,
        "trend of %s equals the recomputation from person_month (%s)"
        % (json.dumps(body), "ok" if got == want else "got %s want %s" % (got, want)))
res(sum(x or 0 for x in want_pop["cost_total"]) > 0 and
    sum(x or 0 for x in want_pop["emergency_admissions"]) > 0, "the population's trend is not empty")

st, j1, _, _ = req("POST", "/api/select", cases[0][0], cookie=tok, csrf=csrf)
st, j2, _, _ = req("POST", "/api/select", cases[0][0], cookie=tok, csrf=csrf)
res(j1 == j2, "repeating a query gives the same answer (no averaging attack)")
st, j3, _, _ = req("POST", "/api/select", {"rule": "copd and age >= 65 and (age < 200 or age is null)"},
                   cookie=tok, csrf=csrf)
res(j3["count"] == j1["count"] and j3["conditions"] == j1["conditions"],
    "the same people selected by another rule get the same figures")

# ---- differencing: groups differing by one person ----
rows = con.execute("select pseudo_id, age, sex, practice, imd_decile from person_year where"
                   " fyear = ? and age >= 18 and practice is not null and imd_decile is not null"
                   " and sex is not null", (fyear,)).fetchall()
combo = {}
for pid, a, s, pr, d in rows:
    combo.setdefault((a, s, pr, d), []).append(pid)
uniq = [(k, v[0]) for k, v in combo.items() if len(v) == 1][:60]
true_diff_one = zero = exact = 0
seen = set()
for (a, s, pr, d), pid in uniq:
    excl = "not (age = %d and sex = '%s' and practice = '%s' and imd_decile = %d)" % (a, s, pr, d)
    st, g1, _, _ = req("POST", "/api/select", {"rule": "age >= 18"}, cookie=tok, csrf=csrf)
    st, g2, _, _ = req("POST", "/api/select", {"rule": "age >= 18 and " + excl}, cookie=tok, csrf=csrf)
    if g1["count"] is None or g2["count"] is None:
        continue
    diff = g1["count"] - g2["count"]
    true_diff_one += 1
    zero += diff == 0
    seen.add(diff)
    exact += diff == 1
res(len(uniq) >= 30 and true_diff_one >= 30, "differencing: %d pairs of groups differing by one person"
    % true_diff_one)
res(exact == 0, "differencing: the published difference is never the true difference 1")
res(zero >= true_diff_one * 0.2, "differencing: in %d of %d pairs the published difference is 0"
    % (zero, true_diff_one))
res(len(seen) >= 2, "differencing: the published difference of the same true difference varies %s"
    % sorted(seen))

# ---- pseudonymised extracts: the analyst only, every download logged ----
st, _, r, body = req("POST", "/api/extract", {"filters": {"age_min": 65, "ltc": ["copd"]}},
                     cookie=tok, csrf=csrf)
lines = body.decode().splitlines()
got_ids = sorted(l.split(",")[0] for l in lines[1:])
res(st == 200 and lines[0].startswith("pseudo_id,fyear,age") and
    got_ids == sorted(sql_ids("p.age >= 65 and p.copd")),
    "the analyst's extract holds exactly SQL's people (%d rows)" % len(got_ids))
res("attachment" in (r.getheader("Content-Disposition") or ""), "the extract is a download")
res(all("nhs" not in h.lower() and "dob" not in h.lower() for h in lines[0].split(",")),
    "the extract has pseudonyms, no identifiers")
st, _, _, _ = req("POST", "/api/extract", {"filters": {}}, cookie=tok)
res(st == 403, "an extract without the CSRF token is refused (got %d)" % st)
st, vt, vc, _ = login("pat", "practice-pass-1")
st, _, _, _ = req("POST", "/api/extract", {"filters": {}}, cookie=vt, csrf=vc)
res(st == 403, "the practice role gets no extract (got %d)" % st)

# ---- the practice role ----
st, ptok, pcsrf, _ = login("pat", "practice-pass-1")
res(st == 200, "the practice user logs in")
st, m, _, _ = req("GET", "/api/meta", cookie=ptok)
res(st == 200 and m["practices"] == ["P90001"], "meta lists only the user's practice")
st, j, _, _ = req("POST", "/api/select", {"filters": {}}, cookie=ptok, csrf=pcsrf)
want = publish(sql_ids("p.practice = 'P90001'"))
res(st == 200 and j["count"] == want and want not in (0, None), "a practice user's whole view is its practice (%s, got %s)"
    % (want, j and j.get("count")))
others = [x[0] for x in con.execute("select distinct practice from person_year where practice"
                                    " is not null and practice != 'P90001'")]
for body in [{"filters": {"practice": [others[0]]}}, {"rule": "practice = '%s'" % others[0]},
             {"rule": "practice != 'P90001' or practice is null"}, {"rule": "true or true"}]:
    st, j, _, _ = req("POST", "/api/select", body, cookie=ptok, csrf=pcsrf)
    exp = 0 if "true" not in json.dumps(body) else want
    res(st == 200 and j["count"] == exp,
        "edited request %s cannot reach another practice (got %s)" % (json.dumps(body), j and j.get("count")))
st, _, _, _ = req("GET", "/api/users", cookie=ptok)
res(st == 403, "the practice role cannot list users (got %d)" % st)

# ---- slow client ----
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
t0 = time.time()
s.settimeout(15)
try:
    got = s.recv(100)
except (socket.timeout, ConnectionResetError):
    got = b"timeout"
res(got in (b"",) or got.startswith(b"HTTP/1.1 408"),
    "a client that stops sending is dropped (%r after %.0f s)" % (got[:20], time.time() - t0))
st, _, _, _ = req("GET", "/api/session", cookie=tok)
res(st == 200, "the server answers others meanwhile")

# ---- logout and idle timeout ----
st, t3, c3, _ = login("ann", "analyst-pass-1")
st, _, r, _ = req("POST", "/api/logout", cookie=t3)
res(st == 403, "logout needs the CSRF token too")
st, _, r, _ = req("POST", "/api/logout", cookie=t3, csrf=c3)
res(st == 200 and "Max-Age=0" in (r.getheader("Set-Cookie") or ""), "logout clears the cookie")
st, _, _, _ = req("GET", "/api/session", cookie=t3)
res(st == 401, "the session is gone after logout")
st, tok, _, _ = login("ann", "analyst-pass-1")
st, _, _, _ = req("GET", "/api/session", cookie=tok)
res(st == 200, "a fresh session is live")
time.sleep(idle + 1.5)
st, _, _, _ = req("GET", "/api/session", cookie=tok)
res(st == 401, "an idle session ends after the idle timeout")

# ---- password spraying from one address: 20 failures lock the address ----
for i in range(20):
    login("spray%d" % i, "guess-password-%d" % i)
st, t5, _, _ = login("ann", "analyst-pass-1")
res(st == 429 and t5 is None, "20 failed logins from one address lock it, whatever the names (got %d)" % st)
sys.exit(1 if fails else 0)
