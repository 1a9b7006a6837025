#!/usr/bin/env python3
"""test_man.py — the manual page paperwatch(1) renders without a warning, and cannot drift from the
program silently: every command `paperwatch help` lists, with its options, and every exit status
and environment variable of the code is in it."""
import glob
import os
import re
import subprocess

from harness import test, run, pw, text, ROOT

PAGE1 = os.path.join(ROOT, 'daemon', 'paperwatch.1')
# man-db's own formatting, as a reader's terminal would get it, in a locale every machine has.
MAN_ENV = dict(os.environ, LC_ALL='C.UTF-8', MANWIDTH='80', MAN_KEEP_FORMATTING='')


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


def words(lines):
    return {w for line in lines for w in re.findall(r'[A-Za-z0-9_]+', line)}


@test
def paperwatch_1_renders_without_a_warning_under_groff_and_man():
    assert warnings(PAGE1) == '', warnings(PAGE1)


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


if __name__ == '__main__':
    run()
