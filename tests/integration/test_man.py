#!/usr/bin/env python3
"""test_man.py — the manual pages: paperwatch(1) and paperwatch.conf(5) render without a warning,
`make install` puts them where man finds them, and they cannot drift from the program silently:
every command `paperwatch help` lists, with its options, every exit status and environment
variable of the code, and every setting of the settings tables is in its page."""
import glob
import os
import re
import stat
import subprocess

from harness import test, run, tmpdir, pw, text, register_secret, ROOT

PAGE1 = os.path.join(ROOT, 'daemon', 'paperwatch.1')
PAGE5 = os.path.join(ROOT, 'config', 'paperwatch.conf.5')
# man-db's own formatting, as a reader's terminal would get it, in a locale every machine has.
SMTP_PASSWORD = 'man-page-example-password-3f9c'
MAN_ENV = dict(os.environ, LC_ALL='C.UTF-8', MANWIDTH='80', MAN_KEEP_FORMATTING='')


def install(destdir, prefix='/usr'):
    return subprocess.run(['make', '-s', '-C', ROOT, 'install', f'DESTDIR={destdir}',
                           f'PREFIX={prefix}'], capture_output=True, text=True, timeout=300)


def warnings(page):
    """What groff and man-db say about a page while formatting it: nothing, for a clean one."""
    g = subprocess.run(['groff', '-man', '-ww', '-z', page], capture_output=True, text=True)
    m = subprocess.run(['man', '--warnings', '-l', page], capture_output=True, text=True,
                       env=MAN_ENV)
    assert g.returncode == 0 and m.returncode == 0, g.stderr + m.stderr
    assert m.stdout.strip(), f'man printed nothing for {page}'
    return (g.stderr + m.stderr).strip()


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def plain(roff):
    """One line of roff source as the words it prints: font macros, escapes and quotes gone."""
    roff = re.sub(r'^\.(?:B|I|R|BR|RB|BI|IB|IR|RI|SM|SB)\s+', '', roff)
    roff = re.sub(r'\\f(?:\[[^]]*\]|\(..|.)', '', roff)
    roff = re.sub(r'\\\((?:aq|dq)', "'", roff)
    roff = roff.replace('\\-', '-').replace('\\%', '').replace('\\&', '').replace('\\e', '\\')
    return roff.replace('"', '')


def sections(roff):
    """{section heading: its source lines}, in the page's order."""
    out, current = {}, None
    for line in roff.splitlines():
        m = re.match(r'\.SH\s+"?([^"]*)"?\s*$', line)
        if m:
            current = m.group(1)
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out


def tags(lines):
    """The tags of a section's tagged paragraphs (the line after each .TP), as plain text."""
    return [plain(lines[i + 1]) for i, l in enumerate(lines[:-1]) if l.startswith('.TP')]


def help_commands():
    """{command: the options its usage names}, from `paperwatch help` itself."""
    p = pw('help')
    assert p.returncode == 0, p.stderr
    commands = {}
    for line in text(p.stdout).splitlines():
        m = re.match(r'^ {2}(?:paperwatch )?([a-z][a-z-]*)(?: (.*))?$', line)
        if m:
            opts = re.findall(r'(?<![\w-])(--?[a-z][a-z-]*)', m.group(2) or '')
            commands.setdefault(m.group(1), set()).update(opts)
    # A help text this parser no longer understands must fail here, not pass with nothing.
    assert len(commands) >= 8 and 'run' in commands, text(p.stdout)
    return commands


def conf_tables():
    """{table name: [(setting, type)]}: every settings table of the configuration's code."""
    tables = {}
    files = [os.path.join(ROOT, 'config', 'config.c')] + \
        sorted(glob.glob(os.path.join(ROOT, 'notify', 'notify*.c')))
    for path in files:
        src = read(path)
        for m in re.finditer(r'struct conf_key (\w+)\[\] = \{(.*?)\n\};', src, re.S):
            rows = []
            for entry in re.split(r'\}\s*,', m.group(2)):
                name = re.search(r'\.name = "([^"]+)"', entry)
                kind = re.search(r'\.type = (\w+)', entry)
                if name and kind:
                    rows.append((name.group(1), kind.group(1)))
            tables[m.group(1)] = rows
    assert {'watch_keys', 'delivery_keys', 'rule_keys', 'top_keys', 'notify_http_keys'} <= \
        set(tables), sorted(tables)
    return tables


def words(lines):
    return {w for line in lines for w in re.findall(r'[A-Za-z0-9_]+', line)}


@test
def both_pages_render_without_a_warning_under_groff_and_man():
    for page in (PAGE1, PAGE5):
        assert warnings(page) == '', f'{page}:\n{warnings(page)}'


@test
def paperwatch_1_has_the_sections_a_reader_looks_for_and_names_the_other_pages():
    s = sections(read(PAGE1))
    for name in ('NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'OPTIONS', 'QUERY LANGUAGE',
                 'FILES', 'ENVIRONMENT', 'EXIT STATUS', 'SIGNALS', 'EXAMPLES', 'SEE ALSO'):
        assert name in s, f'no {name} section: {list(s)}'
    see_also = ' '.join(plain(l) for l in s['SEE ALSO'])
    for ref in ('paperwatch.conf (5)', 'systemd.exec (5)'):
        assert ref.replace(' ', '') in see_also.replace(' ', ''), see_also
    assert re.search(r'\bpaperwatch\s+\\-\s', '\n'.join(s['NAME'])), s['NAME']


@test
def paperwatch_conf_5_has_its_sections_and_names_paperwatch_1():
    s = sections(read(PAGE5))
    for name in ('NAME', 'DESCRIPTION', 'FILES', 'EXAMPLE', 'SEE ALSO'):
        assert name in s, f'no {name} section: {list(s)}'
    assert 'paperwatch(1)' in ''.join(plain(l) for l in s['SEE ALSO']).replace(' ', '')


@test
def every_command_paperwatch_help_lists_is_in_paperwatch_1_with_its_options():
    entries = {}
    for tag in tags(sections(read(PAGE1))['COMMANDS']):
        m = re.match(r'paperwatch ([a-z][a-z-]*)', tag)
        if m:
            entries.setdefault(m.group(1), []).append(tag)
    for command, options in help_commands().items():
        assert command in entries, f'{command} is not in COMMANDS: {sorted(entries)}'
        documented = set(re.findall(r'(?<![\w-])(--?[a-z][a-z-]*)', ' '.join(entries[command])))
        assert options <= documented, f'{command}: {sorted(options - documented)} undocumented'


@test
def every_exit_status_the_code_names_is_in_paperwatch_1():
    codes = set()
    for path in glob.glob(os.path.join(ROOT, 'daemon', '*.[ch]')):
        codes |= set(re.findall(r'\bEXIT_[A-Z_]+\s*=\s*(\d+)', read(path)))
    assert {'0', '1', '2', '3'} <= codes, codes
    documented = {t.split()[0] for t in tags(sections(read(PAGE1))['EXIT STATUS']) if t.split()}
    assert codes <= documented, f'undocumented exit statuses: {sorted(codes - documented)}'


@test
def every_environment_variable_the_code_reads_is_in_paperwatch_1():
    names = set()
    for path in glob.glob(os.path.join(ROOT, '*', '*.c')) + \
            glob.glob(os.path.join(ROOT, 'daemon', '*', '*.c')):
        if '/tests/' not in path:
            names |= set(re.findall(r'getenv\("([A-Z_]+)"\)', read(path)))
    assert 'STATE_DIRECTORY' in names, names
    names.add('CREDENTIALS_DIRECTORY')  # read where a secret file is opened
    documented = words(tags(sections(read(PAGE1))['ENVIRONMENT']))
    assert names <= documented, sorted(names - documented)


@test
def every_setting_of_the_settings_tables_is_in_paperwatch_conf_5():
    # A setting is a tagged paragraph; a group may be a subsection of its own instead.
    roff = read(PAGE5).splitlines()
    documented = words(tags(roff) + [plain(l[4:]) for l in roff if l.startswith('.SS ')])
    missing = []
    for table, rows in conf_tables().items():
        for name, kind in rows:
            # A secret comes inline or from the file its "_file" twin names.
            for n in [name] + ([name + '_file'] if kind == 'CONF_SECRET' else []):
                if n not in documented:
                    missing.append(f'{table}: {n}')
    assert not missing, missing


@test
def every_notifier_type_is_in_paperwatch_conf_5():
    types = set()
    for path in glob.glob(os.path.join(ROOT, 'notify', 'notify_*.c')):
        types |= set(re.findall(r'^\t\.type = "([a-z]+)",', read(path), re.M))
    assert {'slack', 'file'} <= types, types
    headings = {plain(l[4:]).strip().lower() for l in read(PAGE5).splitlines()
                if l.startswith('.SS ')}
    missing = [t for t in types if not any(t in h.split() for h in headings)]
    assert not missing, f'no subsection for {missing}: {sorted(headings)}'


@test
def the_example_of_paperwatch_conf_5_passes_check_config():
    register_secret(SMTP_PASSWORD)
    lines = sections(read(PAGE5))['EXAMPLE']
    example = '\n'.join(lines[lines.index('.EX') + 1:lines.index('.EE')])
    example = example.replace('\\-', '-').replace('\\e', '\\')
    d = tmpdir()
    # Its secret files, where a test can make them. The Slack URL's is a bare name: the service
    # reads it from its credentials directory, a command by hand from the working directory.
    password = os.path.join(d, 'smtp.password')
    example = example.replace('/etc/paperwatch/smtp.password', password)
    example = example.replace('/var/lib/paperwatch/', d + '/')
    creds = os.path.join(d, 'credentials')
    os.mkdir(creds)
    for path, value in ((password, SMTP_PASSWORD), (os.path.join(creds, 'slack.url'),
                                                 'https://hooks.slack.com/services/T/B/x'),
                        (os.path.join(d, 'slack.url'), 'https://hooks.slack.com/services/T/B/x')):
        with open(path, 'w') as f:
            f.write(value + '\n')
        os.chmod(path, 0o600)
    conf = os.path.join(d, 'paperwatch.conf')
    with open(conf, 'w') as f:
        f.write(example + '\n')
    p = pw('check-config', '-c', conf, cwd=d, env=dict(os.environ, CREDENTIALS_DIRECTORY=creds))
    assert p.returncode == 0, text(p.stderr) + example
    assert 'ok: 3 notifiers, 3 rules' in text(p.stdout), text(p.stdout)


@test
def make_install_puts_both_pages_where_man_finds_them():
    d = tmpdir()
    p = install(d, prefix='/usr')
    assert p.returncode == 0, p.stderr
    version = text(pw('--version').stdout).split()[-1]
    for rel in ('usr/share/man/man1/paperwatch.1', 'usr/share/man/man5/paperwatch.conf.5'):
        page = os.path.join(d, rel)
        assert stat.S_IMODE(os.stat(page).st_mode) == 0o644, oct(os.stat(page).st_mode)
        assert warnings(page) == '', warnings(page)
        th = next(l for l in read(page).splitlines() if l.startswith('.TH '))
        assert f'"paperwatch {version}"' in th, th
    # What man finds by name, through its search path, is the installed page.
    m = subprocess.run(['man', '-M', os.path.join(d, 'usr/share/man'), '5', 'paperwatch.conf'],
                       capture_output=True, text=True, env=MAN_ENV)
    assert m.returncode == 0 and 'PAPERWATCH.CONF' in m.stdout, m.stderr
    # The pages name the files where this PREFIX put them.
    page1 = read(os.path.join(d, 'usr/share/man/man1/paperwatch.1'))
    assert '/usr/share/doc/paperwatch/paperwatch.conf.example' in page1
    assert '/usr/local' not in page1


if __name__ == '__main__':
    run()
