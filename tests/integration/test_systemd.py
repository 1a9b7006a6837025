#!/usr/bin/env python3
"""test_systemd.py — the service as systemd sees it: the unit verifies, its hardening scores an
exposure of 1.5 or lower and leaves PCRE2 its JIT, `make install` lays out binary, unit, user,
inbox and configuration (never overwriting an operator's configuration), `make uninstall` takes
back all of it but the configuration and the state, secrets come from systemd credentials
($CREDENTIALS_DIRECTORY), and the daemon says how its regular expressions run."""
import base64
import hashlib
import hmac
import os
import re
import signal
import stat
import subprocess
import sys

from harness import (test, run, tmpdir, pw, text, digests, write_config, register_secret, Daemon,
                     Skip, ROOT, BINARY, WRAPPER)
from receiver import Receiver

UNIT = os.path.join(ROOT, 'systemd', 'paperwatch.service')


def install(destdir, prefix='/usr', target='install'):
    return subprocess.run(['make', '-s', '-C', ROOT, target, f'DESTDIR={destdir}',
                           f'PREFIX={prefix}'], capture_output=True, text=True, timeout=300)


def files_under(d):
    """Every file (or link) below d, as paths relative to it."""
    return {os.path.relpath(os.path.join(top, f), d)
            for top, _, names in os.walk(d) for f in names}


@test
def the_unit_passes_systemd_analyze_verify():
    # The unit as `make install` writes it, naming the binary built here.
    d = tmpdir()
    unit = os.path.join(d, 'paperwatch.service')
    with open(UNIT) as f:
        text = f.read().replace('/usr/local/bin/paperwatch', BINARY)
    with open(unit, 'w') as f:
        f.write(text.replace('/usr/local/share/doc/paperwatch', ROOT))
    p = subprocess.run(['systemd-analyze', 'verify', unit], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr.strip() == '', p.stderr


@test
def the_unit_is_hardened_to_an_exposure_of_at_most_1_5():
    p = subprocess.run(['systemd-analyze', 'security', '--offline=true', UNIT],
                       capture_output=True, text=True)
    m = re.search(r'Overall exposure level for paperwatch.service: ([0-9.]+)', p.stdout)
    assert m, p.stdout[-500:] + p.stderr
    assert float(m.group(1)) <= 1.5, m.group(0)


@test
def the_unit_is_a_notify_service_with_watchdog_reload_and_no_restart_loop():
    with open(UNIT) as f:
        unit = f.read()
    for line in ('Type=notify', 'ExecReload=/bin/kill -HUP $MAINPID', 'Restart=on-failure',
                 'RestartPreventExitStatus=2 3', 'StateDirectory=paperwatch',
                 'ConfigurationDirectory=paperwatch', 'StartLimitBurst=5'):
        assert line in unit, line
    assert re.search(r'^WatchdogSec=\d+', unit, re.M)


@test
def the_readmes_drop_ins_verify_with_the_unit():
    # Every [Service] drop-in the README shows, beside the unit as `systemctl edit` would put it.
    with open(os.path.join(ROOT, 'README.md')) as f:
        readme = f.read()
    drop_ins = re.findall(r'^```ini\n(\[Service\]\n.*?)^```', readme, re.M | re.S)
    assert any('LoadCredential=slack-token:/etc/paperwatch/slack-token' in d for d in drop_ins)
    assert any('ReadWritePaths=' in d for d in drop_ins), drop_ins
    for text in drop_ins:
        d = tmpdir()
        with open(UNIT) as f:
            unit = f.read().replace('/usr/local/bin/paperwatch', BINARY)
        with open(os.path.join(d, 'paperwatch.service'), 'w') as f:
            f.write(unit.replace('/usr/local/share/doc/paperwatch', ROOT))
        os.mkdir(os.path.join(d, 'paperwatch.service.d'))
        with open(os.path.join(d, 'paperwatch.service.d', 'override.conf'), 'w') as f:
            f.write(text)
        p = subprocess.run(['systemd-analyze', 'verify', 'paperwatch.service'], cwd=d,
                           capture_output=True, text=True,
                           env=dict(os.environ, SYSTEMD_UNIT_PATH=d + ':'))
        assert p.returncode == 0 and p.stderr.strip() == '', text + p.stderr


@test
def make_install_lays_out_everything_and_keeps_an_existing_configuration():
    d = tmpdir()
    p = install(d)
    assert p.returncode == 0, p.stderr
    binary = os.path.join(d, 'usr/bin/paperwatch')
    assert os.stat(binary).st_mode & stat.S_IXUSR
    with open(os.path.join(d, 'usr/lib/systemd/system/paperwatch.service')) as f:
        unit = f.read()
    assert 'ExecStart=/usr/bin/paperwatch run -c /etc/paperwatch/paperwatch.conf' in unit
    for path in ('usr/lib/sysusers.d/paperwatch.conf', 'usr/lib/tmpfiles.d/paperwatch.conf',
                 'usr/share/doc/paperwatch/README.md', 'etc/paperwatch/paperwatch.conf'):
        assert os.path.isfile(os.path.join(d, path)), path
    with open(os.path.join(d, 'usr/lib/tmpfiles.d/paperwatch.conf')) as f:
        assert 'd /var/lib/paperwatch/inbox 2775 paperwatch paperwatch' in f.read()
    conf = os.path.join(d, 'etc/paperwatch/paperwatch.conf')
    with open(conf, 'a') as f:
        f.write('# the operator was here\n')
    assert install(d).returncode == 0
    with open(conf) as f:
        assert f.read().endswith('# the operator was here\n')
    # The installed configuration is the example, and it checks.
    c = subprocess.run([binary, 'check-config', '-c', conf], capture_output=True, text=True)
    assert c.returncode == 0, c.stderr


# --- Secrets as systemd credentials ---------------------------------------------------------------

SECRET = 'whsec_' + base64.b64encode(b'paperwatch-credential-key-32byte').decode()
SECRET2 = 'whsec_' + base64.b64encode(b'paperwatch-credential-key-2nd-32').decode()
register_secret(SECRET, SECRET[6:], SECRET2, SECRET2[6:])
ALL = {'name': 'all', 'query': 'id:2*'}


def credentials(d, **values):
    """A folder like systemd's $CREDENTIALS_DIRECTORY holding one file per credential. systemd
    makes them readable by the service alone; these are readable by all, which must not matter."""
    creds = os.path.join(d, 'credentials')
    os.makedirs(creds, exist_ok=True)
    for name, value in values.items():
        path = os.path.join(creds, name.replace('_', '-'))
        with open(path, 'w') as f:
            f.write(value + '\n')
        os.chmod(path, 0o444)
    return creds


def credential_setup():
    """A webhook whose URL and signing secret are named by credential name, not by path."""
    d = tmpdir()
    inbox = os.path.join(d, 'inbox')
    os.mkdir(inbox)
    hook = {'name': 'hook', 'type': 'webhook', 'url_file': 'hook-url',
            'secret_file': 'hook-secret'}
    conf = write_config(os.path.join(d, 'pw.conf'), [hook], [ALL],
                        state=os.path.join(d, 'state.db'), watch={'dir': inbox},
                        delivery={'retry_base': '200ms', 'retry_max': '1s'})
    return d, inbox, conf


def signed_with(req, secret):
    h = req.headers
    signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + req.body
    mac = hmac.new(base64.b64decode(secret[6:]), signed, hashlib.sha256).digest()
    return h['webhook-signature'] == 'v1,' + base64.b64encode(mac).decode()


def drop(inbox, name, source):
    with open(source, 'rb') as f, open(os.path.join(inbox, '.' + name), 'wb') as g:
        g.write(f.read())
    os.rename(os.path.join(inbox, '.' + name), os.path.join(inbox, name))


@test
def secrets_named_by_a_bare_name_come_from_the_credentials_directory_and_again_on_reload():
    with Receiver() as rx:
        d, inbox, conf = credential_setup()
        creds = credentials(d, hook_url=rx.url + '/in', hook_secret=SECRET)
        daemon = Daemon(conf, d, env={'CREDENTIALS_DIRECTORY': creds})
        with daemon.start():
            drop(inbox, 'a.txt', digests()[0])
            (first,) = rx.wait_for(1)
            assert first.path == '/in' and signed_with(first, SECRET)
            # systemd copies a credential when the service starts; a reload reads it again.
            credentials(d, hook_secret=SECRET2)
            mark = len(daemon.notes)
            daemon.signal(signal.SIGHUP)
            daemon.wait_note('READY=1', after=mark)
            drop(inbox, 'b.txt', digests()[1])
            second = rx.wait_for(2)[1]
            assert signed_with(second, SECRET2)
            assert daemon.stop() == 0
        log = daemon.log_text()
        assert 'other users may read it' not in log, log
        assert 'reloaded' in log, log
        for s in (SECRET, SECRET[6:], SECRET2, SECRET2[6:]):
            assert s not in log


@test
def a_missing_credential_stops_the_start_naming_it_its_folder_and_the_reason():
    with Receiver() as rx:
        d, inbox, conf = credential_setup()
        creds = credentials(d, hook_url=rx.url + '/in')
        p = pw('run', '-c', conf, env=dict(os.environ, CREDENTIALS_DIRECTORY=creds), cwd=d)
        err = text(p.stderr)
        assert p.returncode == 2, err
        line = next(l for l in err.splitlines() if 'hook-secret' in l)
        assert 'credential "hook-secret"' in line and creds in line, line
        assert 'No such file or directory' in line and 'LoadCredential=hook-secret:' in line, line
        assert 'hook-url' not in err  # the credential that is there is read without a word


@test
def a_bare_name_without_a_credentials_directory_says_it_names_a_credential():
    d, inbox, conf = credential_setup()
    env = {k: v for k, v in os.environ.items() if k != 'CREDENTIALS_DIRECTORY'}
    p = pw('check-config', '-c', conf, env=env, cwd=d)
    err = text(p.stderr)
    assert p.returncode == 2, err
    line = next(l for l in err.splitlines() if 'hook-url' in l)
    assert 'No such file or directory' in line, line
    assert 'systemd credential' in line and 'LoadCredential=' in line, line
    assert 'CREDENTIALS_DIRECTORY' in line, line


NOBODY = 65534


def as_nobody(*args, env=None):
    """paperwatch run as an unprivileged user, as the service's User= runs it."""
    return subprocess.run(['setpriv', f'--reuid={NOBODY}', f'--regid={NOBODY}', '--clear-groups']
                          + WRAPPER + [BINARY, *args], capture_output=True, text=True,
                          timeout=60, env=env)


@test
def a_secret_only_root_may_read_reaches_the_service_user_as_a_credential():
    if os.geteuid() != 0:
        raise Skip('needs root, to make a file the daemon\'s user may not read')
    d = tmpdir()
    os.chmod(d, 0o755)
    secret = os.path.join(d, 'hook-secret')
    with open(secret, 'w') as f:
        f.write(SECRET + '\n')
    os.chmod(secret, 0o600)  # root's, as the README advises for /etc/paperwatch
    hook = {'name': 'hook', 'type': 'webhook', 'url': 'http://127.0.0.1:9/in'}
    env = {k: v for k, v in os.environ.items() if k != 'CREDENTIALS_DIRECTORY'}
    by_path = write_config(os.path.join(d, 'path.conf'), [dict(hook, secret_file=secret)], [ALL])
    p = as_nobody('check-config', '-c', by_path, env=env)
    assert p.returncode == 2, p.stderr
    assert 'Permission denied' in p.stderr and 'LoadCredential=' in p.stderr, p.stderr
    # What systemd does for LoadCredential=hook-secret:PATH: a copy only the service may read.
    creds = os.path.join(d, 'credentials')
    os.mkdir(creds, 0o500)
    with open(os.path.join(creds, 'hook-secret'), 'w') as f:
        f.write(SECRET + '\n')
    os.chmod(os.path.join(creds, 'hook-secret'), 0o400)
    for path in (creds, os.path.join(creds, 'hook-secret')):
        os.chown(path, NOBODY, NOBODY)
    by_name = write_config(os.path.join(d, 'name.conf'), [dict(hook, secret_file='hook-secret')],
                           [ALL])
    p = as_nobody('check-config', '-c', by_name, env=dict(env, CREDENTIALS_DIRECTORY=creds))
    assert p.returncode == 0 and p.stderr == '', p.stderr


# --- Regular expressions: PCRE2's JIT -------------------------------------------------------------

COMPILED = 'regular expressions: compiled to machine code (PCRE2 JIT)'
INTERPRETED = "regular expressions: interpreted, PCRE2's JIT is unavailable here ("
# Runs the rest of its arguments with writable executable memory refused, as the unit's
# MemoryDenyWriteExecute=yes would (prctl PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN: Linux 6.3).
NO_WX = ('import ctypes, os, sys\n'
         'if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:\n'
         '    sys.exit(77)\n'
         'os.execv(sys.argv[1], sys.argv[1:])\n')


def regex_daemon(prefix=()):
    d = tmpdir()
    inbox = os.path.join(d, 'inbox')
    os.mkdir(inbox)
    out = os.path.join(d, 'out.jsonl')
    conf = write_config(os.path.join(d, 'pw.conf'), [{'name': 'out', 'type': 'file', 'path': out}],
                        [{'name': 'rx', 'query': '/agents? (for|with)/'}],
                        state=os.path.join(d, 'state.db'), watch={'dir': inbox})
    return Daemon(conf, d, prefix=prefix)


@test
def the_unit_leaves_pcre2_its_jit_and_says_why():
    with open(UNIT) as f:
        unit = f.read()
    assert not re.search(r'^\s*MemoryDenyWriteExecute\s*=\s*(yes|true|1|on)', unit, re.M | re.I)
    comments = ' '.join(l for l in unit.splitlines() if l.startswith('#'))
    assert 'MemoryDenyWriteExecute' in comments and 'JIT' in comments, comments


@test
def run_says_once_at_start_that_regular_expressions_are_compiled_to_machine_code():
    daemon = regex_daemon()
    with daemon.start():
        assert daemon.stop() == 0
    log = daemon.log_text()
    if WRAPPER:  # the valgrind build interprets, and says so
        assert log.count(INTERPRETED) == 1, log
    else:
        assert log.count(COMPILED) == 1 and INTERPRETED not in log, log


@test
def run_says_regular_expressions_are_interpreted_where_writable_code_is_refused():
    probe = subprocess.run([sys.executable, '-c', NO_WX, '/bin/true'])
    if probe.returncode != 0:
        raise Skip('this kernel cannot refuse writable executable memory (PR_SET_MDWE, Linux 6.3)')
    daemon = regex_daemon(prefix=[sys.executable, '-c', NO_WX])
    with daemon.start():
        assert daemon.stop() == 0
    log = daemon.log_text()
    assert log.count(INTERPRETED) == 1 and COMPILED not in log, log
    reason = log.split(INTERPRETED, 1)[1].split('\n', 1)[0]
    assert 'writable' in reason and 'executable' in reason, reason


@test
def make_uninstall_removes_what_install_laid_and_keeps_configuration_and_state():
    for prefix in ('/usr', '/opt/paperwatch'):
        d = tmpdir()
        assert install(d, prefix).returncode == 0
        # What the operator and the service added: a secret beside the configuration, a state.
        with open(os.path.join(d, 'etc/paperwatch/slack.url'), 'w') as f:
            f.write('https://hooks.example.org/x\n')
        os.makedirs(os.path.join(d, 'var/lib/paperwatch/inbox'))
        with open(os.path.join(d, 'var/lib/paperwatch/state.db'), 'w') as f:
            f.write('state')
        p = install(d, prefix, 'uninstall')
        assert p.returncode == 0, p.stderr
        assert files_under(d) == {'etc/paperwatch/paperwatch.conf', 'etc/paperwatch/slack.url',
                                  'var/lib/paperwatch/state.db'}, sorted(files_under(d))
        assert not os.path.exists(os.path.join(d, prefix.lstrip('/'), 'share/doc/paperwatch'))
        # Uninstalling what is already gone is no error.
        p = install(d, prefix, 'uninstall')
        assert p.returncode == 0, p.stderr


if __name__ == '__main__':
    run()
