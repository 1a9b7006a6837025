#!/usr/bin/env python3
"""test_everyday.py — the command as a researcher meets it: queries that mean what a search box
means, help for every command, options before the command, `match` for people and for scripts,
`status` that says why, `check-config` that checks what can be checked, `test-notify` that
answers at once, and a rule added later applied to the digests already there."""
import glob
import json
import os
import re
import shlex
import shutil
import sqlite3

from certs import make_certs
from harness import (test, run, pw, text, digests, tmpdir, write_config, fixture, read_jsonl,
                     ROOT)
from receiver import Receiver, Reply

FAST = {'retry_base': '200ms', 'retry_max': '1s'}
COMMANDS = ('run', 'parse', 'match', 'scan', 'status', 'retry', 'test-notify', 'check-config',
            'help')


def inbox_setup(rules, notifiers=None, files=None):
    """A folder of the sample digests (or files), a file channel and the rules; (dir, conf,
    out)."""
    d = tmpdir()
    inbox = os.path.join(d, 'inbox')
    os.mkdir(inbox)
    for f in files or digests():
        shutil.copy(f, inbox)
    out = os.path.join(d, 'out.jsonl')
    conf = write_config(os.path.join(d, 'pw.conf'),
                        notifiers if notifiers is not None
                        else [{'name': 'out', 'type': 'file', 'path': out}],
                        rules, state=os.path.join(d, 'state.db'),
                        watch={'dir': inbox}, delivery=FAST)
    return d, conf, out


def titles(lines):
    return {json.loads(line)['title'] for line in lines.splitlines() if line.strip()}


# ---- The query language ----

def records_digest(d, *papers):
    """A Title/PDF/Summary digest of (title, summary) papers, ids 2501.00001 on; its path."""
    path = os.path.join(d, 'digest.txt')
    with open(path, 'w') as f:
        f.write('\n---\n'.join(f'Title: {t}\nPDF: https://arxiv.org/pdf/2501.{i + 1:05d}\n'
                                f'Summary: {s}\n' for i, (t, s) in enumerate(papers)))
    return path


@test
def a_minus_term_excludes_from_the_whole_query_as_in_search_boxes():
    digest = records_digest(tmpdir(),
                            ('A Survey of LLM-based Autonomous Agents', 'Agents plan and act.'),
                            ('Agents That Learn Tool Use', 'Tool use by language models.'),
                            ('Robots Without Tools', 'Grasping, no tool use at all.'),
                            ('A Survey of Tool Use', 'Tool use, surveyed.'))
    flagship = 'title:agent* OR "tool use" -survey'
    p = pw('match', '--json', '--query', flagship, digest)
    assert p.returncode == 0, text(p.stderr)
    assert titles(text(p.stdout)) == {'Agents That Learn Tool Use', 'Robots Without Tools'}
    # The same query written out in full means the same.
    full = pw('match', '--json', '--query', '(title:agent* OR "tool use") AND NOT survey', digest)
    assert titles(text(full.stdout)) == titles(text(p.stdout))
    # The old reading, with -survey bound to "tool use" alone, let a survey of agents through.
    old = pw('match', '--json', '--query', 'title:agent* OR ("tool use" -survey)', digest)
    assert 'A Survey of LLM-based Autonomous Agents' in titles(text(old.stdout))


@test
def or_binds_tighter_than_and_as_in_google():
    a = titles(text(pw('match', '--json', '--query', 'title:agent OR title:robot llm',
                       *digests()).stdout))
    b = titles(text(pw('match', '--json', '--query', '(title:agent OR title:robot) llm',
                       *digests()).stdout))
    c = titles(text(pw('match', '--json', '--query', 'title:agent OR (title:robot llm)',
                       *digests()).stdout))
    assert a == b and a != c, (a, c)


@test
def a_lower_case_operator_between_terms_warns_in_check_config_and_match():
    d, conf, _ = inbox_setup([{'name': 'loose', 'query': 'agent or robot'}])
    p = pw('check-config', '-c', conf)
    assert p.returncode == 0, text(p.stderr)  # the query still loads
    err = text(p.stderr)
    assert 'rule "loose"' in err and '"or" is searched as a word' in err, err
    assert 'agent OR robot' in err and '"or" in quotes' in err, err
    p = pw('match', '-c', conf)
    assert p.returncode == 0 and '"or" is searched as a word' in text(p.stderr)
    p = pw('match', '--query', 'agents and robots', *digests())
    assert 'agents robots (or agents AND robots)' in text(p.stderr), text(p.stderr)
    # Written as operators, or quoted, nothing is said.
    for q in ('agent OR robot', '"agent or robot"'):
        p = pw('match', '--query', q, *digests())
        assert 'searched as a word' not in text(p.stderr), text(p.stderr)


@test
def a_configuration_warning_says_warning_once():
    d, conf, _ = inbox_setup([{'name': 'loose', 'query': 'agent or robot'}])
    err = text(pw('check-config', '-c', conf).stderr)
    line = [x for x in err.splitlines() if 'searched as a word' in x][0]
    assert line.count('warning') == 1, line
    assert re.match(r'paperwatch: warning: .*pw\.conf:\d+: rule "loose": query column 7: ', line), line


@test
def check_config_says_when_an_author_rule_can_never_fire_on_the_digests_seen():
    # A date table and Title/PDF/Summary records: neither names authors.
    d, conf, _ = inbox_setup([{'name': 'levine', 'query': 'author:"Sergey Levine"'},
                              {'name': 'either', 'query': 'author:levine OR title:robot'}],
                             files=digests()[3:])
    p = pw('check-config', '-c', conf)
    assert p.returncode == 0 and 'can match only papers with authors' not in text(p.stderr)
    assert pw('scan', '-c', conf).returncode == 0
    p = pw('check-config', '-c', conf)
    err = text(p.stderr)
    assert p.returncode == 0, err
    assert re.search(r'rule "levine" can match only papers with authors, and none of the 2 '
                     r'digests read so far named any \(formats date-table, records\)', err), err
    assert 'rule "either"' not in err, err
    # Once a digest that names authors has come, the rule can fire: nothing more is said.
    shutil.copy(fixture('parse', 'hf_wrapped.md'), os.path.join(d, 'inbox'))
    assert pw('scan', '-c', conf).returncode == 0
    p = pw('check-config', '-c', conf)
    assert p.returncode == 0 and 'can match only papers with authors' not in text(p.stderr)


# ---- Commands that help themselves ----

@test
def every_command_has_help_by_name_and_by_option():
    listing = pw('help')
    assert listing.returncode == 0
    for c in COMMANDS:
        assert re.search(rf'^  {re.escape(c)} ', text(listing.stdout), re.M), c
        for args in (('help', c), (c, '--help'), (c, '-h')):
            p = pw(*args)
            assert p.returncode == 0, (args, text(p.stderr))
            assert text(p.stdout).startswith(f'usage: paperwatch {c} '), (args, text(p.stdout))
    p = pw('help', 'nosuch')
    assert p.returncode == 2 and "no command named 'nosuch'" in text(p.stderr)
    # A usage error points at the help.
    p = pw('status', '--bogus')
    assert p.returncode == 2 and "'paperwatch help status'" in text(p.stderr)


@test
def options_may_come_before_the_command():
    d, conf, _ = inbox_setup([{'name': 'all', 'query': 'id:2*'}])
    assert pw('scan', '-c', conf).returncode == 0
    before = pw('status', '-c', conf)
    after = pw('-c', conf, 'status')
    assert after.returncode == 0, text(after.stderr)
    assert after.stdout == before.stdout and b'out ' in after.stdout
    p = pw('--frobnicate', 'status')
    assert p.returncode == 2 and "unknown option '--frobnicate'" in text(p.stderr)
    p = pw('-c')
    assert p.returncode == 2 and '-c needs a configuration file' in text(p.stderr)


@test
def retry_of_a_notifier_nobody_knows_is_an_error():
    d, conf, _ = inbox_setup([{'name': 'all', 'query': 'id:2*'}])
    assert pw('scan', '-c', conf).returncode == 0
    p = pw('retry', '-c', conf, 'NOSUCH')
    assert p.returncode == 2, text(p.stdout)
    assert 'no notifier named "NOSUCH"; the notifiers are "out"' in text(p.stderr)
    assert 'queued again' not in text(p.stdout)
    p = pw('retry', '-c', conf, 'out')
    assert p.returncode == 0 and '0 failed messages queued again for out' in text(p.stdout)


# ---- match ----

@test
def match_shows_people_the_file_title_rules_and_distinct_words_with_counts():
    d, conf, _ = inbox_setup([{'name': 'agents', 'query': 'agent* -survey'},
                              {'name': 'robots', 'query': 'title:robot*'}])
    p = pw('match', '-c', conf)
    assert p.returncode == 0, text(p.stderr)
    out = text(p.stdout)
    inbox = os.path.join(d, 'inbox')
    assert f'{inbox}/001_a7bca62cced45441.txt\n' in out, out[:2000]
    # A paper: its title and id, then each rule with each distinct word once, counted.
    m = re.search(r'^  (.+)  \[(\d{4}\.\d{5})\]\n    agents: (.+) — new$', out, re.M)
    assert m, out[:3000]
    words = re.findall(r'"([^"]+)"', m.group(3))
    assert len(words) == len({w.lower() for w in words}), m.group(3)
    assert re.search(r'"[Aa]gents?" [0-9]+× \((title|abstract)', out), out[:3000]
    assert re.search(r'^\d+ of 216 papers matched, in \d of 5 files$', out, re.M), out[-300:]
    # --json keeps one line per paper for scripts, with the source.
    j = pw('match', '-c', conf, '--json')
    lines = [json.loads(x) for x in text(j.stdout).splitlines()]
    assert lines and all({'id', 'title', 'rules', 'hits', 'source', 'alerted'} <= set(x)
                         for x in lines)
    assert len(lines) == int(re.search(r'^(\d+) of 216', out, re.M).group(1))


@test
def match_says_what_was_already_alerted_and_takes_several_rules():
    d, conf, _ = inbox_setup([{'name': 'agents', 'query': 'title:agent*'},
                              {'name': 'robots', 'query': 'title:robot*'},
                              {'name': 'llm', 'query': 'title:llm'}])
    first = digests()[0]
    assert pw('scan', '-c', conf, os.path.join(d, 'inbox', os.path.basename(first))).returncode == 0
    p = pw('match', '-c', conf, '--rule', 'agents', '--rule', 'robots')
    out = text(p.stdout)
    assert p.returncode == 0, text(p.stderr)
    assert 'already alerted (out)' in out and '— new' in out, out[:2000]
    assert 'llm:' not in out
    j = [json.loads(x) for x in text(pw('match', '-c', conf, '--json').stdout).splitlines()]
    assert {tuple(x['alerted']) for x in j} >= {('agents',), ()}, j[:3]
    p = pw('match', '-c', conf, '--rule', 'nosuch')
    assert p.returncode == 2 and 'no rule named "nosuch"' in text(p.stderr)


@test
def match_needs_no_secret_and_a_broken_notifier_does_not_cascade():
    d = tmpdir()
    conf = write_config(os.path.join(d, 'pw.conf'),
                        [{'name': 'slack', 'type': 'slack',
                          'url_file': os.path.join(d, 'not-here')}],
                        [{'name': 'agents', 'query': 'title:agent*', 'notify': ['slack']}],
                        state=os.path.join(d, 'state.db'))
    p = pw('match', '-c', conf, *digests())
    assert p.returncode == 0, text(p.stderr)
    assert 'agents:' in text(p.stdout)
    assert 'not-here' not in text(p.stderr)
    # Where secrets are read, the missing one is the only error: no "no notifier named".
    p = pw('check-config', '-c', conf)
    assert p.returncode == 2
    assert 'not-here' in text(p.stderr) and 'no notifier named' not in text(p.stderr), \
        text(p.stderr)


@test
def a_rule_added_later_is_tried_on_the_folder_then_applied_with_scan_again():
    d, conf, out = inbox_setup([{'name': 'agents', 'query': 'title:agent*'}])
    assert pw('scan', '-c', conf).returncode == 0
    sent = read_jsonl(out)
    assert sent and {tuple(x['rules']) for x in sent} == {('agents',)}
    # A new rule: match over the folder shows what it would alert, without sending.
    conf2 = write_config(conf, [{'name': 'out', 'type': 'file', 'path': out}],
                         [{'name': 'agents', 'query': 'title:agent*'},
                          {'name': 'robots', 'query': 'title:robot*'}],
                         state=os.path.join(d, 'state.db'),
                         watch={'dir': os.path.join(d, 'inbox')}, delivery=FAST)
    m = pw('match', '-c', conf2, '--rule', 'robots', '--json')
    wanted = {x['id'] for x in map(json.loads, text(m.stdout).splitlines())}
    assert wanted and len(read_jsonl(out)) == len(sent)
    # Plain scan: the digests are unchanged, nothing is read again.
    assert pw('scan', '-c', conf2).returncode == 0 and len(read_jsonl(out)) == len(sent)
    p = pw('scan', '-c', conf2, '--again')
    assert p.returncode == 0, text(p.stderr)
    new = read_jsonl(out)[len(sent):]
    assert {x['id'] for x in new} == wanted, (new, wanted)
    assert all(x['rules'] == ['robots'] for x in new), new
    # Nothing alerted before goes again.
    assert pw('scan', '-c', conf2, '--again').returncode == 0
    assert len(read_jsonl(out)) == len(sent) + len(new)


# ---- status ----

@test
def status_says_why_a_message_is_pending_with_times_in_their_zone():
    with Receiver() as r:
        r.push(*[Reply(503, 'down for maintenance')] * 50)
        d, conf, _ = inbox_setup([{'name': 'all', 'query': 'id:2*'}],
                                 [{'name': 'hook', 'type': 'webhook', 'url': r.url}])
        p = pw('scan', '-c', conf, '--wait', '1', digests()[0])
        assert p.returncode == 1
    env = dict(os.environ, TZ='Europe/Paris')
    p = pw('status', '-c', conf, env=env)
    out = text(p.stdout)
    assert p.returncode == 0, text(p.stderr)
    assert re.search(r'hook: 1 message wait; the first was tried \d+ times?, the last at '
                     r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0[12]00: HTTP 503: down for '
                     r'maintenance; next attempt at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0[12]00',
                     out), out
    j = json.loads(text(pw('status', '-c', conf, '--json', env=env).stdout))
    hook = [n for n in j['notifiers'] if n['name'] == 'hook'][0]
    assert hook['pending'] == 1 and hook['pending_error'].startswith('HTTP 503')
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0[12]:00', hook['pending_error_at'])
    assert hook['pending_attempts'] >= 1


@test
def status_json_before_any_state_has_every_key_a_script_reads():
    d, conf, _ = inbox_setup([{'name': 'all', 'query': 'id:2*'}])
    p = pw('status', '-c', conf, '--json')
    assert p.returncode == 0, text(p.stderr)
    j = json.loads(text(p.stdout))
    assert j['exists'] is False
    assert j['notifiers'] == [] and j['schedules'] == [] and j['health'] == []
    assert j['digests']['latest'] is None and j['digests']['median_of'] == 0
    assert pw('scan', '-c', conf).returncode == 0
    after = json.loads(text(pw('status', '-c', conf, '--json').stdout))
    assert set(j) <= set(after), set(j) - set(after)
    assert set(j['digests']) == set(after['digests'])


@test
def status_recent_lists_the_last_alerts_papers_rules_and_notifiers():
    d, conf, _ = inbox_setup([{'name': 'agents', 'query': 'title:agent*'}])
    assert pw('scan', '-c', conf).returncode == 0
    p = pw('status', '-c', conf, '--recent', '3')
    out = text(p.stdout)
    assert p.returncode == 0, text(p.stderr)
    lines = re.findall(r'^  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}  agents -> out, '
                       r'delivered: (.+)  (\d{4}\.\d{5})$', out, re.M)
    assert len(lines) == 3, out
    j = json.loads(text(pw('status', '-c', conf, '--recent', '2', '--json').stdout))
    assert [set(x) >= {'id', 'title', 'rule', 'notifier', 'alerted_at', 'message'}
            for x in j['recent']] == [True, True]
    assert all(x['message'] == 'delivered' and 'agent' in x['title'].lower()
               for x in j['recent']), j['recent']
    ids = {x['id'] for x in read_jsonl(os.path.join(d, 'out.jsonl'))}
    assert {x['id'] for x in j['recent']} <= ids
    assert pw('status', '-c', conf, '--recent', 'many').returncode == 2


@test
def a_recovery_after_failures_is_logged_at_info():
    with Receiver() as r:
        r.push(Reply(503, 'busy'), Reply(503, 'busy'))
        d, conf, _ = inbox_setup([{'name': 'all', 'query': 'id:2*'}],
                                 [{'name': 'hook', 'type': 'webhook', 'url': r.url}])
        p = pw('scan', '-c', conf, '--wait', '20', digests()[0])
        assert p.returncode == 0, text(p.stderr)
        assert re.search(r'hook: delivering again: message msg_[0-9a-f]+-0 went through after '
                         r'2 failed attempts', text(p.stderr)), text(p.stderr)


# ---- check-config and test-notify ----

@test
def check_config_refuses_what_can_never_work():
    d = tmpdir()
    cases = [
        ({'name': 'h', 'type': 'webhook', 'url': 'https://127.0.0.1/x',
          'ca_file': os.path.join(d, 'no-ca.pem')}, 'ca_file ' + os.path.join(d, 'no-ca.pem')),
        ({'name': 'f', 'type': 'file', 'path': os.path.join(d, 'nodir', 'out.jsonl')},
         'its folder ' + os.path.join(d, 'nodir') + ': No such file or directory'),
        ({'name': 'h', 'type': 'webhook', 'url': 'https://127.0.0.1/x', 'timeout': '10ms'},
         'too short for an attempt ever to succeed'),
    ]
    for notifier, said in cases:
        conf = write_config(os.path.join(d, 'pw.conf'), [notifier],
                            [{'name': 'r', 'query': 'agent'}])
        p = pw('check-config', '-c', conf)
        assert p.returncode == 2 and said in text(p.stderr), (notifier, text(p.stderr))
    conf = write_config(os.path.join(d, 'pw.conf'),
                        [{'name': 'f', 'type': 'file', 'path': os.path.join(d, 'o.jsonl')}],
                        [{'name': 'r', 'query': 'agent', 'notify': []}])
    p = pw('check-config', '-c', conf)
    assert p.returncode == 2, text(p.stdout)
    assert 'notify = [] names no notifier; leave it out for every notifier' in text(p.stderr)


@test
def check_config_reports_every_problem_of_a_notifier_at_once():
    d = tmpdir()
    slack = {'name': 's', 'type': 'slack', 'url': 'http://hooks.example.org/x',
             'ca_file': os.path.join(d, 'no-ca.pem'), 'timeout': '500ms',
             'schedule': 'sometimes'}
    conf = write_config(os.path.join(d, 'pw.conf'), [slack], [{'name': 'r', 'query': 'agent'}])
    p = pw('check-config', '-c', conf)
    err = text(p.stderr)
    assert p.returncode == 2, err
    for said in ('the URL must start with https://',
                 'ca_file ' + os.path.join(d, 'no-ca.pem') + ': No such file or directory',
                 'timeout 0.5s is too short for an attempt ever to succeed',
                 '"sometimes" is not a schedule'):
        assert f'notifier "s": {said}' in err, (said, err)
    assert len(err.splitlines()) == 4, err
    # A channel's own checks come after the network ones, and are said too.
    no_ca = os.path.join(d, 'no-ca.pem')
    cases = [
        ({'name': 'm', 'type': 'email', 'url': 'smtps://127.0.0.1', 'ca_file': no_ca,
          'from': 'paperwatch@example.org', 'to': ['not an address']},
         'to: "not an address" is not a plain address'),
        ({'name': 'h', 'type': 'webhook', 'url': 'https://127.0.0.1/x', 'ca_file': no_ca,
          'secret': 'whsec_x'}, 'secret must be "whsec_" and the base64'),
    ]
    for notifier, said in cases:
        conf = write_config(os.path.join(d, 'pw.conf'), [notifier],
                            [{'name': 'r', 'query': 'agent'}])
        err = text(pw('check-config', '-c', conf).stderr)
        assert f'ca_file {no_ca}' in err and said in err, (notifier, err)


@test
def test_notify_notice_sends_a_sample_health_notice_to_an_operations_channel():
    d = tmpdir()
    with Receiver() as r:
        conf = write_config(os.path.join(d, 'pw.conf'),
                            [{'name': 'ops', 'type': 'webhook', 'url': r.url}],
                            [{'name': 'r', 'query': 'agent'}], health={'notify': ['ops']})
        p = pw('-c', conf, 'test-notify', '--notice', 'ops')
        assert p.returncode == 0, text(p.stderr)
        assert 'ops: the sample notice was delivered' in text(p.stdout)
        [req] = r.requests
    body = req.json()
    assert body['type'] == 'health' and 'papers' not in body, body
    assert body['title'] == 'a test notice from paperwatch'
    assert pw('test-notify', '-c', conf, '--notice').returncode == 2  # no NAME


@test
def test_notify_fails_at_once_on_a_configuration_fault_with_a_hint():
    d = tmpdir()
    certs = make_certs(os.path.join(d, 'certs'))
    with Receiver(tls=certs) as r:
        conf = write_config(os.path.join(d, 'pw.conf'),
                            [{'name': 'hook', 'type': 'webhook', 'url': r.url}],
                            [{'name': 'r', 'query': 'agent'}])
        p = pw('test-notify', '-c', conf, 'hook', timeout=20)
        err = text(p.stderr)
        assert p.returncode == 1, err
        assert 'certificate' in err.lower() and 'ca_file' in err, err
        assert 'next attempt' not in err, err  # not retried for a minute
        # Given the CA, the same notifier works.
        conf = write_config(os.path.join(d, 'pw.conf'),
                            [{'name': 'hook', 'type': 'webhook', 'url': r.url,
                              'ca_file': certs.ca_file}],
                            [{'name': 'r', 'query': 'agent'}])
        p = pw('test-notify', '-c', conf, 'hook')
        assert p.returncode == 0, text(p.stderr)
    # An unknown host (.invalid never resolves) is the configuration's fault too.
    conf = write_config(os.path.join(d, 'pw.conf'),
                        [{'name': 'hook', 'type': 'webhook', 'url': 'https://nosuch.invalid/x'}],
                        [{'name': 'r', 'query': 'agent'}])
    p = pw('test-notify', '-c', conf, 'hook', timeout=20)
    err = text(p.stderr)
    assert p.returncode == 1 and 'unknown host' in err and 'url' in err, err
    assert 'next attempt' not in err, err


# ---- The README ----

@test
def the_readmes_tour_works_as_written():
    with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    # Every file of the repository it names is there.
    for path in re.findall(r'(?<![\w/])((?:tests|config|systemd|daemon|notify)/[\w./*-]*\w)',
                           readme):
        full = os.path.join(ROOT, path)
        # A glob names some file; a program (tests/bench/bench_parse) is built from its source.
        assert glob.glob(full) or os.path.exists(full + '.c'), path
    # The tour's configuration, saved as it says, gives the output it shows.
    tour = readme.split('\n## A tour\n', 1)[1].split('\n## ', 1)[0]
    blocks = re.findall(r'```\n(.*?)```', tour, re.S)
    conf, session = blocks[0], blocks[1]
    d = tmpdir()
    with open(os.path.join(d, 'paperwatch.conf'), 'w') as f:
        f.write(conf)
    os.symlink(os.path.join(ROOT, 'tests'), os.path.join(d, 'tests'))
    command, shown = session.split('\n', 1)
    assert command.startswith('$ paperwatch '), command
    p = pw(*shlex.split(command[len('$ paperwatch '):]), cwd=d)
    assert p.returncode == 0, text(p.stderr)
    assert text(p.stdout) == shown, text(p.stdout)


if __name__ == '__main__':
    run()
