#!/usr/bin/env python3
"""Data for bench/link.sh: a GP register of N people and M feed rows without
an NHS number, each from a register person, with the noise of real records
(nicknames, spelling, typing errors, day and month of birth transposed, an
old address, missing fields), and the truth of whose each row is.

usage: link_gen.py DIR [N_REGISTER] [N_ROWS]
Writes DIR/register.csv, DIR/in/ae/RA1_2024-01.csv, DIR/truth.csv.
Own name lists and noise (independent of yoc synth's); seeded, so the same
arguments give the same files. NHS numbers are valid Modulus 11 numbers
from 000 000 0000 upwards, outside every issued range.
"""
import os, random, sys

out = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 3000000
M = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
rnd = random.Random(21)

male = ("JOHN DAVID MICHAEL PAUL ANDREW PETER JAMES ROBERT MARK RICHARD STEPHEN WILLIAM THOMAS "
        "CHRISTOPHER ANTHONY DANIEL GEORGE MATTHEW IAN KEVIN GARY BRIAN ALAN STEVEN SIMON JOSEPH "
        "JACK OLIVER HARRY SAMUEL BENJAMIN EDWARD CHARLES KENNETH RONALD ARTHUR FREDERICK HENRY "
        "LEONARD NICHOLAS PHILIP GRAHAM KEITH COLIN NEIL DEAN LUKE ADAM RYAN MOHAMMED ALI OSCAR "
        "NOAH LEO ARCHIE JOSHUA LIAM CONNOR TOBY ETHAN JACOB LEWIS").split()
female = ("MARGARET SUSAN ELIZABETH SARAH PATRICIA JANE MARY CATHERINE JULIE KAREN HELEN JENNIFER "
          "NICOLA EMMA CLAIRE LINDA ANN BARBARA DOROTHY JOAN JEAN SANDRA CHRISTINE DEBORAH "
          "JACQUELINE REBECCA VICTORIA LAURA RACHEL AMANDA LOUISE KATHLEEN IRENE DORIS EILEEN "
          "MAUREEN PAULINE ALISON GILLIAN ANGELA CHARLOTTE OLIVIA AMELIA ISLA EMILY SOPHIE JESSICA "
          "CHLOE GRACE HANNAH FATIMA AISHA PRIYA ZARA ELLIE MIA LILY ISABELLA POPPY EVIE").split()
nick = {"WILLIAM": "BILL", "ELIZABETH": "LIZ", "MARGARET": "PEGGY", "ROBERT": "BOB", "JAMES": "JIM",
        "JOHN": "JACK", "RICHARD": "DICK", "ANTHONY": "TONY", "CATHERINE": "KATE", "SUSAN": "SUE",
        "DAVID": "DAVE", "MICHAEL": "MIKE", "CHRISTOPHER": "CHRIS", "PATRICIA": "PAT",
        "NICHOLAS": "NICK", "STEPHEN": "STEVE", "THOMAS": "TOM", "HENRY": "HARRY", "EDWARD": "TED",
        "JENNIFER": "JENNY", "SARAH": "SALLY", "SAMUEL": "SAM", "BENJAMIN": "BEN", "JOSEPH": "JOE",
        "PETER": "PETE", "ANDREW": "ANDY", "MATTHEW": "MATT", "REBECCA": "BECKY"}
surn = ("SMITH JONES WILLIAMS TAYLOR BROWN DAVIES EVANS WILSON THOMAS JOHNSON ROBERTS ROBINSON "
        "THOMPSON WRIGHT WALKER WHITE EDWARDS HUGHES GREEN HALL LEWIS HARRIS CLARKE PATEL JACKSON "
        "WOOD TURNER MARTIN COOPER HILL WARD MORRIS MOORE CLARK LEE KING BAKER HARRISON MORGAN "
        "ALLEN JAMES SCOTT PHILLIPS WATSON DAVIS PARKER PRICE BENNETT YOUNG GRIFFITHS MITCHELL "
        "KELLY COOK CARTER RICHARDSON BAILEY COLLINS BELL SHAW MURPHY MILLER COX RICHARDS KHAN "
        "MARSHALL ANDERSON SIMPSON ELLIS ADAMS SINGH BEGUM WILKINSON FOSTER CHAPMAN POWELL WEBB "
        "ROGERS GRAY MASON ALI HUNT HUSSAIN CAMPBELL MATTHEWS OWEN PALMER HOLMES MILLS BARNES "
        "KNIGHT LLOYD BUTLER RUSSELL BARKER FISHER STEVENS JENKINS MURRAY DIXON HARVEY").split()
s1 = ("ASH BRAD CAR DUN FAIR GOLD HOL KIRK LANG MAR NOR PEN RAD SHER THORN WHIT WIN BLACK CRAN "
      "ELD FARN GRIM HAR LOCK MIL OAK PRES ROW STAN TAL WAL BUR CHAD DER HAW LAM MOR REN SAL TRE "
      "BECK COL DRAY EAST FEN GLAD HEN IVE").split()
s2 = ("WORTH FORD TON LEY BY HAM WELL FIELD BROOK WOOD SON DALE STEAD MORE LOW COTT WICK HURST "
      "BOURNE RIDGE LAND SHAW THORPE INGTON OCK ETT ER IN AN ELL").split()
letters = "ABDEFGHJLNPQRSTUWXYZ"

def zipf_table(names):
    w = [1.0 / (i + 2) for i in range(len(names))]
    return names, w

def pick(names, weights, k):
    return rnd.choices(names, weights, k=k)

def nhs(i):
    while True:
        nine = "%09d" % i
        c = 11 - sum(int(d) * (10 - j) for j, d in enumerate(nine)) % 11
        c = 0 if c == 11 else c
        i += 1
        if c != 10 and len(set(nine + str(c))) > 1:
            return nine + str(c), i

def postcode(area, dist, sect):
    return "Y%s%d %d%s%s" % (chr(65 + area % 26), dist, sect, rnd.choice(letters), rnd.choice(letters))

def typo(s):
    if len(s) < 3:
        return s
    i = rnd.randrange(1, len(s) - 1)
    k = rnd.randrange(4)
    if k == 0:
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    if k == 1:
        return s[:i] + s[i + 1:]
    if k == 2:
        return s[:i] + s[i] + s[i:]
    return s[:i] + chr(65 + rnd.randrange(26)) + s[i + 1:]

os.makedirs(os.path.join(out, "in", "ae"), exist_ok=True)
mw = [1.0 / (i + 2) for i in range(len(male))]
fw = [1.0 / (i + 2) for i in range(len(female))]
sw = [1.0 / (i + 2) for i in range(len(surn))]
people = []
nx = 0
with open(os.path.join(out, "register.csv"), "w") as f:
    f.write("NEWNHSNO,DOB,SEX,GPPRAC,GIVEN_NAME,FAMILY_NAME,POSTCODE\n")
    for i in range(N):
        sex = rnd.choice((1, 2))
        g = rnd.choices(male if sex == 1 else female, mw if sex == 1 else fw)[0]
        fam = rnd.choices(surn, sw)[0] if rnd.random() < 0.55 else rnd.choice(s1) + rnd.choice(s2)
        y, m, d = rnd.randrange(1920, 2024), rnd.randrange(1, 13), rnd.randrange(1, 29)
        lsoa = rnd.randrange(N // 1500 + 1)
        pc = postcode(lsoa // 800, 1 + (lsoa % 800) // 8, 1 + lsoa % 8)
        num, nx = nhs(nx)
        people.append((num, y, m, d, sex, g, fam, lsoa))
        f.write("%s,%04d-%02d-%02d,%d,P%05d,%s,%s,%s\n" % (num, y, m, d, sex, lsoa % 99999, g, fam, pc))
        people[-1] = people[-1] + (pc,)

with open(os.path.join(out, "in", "ae", "RA1_2024-01.csv"), "w") as f, \
        open(os.path.join(out, "truth.csv"), "w") as t:
    f.write("NEWNHSNO,DOB,SEX,PROCODE,AEKEY,GIVEN_NAME,FAMILY_NAME,POSTCODE\n")
    t.write("file,row,nhs_number\n")
    for r in range(1, M + 1):
        num, y, m, d, sex, g, fam, lsoa, pc = people[rnd.randrange(N)]
        u = rnd.random()
        if u < 0.10 and g in nick:
            g = nick[g]
        elif u < 0.14:
            g = typo(g)
        elif u < 0.18:
            g = ""
        u = rnd.random()
        if u < 0.05:
            fam = typo(fam)
        elif u < 0.08:
            fam = ""
        u = rnd.random()
        dob = "%04d-%02d-%02d" % (y, m, d)
        if u < 0.05 and d <= 12 and d != m:
            dob = "%04d-%02d-%02d" % (y, d, m)
        elif u < 0.08:
            dob = "%04d-%02d-%02d" % (y + rnd.choice((-1, 1)), m, d)
        elif u < 0.10:
            dob = ""
        u = rnd.random()
        if u < 0.12:
            l2 = rnd.randrange(N // 1500 + 1)
            pc = postcode(l2 // 800, 1 + (l2 % 800) // 8, 1 + l2 % 8)
        elif u < 0.16:
            pc = ""
        f.write(",%s,%d,RA1,%019d,%s,%s,%s\n" % (dob, sex, r, g, fam, pc))
        t.write("ae/RA1_2024-01.csv,%d,%s\n" % (r, num))
