#!/usr/bin/env python3
"""Runs the Python code of one docs/integrations page against a bridge, for
test/e2e/python-clients.test.js. The page's ```python block is executed verbatim; the
connection details come from the environment, as the page says (LDAP_URI, LDAP_HOST, ...).

    python_clients.py <page.md> ldap3|python-ldap|django-auth-ldap  < cases.json  > results.json

cases.json is a list of {"username", "password"}; each result says what the client returned
(or the exception it raised). django-auth-ldap runs a second Django site: its SQLite database is
SITE_B_DB (kept between runs, so a later run sees the users an earlier one created).
"""
import json
import os
import re
import sys
import tempfile
import warnings

warnings.simplefilter("ignore")
page, client = sys.argv[1], sys.argv[2]
cases = json.load(sys.stdin)
with open(page, encoding="utf-8") as f:
    blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
if len(blocks) != 1:
    sys.exit("%s: expected one ```python block, found %d" % (page, len(blocks)))
code = blocks[0]
_stdout = sys.stdout
sys.stdout = sys.stderr  # only the JSON goes to stdout


def error(e):
    return "%s: %s" % (type(e).__name__, e)


def dec(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


out = {"results": []}
if client == "ldap3":
    ns = {"__name__": "ldap3_page"}
    exec(compile(code, page, "exec"), ns)
    for c in cases:
        try:
            e = ns["login"](c["username"], c["password"])
            out["results"].append({"ok": e is not None, "uid": str(e.uid) if e is not None else None})
        except Exception as ex:  # noqa: BLE001 - the test shows what the client raised
            out["results"].append({"ok": False, "error": error(ex)})
elif client == "python-ldap":
    ns = {"__name__": "python_ldap_page"}
    exec(compile(code, page, "exec"), ns)
    for c in cases:
        try:
            a = ns["login"](c["username"], c["password"])
            out["results"].append({"ok": a is not None, "uid": dec(a["uid"][0]) if a is not None else None})
        except Exception as ex:  # noqa: BLE001
            out["results"].append({"ok": False, "error": error(ex)})
    try:
        out["allUsernames"] = sorted(ns["all_usernames"](page_size=3))
    except Exception as ex:  # noqa: BLE001
        out["allUsernamesError"] = error(ex)
elif client == "django-auth-ldap":
    site = tempfile.mkdtemp(prefix="dlb-site-b-")
    with open(os.path.join(site, "site_b_settings.py"), "w", encoding="utf-8") as f:
        f.write("import os\n"
                "SECRET_KEY = 'site-b-test-only'\n"
                "INSTALLED_APPS = ['django.contrib.contenttypes', 'django.contrib.auth']\n"
                "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': os.environ['SITE_B_DB']}}\n"
                "USE_TZ = True\n"
                "DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'\n"
                "# ---- docs/integrations/django-auth-ldap.md, verbatim ----\n" + code)
    sys.path.insert(0, site)
    os.environ["DJANGO_SETTINGS_MODULE"] = "site_b_settings"
    import django
    django.setup()
    from django.contrib.auth import authenticate
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    for c in cases:
        try:
            u = authenticate(None, username=c["username"], password=c["password"])
            if u is None:
                out["results"].append({"ok": False})
            else:
                out["results"].append({
                    "ok": True, "username": u.username, "isStaff": u.is_staff, "isSuperuser": u.is_superuser,
                    "firstName": u.first_name, "lastName": u.last_name, "email": u.email,
                    "groups": sorted(g.name for g in u.groups.all()),
                })
        except Exception as ex:  # noqa: BLE001
            out["results"].append({"ok": False, "error": error(ex)})
else:
    sys.exit("unknown client " + client)

_stdout.write(json.dumps(out, ensure_ascii=True))
_stdout.write("\n")
