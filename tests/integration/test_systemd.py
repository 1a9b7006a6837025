#!/usr/bin/env python3
"""test_systemd.py — the service as systemd sees it: the unit verifies, its hardening scores an
exposure of 1.5 or lower, `make install` lays out binary, unit, user, inbox and configuration
(never overwriting an operator's configuration), and `make uninstall` takes back all of it but
the configuration and the state."""
import os
import re
import stat
import subprocess

from harness import test, run, tmpdir, ROOT, BINARY

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
