#!/usr/bin/env python3
"""Fill a freshly migrated database through Django's ORM, then print ONE JSON document on
stdout describing what Django itself says about the data (passwords checked by
check_password(), permissions by get_all_permissions(), ...). Nothing else goes to stdout.

Run after `manage.py migrate`, with the same DLB_* environment (see testsite/settings.py).
"""
import datetime
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'testsite.settings')

# Anything printed while populating (warnings, debug prints) must not corrupt the JSON.
_real_stdout = sys.stdout
sys.stdout = sys.stderr

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import authenticate, get_user_model  # noqa: E402
from django.contrib.auth.hashers import (  # noqa: E402
    PBKDF2PasswordHasher, identify_hasher, is_password_usable, make_password,
)
from django.contrib.auth.models import Group, Permission  # noqa: E402
from django.db import connection, transaction  # noqa: E402

User = get_user_model()
CUSTOM = bool(getattr(settings, 'CUSTOM_USER', False))
UTC = datetime.timezone.utc

# Django 3.2's real default PBKDF2 hasher (260000 iterations), not the fast test subclass.
REAL_DEFAULT_PBKDF2 = PBKDF2PasswordHasher()

HOSTILE_GROUPS = [
    'C++ Developers',
    "Smith, John's team",
    ' leading space',
    'trailing space ',
    '#hash',
    r'a=b+c;<d>"e"\f',
    'Ünïcödé',
]

# Each user: username (USERNAME_FIELD value), password (the right plaintext), optional
# wrong (default: password minus its last character, which catches prefix matching),
# hasher (None = set_password() with the default hasher; an algorithm name; or a hasher
# instance), groups, perms (direct user permissions), flags, names, and extra (more
# passwords to ask Django about).
DEFAULT_USERS = [
    dict(username='alice', password='lètmein-alice', groups=['secret-agents'],
         first='Alice', last='Liddell', email='alice@example.com'),
    dict(username='bob', password='b$b:"pa\'ss"\\word', groups=["Smith, John's team"],
         perms=['auth.view_user'], first='Bob', last='Smith', email='bob@example.com'),
    dict(username='carol', password='carol\'s "quoted" pass',
         groups=['committers', ' leading space'], first='Carol', email='carol@example.com'),
    dict(username='u_pbkdf2_sha1', hasher='pbkdf2_sha1', password='pbkdf2:sha1$pass', groups=['hashers']),
    dict(username='u_argon2', hasher='argon2', password='argön2-pässwörd', groups=['hashers']),
    # Longer than bcrypt's 72-byte limit: bcrypt_sha256 pre-hashes, so the tail matters.
    dict(username='u_bcrypt_sha256', hasher='bcrypt_sha256',
         password='bcrypt_sha256-' + 'x' * 80 + '-tail-é', groups=['hashers']),
    dict(username='u_bcrypt', hasher='bcrypt', password='bcrypt$2b$04:pw', groups=['hashers']),
    dict(username='u_sha1', hasher='sha1', password='sha1\\back\\slash', groups=['hashers']),
    dict(username='u_md5', hasher='md5', password='md5 with spaces ü', groups=['hashers', '#hash']),
    dict(username='u_unsalted_md5', hasher='unsalted_md5', password='unsalted:md5', groups=['hashers']),
    dict(username='u_unsalted_sha1', hasher='unsalted_sha1', password='unsalted$sha1', groups=['hashers']),
    # Traditional DES crypt: only the first 8 characters count (Django says so too, see extra).
    dict(username='u_crypt', hasher='crypt', password='cryptpw!-tail', wrong='xryptpw!-tail',
         extra=['cryptpw!', 'cryptpw!anything', 'cryptpw'], groups=['hashers']),
    dict(username='u_pbkdf2_default', hasher=REAL_DEFAULT_PBKDF2, password='default-260000', groups=['hashers']),
    # Inactive, with a direct permission: get_all_permissions() is still empty for her.
    dict(username='dora', password='dora-inactive', active=False, groups=['secret-agents'],
         perms=['svn.commit_repo'], email='dora@example.com'),
    dict(username='eve', password='eve-unusable', unusable=True, groups=['secret-agents'],
         email='eve@example.com'),
    dict(username='frank', password='frank-lower', wrong='Frank-UPPER', groups=['secret-agents'],
         first='frank', email='frank@example.com'),
    dict(username='Frank', password='Frank-UPPER', wrong='frank-lower', groups=['Ünïcödé'],
         first='Frank', last='Upper', email='Frank@example.com'),
    dict(username='staffer', password='staff:er', staff=True, groups=['trailing space ']),
    dict(username='root', password='r00t$ecret', staff=True, superuser=True, email='root@example.com'),
    dict(username='josé.o+brien@x', password='jösé\\"pässwörd"',
         groups=['C++ Developers', r'a=b+c;<d>"e"\f'], first='José', last="O'Brien",
         email='jose@example.com'),
]

CUSTOM_USERS = [
    dict(username='alice@example.com', password='lètmein-alice', groups=['secret-agents'],
         full='Alice Liddell'),
    dict(username='bob@example.com', hasher='argon2', password='b$b:"pa\'ss"\\word',
         groups=["Smith, John's team"], perms=['accounts.view_user'], full='Bob Smith'),
    dict(username='carol@example.com', hasher='bcrypt_sha256', password='carol\'s "quoted" pass',
         groups=['committers'], full='Carol'),
    dict(username='dora@example.com', hasher='md5', password='dora-inactive', active=False,
         groups=['secret-agents'], perms=['svn.commit_repo'], full='Dora'),
    dict(username='eve@example.com', password='eve-unusable', unusable=True,
         groups=['secret-agents'], full='Eve'),
    dict(username='root@example.com', hasher=REAL_DEFAULT_PBKDF2, password='r00t$ecret',
         staff=True, superuser=True, full='Root'),
]

GROUP_PERMS = {
    'committers': ['svn.commit_repo'],
}


def get_perm(label):
    app_label, codename = label.split('.', 1)
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def perm_label(p):
    return '%s.%s' % (p.content_type.app_label, p.codename)


def hasher_of(encoded):
    if not is_password_usable(encoded):
        return 'unusable'
    try:
        return identify_hasher(encoded).algorithm
    except ValueError:
        return 'unknown'


def populate(specs):
    group_names = ['secret-agents', 'committers', 'hashers'] if not CUSTOM else ['secret-agents', 'committers']
    group_names += [n for s in specs for n in s.get('groups', []) if n not in group_names]
    groups = {}
    for name in group_names:
        g = Group(name=name)
        g.full_clean()  # Django itself accepts the name
        g.save()
        groups[name] = g
    for name, labels in GROUP_PERMS.items():
        if name in groups:
            groups[name].permissions.set([get_perm(label) for label in labels])

    base = datetime.datetime(2021, 3, 1, 12, 34, 56, tzinfo=UTC)
    skipped = []
    for i, s in enumerate(specs):
        # On a case-insensitive collation (MySQL's usual default) Django's unique index makes
        # case twins (frank/Frank) one key: the second cannot exist there, so it is left out
        # and listed in skippedUsers.
        if User.objects.filter(**{User.USERNAME_FIELD: s['username']}).exists():
            skipped.append(s['username'])
            continue
        joined = base + datetime.timedelta(days=i, hours=i)
        if i % 2:
            joined = joined.replace(microsecond=123456)
        fields = dict(is_active=s.get('active', True), is_staff=s.get('staff', False),
                      is_superuser=s.get('superuser', False), date_joined=joined)
        if CUSTOM:
            user = User(email=s['username'], full_name=s.get('full', ''), **fields)
        else:
            user = User(username=s['username'], email=s.get('email', ''),
                        first_name=s.get('first', ''), last_name=s.get('last', ''), **fields)
        hasher = s.get('hasher')
        if hasher is None:
            user.set_password(s['password'])
        else:
            user.password = make_password(s['password'], hasher=hasher)
        if s.get('unusable'):
            user.set_unusable_password()
        user.full_clean()  # Django itself accepts the username, e-mail, ...
        user.save()
        user.groups.set([groups[n] for n in s.get('groups', [])])
        user.user_permissions.set([get_perm(label) for label in s.get('perms', [])])
        s['id'] = user.pk
    return skipped


def username_collation():
    """The collation of the username column (MySQL/MariaDB), or None on other databases."""
    if connection.vendor != 'mysql':
        return None
    column = User._meta.get_field(User.USERNAME_FIELD).column
    with connection.cursor() as c:
        c.execute('SELECT collation_name FROM information_schema.columns WHERE table_schema = DATABASE()'
                  ' AND table_name = %s AND column_name = %s', [User._meta.db_table, column])
        row = c.fetchone()
    return row[0] if row else None


def ask(question):
    """Answer question() inside a savepoint that is rolled back: a successful check_password()
    or authenticate() re-saves the user when the hash is not in the preferred format (hasher
    or work factor), which would change what the next question sees."""
    with transaction.atomic():
        answer = question()
        transaction.set_rollback(True)
    return answer


def describe(specs):
    users = []
    stored = {s['id']: User.objects.get(pk=s['id']).password for s in specs}
    with transaction.atomic():
        for s in specs:
            pk = s['id']
            right = s['password']
            wrong = s.get('wrong', right[:-1])
            encoded = stored[pk]

            def check(password):
                return ask(lambda: User.objects.get(pk=pk).check_password(password))

            check_right = check(right)
            check_wrong = check(wrong)
            authenticates = ask(lambda: authenticate(
                None, username=User.objects.get(pk=pk).get_username(), password=right) is not None)
            extra = [{'password': p, 'check': check(p)} for p in s.get('extra', [])]
            u = User.objects.get(pk=pk)
            assert u.password == encoded
            entry = {
                'id': u.pk,
                'username': u.get_username(),
                'password': right,
                'wrongPassword': wrong,
                'checkRight': check_right,
                'checkWrong': check_wrong,
                'authenticates': authenticates,
                'hasher': hasher_of(encoded),
                'encoded': encoded,
                'isActive': u.is_active,
                'isStaff': u.is_staff,
                'isSuperuser': u.is_superuser,
                'email': u.email,
                'firstName': '' if CUSTOM else u.first_name,
                'lastName': '' if CUSTOM else u.last_name,
                'fullName': u.get_full_name(),
                'groups': sorted(g.name for g in u.groups.all()),
                'directPermissions': sorted(perm_label(p) for p in u.user_permissions.all()),
                'permissions': sorted(u.get_all_permissions()),
                'dateJoined': u.date_joined.isoformat(),
            }
            if extra:
                entry['extraChecks'] = extra
            users.append(entry)
        transaction.set_rollback(True)
    for s in specs:
        after = User.objects.get(pk=s['id']).password
        assert after == stored[s['id']], 'stored hash of %r changed' % s['username']

    groups = []
    for g in Group.objects.order_by('name'):
        groups.append({
            'id': g.pk,
            'name': g.name,
            'members': sorted(u.get_username() for u in g.user_set.all()),
            'permissions': sorted(perm_label(p) for p in g.permissions.all()),
        })
    permissions = [{
        'id': p.pk,
        'appLabel': p.content_type.app_label,
        'model': p.content_type.model,
        'codename': p.codename,
        'name': p.name,
    } for p in Permission.objects.select_related('content_type').order_by(
        'content_type__app_label', 'codename')]

    return {
        'mode': 'custom' if CUSTOM else 'default',
        'djangoVersion': django.get_version(),
        'vendor': connection.vendor,
        'userModel': {
            'label': User._meta.label,
            'table': User._meta.db_table,
            'usernameField': User.USERNAME_FIELD,
            'groupsTable': User.groups.through._meta.db_table,
            'userPermissionsTable': User.user_permissions.through._meta.db_table,
        },
        'users': users,
        'groups': groups,
        'permissions': permissions,
        'usernameCollation': username_collation(),
    }


def main():
    specs = [dict(s) for s in (CUSTOM_USERS if CUSTOM else DEFAULT_USERS)]
    with transaction.atomic():
        skipped = populate(specs)
    doc = describe([s for s in specs if 'id' in s])
    doc['skippedUsers'] = skipped
    _real_stdout.write(json.dumps(doc, indent=1, ensure_ascii=True))
    _real_stdout.write('\n')
    _real_stdout.flush()


if __name__ == '__main__':
    main()
