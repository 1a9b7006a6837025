#!/usr/bin/env python3
"""test_cadence.py — daily and weekly messages against the real binary, its clock moved by
libfaketime: each at its local time across a change of summer time, a deadline missed while the
daemon was down made up once and marked late, urgent rules that do not wait, the cap with its
"and N more", and every alerted paper in exactly one message across SIGKILLs in a period."""
import json
import os
import random
import shutil
import time

from certs import make_certs
from harness import (test, run, pw, text, digests, tmpdir, write_config, read_jsonl, wait_until,
                     Daemon, Clock, small_fs, fill)
from receiver import Receiver

CERTS = make_certs(os.path.join(tmpdir(), 'certs'))
FAST = {'retry_base': '200ms', 'retry_max': '1s'}
RULES = [{'name': 'agents', 'query': 'agent*'},
         {'name': 'llm', 'query': '"language model*"'},
         {'name': 'robots', 'query': 'robot*'}]


def setup(schedule, zone='Europe/Berlin', notifier=None, rules=RULES, state_dir=None, **extra):
    """An empty inbox, a file channel on the schedule (every paper shown, unless extra says
    otherwise) and the rules, the state in state_dir if given; (dir, conf, inbox, out)."""
    extra.setdefault('max_papers', 1000)
    d = tmpdir()
    inbox = os.path.join(d, 'inbox')
    os.mkdir(inbox)
    out = os.path.join(d, 'out.jsonl')
    n = notifier or dict({'name': 'daily', 'type': 'file', 'path': out, 'schedule': schedule},
                         **extra)
    conf = write_config(os.path.join(d, 'pw.conf'), [n], rules,
                        state=os.path.join(state_dir or d, 'state.db'), watch={'dir': inbox},
                        delivery=FAST, timezone=zone)
    return d, conf, inbox, out


def drop(inbox, path, name=None):
    """Puts a digest into the inbox as a generator would: written aside, then renamed."""
    name = name or os.path.basename(path)
    tmp = os.path.join(inbox, '.' + name + '.part')
    shutil.copy(path, tmp)
    os.rename(tmp, os.path.join(inbox, name))


def periods(out):
    """The scheduled messages written so far: {message key: [paper lines]}."""
    found = {}
    for line in read_jsonl(out):
        if 'period' in line:
            found.setdefault(line['message'], []).append(line)
    return found


def expected_papers(conf, files):
    """Every paper the rules match in files, by id or title, as `match --json` says."""
    r = pw('match', '-c', conf, '--json', *files)
    assert r.returncode == 0, text(r.stderr)
    return {json.loads(line)['id'] or json.loads(line)['title']
            for line in text(r.stdout).splitlines() if line.strip()}


def key(line):
    return line['id'] or line['title']


@test
def a_daily_message_goes_at_its_local_time_on_both_sides_of_a_summer_time_change():
    # Berlin moves from CET (UTC+1) to CEST (UTC+2) at 02:00 on Sunday 28 March 2027: 08:00 is
    # 07:00 UTC on the Saturday and 06:00 UTC on the Sunday.
    d, conf, inbox, out = setup('daily 08:00')
    sample = digests()
    clock = Clock('2027-03-27 06:59:54')
    with Daemon(conf, d, env=clock.env()) as dm:
        dm.start()
        drop(inbox, sample[0])
        dm.wait_note('1 file', timeout=10)
        assert periods(out) == {}, 'sent before its time'
        clock.wait_until('2027-03-27 07:00:00')
        first = wait_until(lambda: periods(out), timeout=10, what="Saturday's message")
        assert dm.stop() == 0
    [lines] = first.values()
    assert lines[0]['period']['due'] == '2027-03-27T08:00:00+01:00', lines[0]['period']
    assert lines[0]['period']['title'] == 'Daily papers, Sat 2027-03-27'
    assert not lines[0]['period']['late']
    clock.jump('2027-03-28 05:59:54')
    with Daemon(conf, d, env=clock.env()) as dm:
        dm.start()
        drop(inbox, sample[1])
        dm.wait_note('1 file', timeout=10)
        assert len(periods(out)) == 1, 'the Sunday message went before 08:00 CEST'
        clock.wait_until('2027-03-28 06:00:00')
        both = wait_until(lambda: len(periods(out)) == 2 and periods(out), timeout=10,
                          what="Sunday's message at 08:00 CEST, 06:00 UTC")
        assert dm.stop() == 0
    sunday = [lines for k, lines in both.items() if k not in first][0]
    assert sunday[0]['period']['due'] == '2027-03-28T08:00:00+02:00', sunday[0]['period']
    assert not sunday[0]['period']['late'] and sunday[0]['period']['periods'] == 1
    # The Sunday message holds only what came after Saturday's.
    assert not {key(x) for x in sunday} & {key(x) for x in lines}


@test
def a_weekly_message_goes_on_its_day_in_its_zone():
    # New York leaves summer time on Sunday 7 November 2027: Monday 09:00 is 14:00 UTC.
    d, conf, inbox, out = setup('weekly monday 09:00', zone='America/New_York')
    clock = Clock('2027-11-08 13:59:55')
    with Daemon(conf, d, env=clock.env()) as dm:
        dm.start()
        drop(inbox, digests()[1])
        dm.wait_note('1 file', timeout=10)
        assert periods(out) == {}
        found = wait_until(lambda: periods(out), timeout=15, what='the weekly message')
        assert dm.stop() == 0
    [lines] = found.values()
    p = lines[0]['period']
    assert p['due'] == '2027-11-08T09:00:00-05:00', p
    assert p['title'] == 'Weekly papers, week to Mon 2027-11-08'
    assert p['schedule'] == 'weekly monday 09:00 America/New_York'


@test
def a_deadline_missed_while_stopped_is_made_up_once_and_says_it_is_late():
    d, conf, inbox, out = setup('daily 08:00')
    sample = digests()
    clock = Clock('2027-03-25 06:59:00')
    with Daemon(conf, d, env=clock.env()) as dm:
        dm.start()
        drop(inbox, sample[1])
        dm.wait_note('1 file', timeout=10)
        dm.kill()  # before 08:00: the papers are held, not sent
    assert periods(out) == {}
    held = expected_papers(conf, [sample[1]])
    # Three deadlines pass (Thursday, Friday, Saturday) while nothing runs.
    clock.jump('2027-03-27 09:30:00')
    for _ in range(2):  # the second start finds nothing left to make up
        with Daemon(conf, d, env=clock.env()) as dm:
            dm.start()
            assert dm.stop() == 0
    found = periods(out)
    assert len(found) == 1, f'{len(found)} messages for the missed days'
    [lines] = found.values()
    p = lines[0]['period']
    assert p['late'] and p['periods'] == 3, p
    assert p['due'] == '2027-03-27T08:00:00+01:00', p
    assert 'late: due Sat 2027-03-27 08:00 CET' in p['note'], p['note']
    assert 'covers 3 days since Wed 2027-03-24 08:00 CET' in p['note'], p['note']
    assert p['total'] == len(held), (p['total'], len(held))
    assert 'was not running' in dm.log_text()


@test
def a_deadline_that_meets_a_full_disk_is_made_as_soon_as_space_returns():
    # The state's disk is full when 08:00 comes: the message cannot be recorded, the daemon says
    # when it tries again, and makes it once there is room, not a day later at the next deadline.
    with small_fs(os.path.join(tmpdir(), 'full'), '1m') as fs:
        d, conf, inbox, out = setup('daily 08:00', state_dir=fs)
        sample = digests()[1]
        held = expected_papers(conf, [sample])
        clock = Clock('2027-03-25 06:59:54')
        with Daemon(conf, d, env=clock.env()) as dm:
            dm.start()
            drop(inbox, sample)
            dm.wait_note('1 file', timeout=10)
            filler = fill(fs)
            clock.wait_until('2027-03-25 07:00:00')
            wait_until(lambda: 'the scheduled message was not made' in dm.log_text(), 10,
                       'the message saying the scheduled message was not made')
            assert 'the disk is full' in dm.log_text()
            # retry_base first, then twice as long each time it fails again.
            for delay in ('0.2', '0.4', '0.8'):
                wait_until(lambda: f'scheduled messages: tried again in {delay} s'
                           in dm.log_text(), 5, f'a try again in {delay} s')
            assert periods(out) == {}
            os.unlink(filler)
            found = wait_until(lambda: periods(out), timeout=10,
                               what='the message, once there is room')
            assert dm.proc.poll() is None
            assert dm.stop() == 0
        [lines] = found.values()
        assert {key(x) for x in lines} == held
        assert len(lines) == len(held), 'a paper in the message twice'
        assert lines[0]['period']['due'] == '2027-03-25T08:00:00+01:00', lines[0]['period']


@test
def an_urgent_rule_goes_at_once_and_the_rest_waits_for_the_deadline():
    rules = [dict(RULES[0]), dict(RULES[2], urgent=True)]
    d, conf, inbox, out = setup('daily 08:00', rules=rules)
    sample = digests()[1]
    urgent = expected_papers(write_config(os.path.join(d, 'urgent.conf'), [], [rules[1]]),
                             [sample])
    everything = expected_papers(conf, [sample])
    assert urgent and everything - urgent, 'the sample has papers for both rules'
    clock = Clock('2027-03-27 06:59:50')
    with Daemon(conf, d, env=clock.env()) as dm:
        dm.start()
        drop(inbox, sample)
        now = wait_until(lambda: [x for x in read_jsonl(out) if 'period' not in x],
                         timeout=5, what='the urgent papers at once')
        assert periods(out) == {}
        wait_until(lambda: periods(out), timeout=15, what='the daily message')
        assert dm.stop() == 0
    assert {key(x) for x in now} == urgent
    [later] = periods(out).values()
    assert {key(x) for x in later} == everything - urgent
    assert all('robots' not in x['rules'] for x in later)


@test
def the_cap_keeps_the_papers_that_hit_most_rules_and_counts_the_rest_by_rule():
    with Receiver(tls=CERTS) as rx:
        slack = {'name': 'daily', 'type': 'slack', 'ca_file': CERTS.ca_file,
                 'url': f'{rx.url}/services/T0001/B0001/CADENCE', 'schedule': 'daily 08:00',
                 'max_papers': 4}
        d, conf, inbox, out = setup('daily 08:00', notifier=slack)
        sample = digests()[1]
        everything = expected_papers(conf, [sample])
        clock = Clock('2027-03-27 06:59:52')
        with Daemon(conf, d, env=clock.env()) as dm:
            dm.start()
            drop(inbox, sample)
            dm.wait_note('1 file', timeout=10)
            assert rx.requests == []
            rx.wait_for(1, timeout=15)
            assert dm.stop() == 0
        body = rx.requests[0].json()
    sections = [b['text']['text'] for b in body['blocks'] if b['type'] == 'section']
    head, papers = sections[0], sections[1:]
    assert head.startswith('paperwatch: *Daily papers, Sat 2027-03-27*: 4 of '
                           f'{len(everything)} papers'), head
    assert len(papers) == 4
    context = [b for b in body['blocks'] if b['type'] == 'context'][0]['elements'][0]['text']
    assert context.startswith(f'and {len(everything) - 4} more: '), context
    counted = sum(int(part.rsplit(' ', 1)[1])
                  for part in context.split(': ', 1)[1].split(' · ')[0].split(', '))
    assert counted == len(everything) - 4, context
    # The shown papers are those that matched the most rules.
    hits = [p.count(',') + 1 for p in (s.rsplit('_Rules:_ ', 1)[1].split(' · ')[0]
                                       for s in papers)]
    assert min(hits) >= 2, hits


@test
def sigkills_inside_a_period_lose_no_paper_and_send_none_twice():
    d, conf, inbox, out = setup('daily 08:00')
    files = digests()
    everything = expected_papers(conf, files)
    clock = Clock('2027-03-27 06:59:30')
    rnd = random.Random(7)
    for f in files:
        with Daemon(conf, d, env=clock.env()) as dm:
            dm.start()
            drop(inbox, f)
            time.sleep(rnd.uniform(0.0, 0.3))
            dm.kill()
    clock.wait_until('2027-03-27 07:00:01')
    # Killed again around the deadline, then left to run.
    for pause in (0.0, 0.05, 0.2):
        with Daemon(conf, d, env=clock.env()) as dm:
            dm.start(ready=False)
            time.sleep(pause)
            dm.kill()
    with Daemon(conf, d, env=clock.env()) as dm:
        dm.start()
        wait_until(lambda: periods(out), timeout=10, what='the daily message')
        assert dm.stop() == 0
    assert len(periods(out)) == 1, 'one message for the one period'
    lines = read_jsonl(out)
    sent = [key(x) for x in lines]
    # A line written again after a kill carries its message's key: readers drop it.
    unique = {(x['message'], key(x)) for x in lines}
    assert len({k for _, k in unique}) == len(unique), 'a paper in two messages'
    assert set(sent) == everything, (len(set(sent)), len(everything))
    r = pw('status', '-c', conf, '--json')
    assert r.returncode == 0, text(r.stderr)


@test
def an_empty_period_says_so_with_the_health_of_the_input_when_asked_to():
    d, conf, inbox, out = setup('daily 08:00', send_empty=True)
    with open(conf, 'a') as f:
        f.write('watch = { dir = "%s"; expect = "12h"; };\n' % inbox)
    with open(conf) as f:  # the second watch group replaces the first
        lines = [x for x in f if not (x.startswith('watch = ') and 'expect' not in x)]
    with open(conf, 'w') as f:
        f.writelines(lines)
    clock = Clock('2027-03-27 06:59:54')
    with Daemon(conf, d, env=clock.env()) as dm:
        dm.start()
        drop(inbox, digests()[0])
        dm.wait_note('1 file', timeout=10)
        wait_until(lambda: periods(out), timeout=15, what="Saturday's papers")
        assert dm.stop() == 0
    assert [x for x in read_jsonl(out) if x.get('type') == 'period'] == []
    # Sunday brings nothing: the message says so, and that digests stopped coming.
    clock.jump('2027-03-28 05:59:55')
    with Daemon(conf, d, env=clock.env()) as dm:
        dm.start()
        empty = wait_until(lambda: [x for x in read_jsonl(out) if x.get('type') == 'period'],
                           timeout=15, what='the empty period\'s message')
        assert dm.stop() == 0
    [notice] = empty
    assert notice['title'] == 'Daily papers, Sun 2027-03-28: no new papers for your rules', notice
    assert 'the latest digest, 000_6b369aa832a2006d.txt, 12 papers at 2027-03-27' in \
        notice['detail'], notice
    assert 'health: quiet *' in notice['detail'], notice
    assert len(periods(out)) == 1, 'the papers went in one message, the empty period in another'


LIBRARY = r"""@article{chi2023,
  title = {Diffusion Policy: Visuomotor Policy Learning via Action Diffusion},
  abstract = {We learn robot visuomotor policies as conditional denoising diffusion over actions.}}
@article{legged, title = {Sim-to-Real Reinforcement Learning for Legged Locomotion},
  abstract = {Quadruped robots trained in simulation walk on rough terrain in the real world.}}
"""


@test
def a_period_of_papers_like_a_library_shows_the_most_similar_first_with_why():
    d, conf, inbox, out = setup('daily 08:00', rules=[
        {'name': 'mine', 'query': 'like:mine', 'min_score': 0.05},
        {'name': 'policies', 'query': 'policy'}])
    lib = os.path.join(d, 'library.bib')
    with open(lib, 'w') as f:
        f.write(LIBRARY)
    with open(conf, 'a') as f:
        f.write(f'libraries = ( {{ name = "mine"; file = "{lib}"; }} );\n')
    papers = [('Tax Policy and Household Saving', 'Household saving and tax policy.'),
              ('Legged Robots Walking on Rough Terrain',
               'Reinforcement learning makes quadruped robots walk in the real world.'),
              ('Diffusion Policies for Robot Manipulation',
               'Visuomotor policies for robots learnt as conditional denoising diffusion over '
               'actions.')]
    digest = os.path.join(d, 'today.txt')
    with open(digest, 'w') as f:
        f.write('\n---\n'.join(f'Title: {t}\nPDF: https://arxiv.org/pdf/2501.{i:05d}\n'
                                f'Summary: {s}\n' for i, (t, s) in enumerate(papers, 1)))
    clock = Clock('2027-03-27 06:59:55')
    with Daemon(conf, d, env=clock.env()) as dm:
        dm.start()
        drop(inbox, digest)
        dm.wait_note('1 file', timeout=10)
        [lines] = wait_until(lambda: periods(out), timeout=15,
                             what='the daily message').values()
        assert dm.stop() == 0
    scored = [x for x in lines if x.get('score') is not None]
    assert [x['title'] for x in scored][:2] == ['Diffusion Policies for Robot Manipulation',
                                                'Legged Robots Walking on Rough Terrain'], lines
    assert scored[0]['score'] >= scored[1]['score']
    assert 'like:mine' in scored[0]['why']
    # The paper only a keyword rule matched comes after those the library ranks.
    assert lines[-1]['title'] == 'Tax Policy and Household Saving', lines


@test
def papers_held_for_a_schedule_taken_out_of_the_file_go_at_once():
    d, conf, inbox, out = setup('daily 08:00')
    sample = digests()[0]
    clock = Clock('2027-03-27 05:00:00')
    with Daemon(conf, d, env=clock.env()) as dm:
        dm.start()
        drop(inbox, sample)
        dm.wait_note('1 file', timeout=10)
        assert dm.stop() == 0
    assert read_jsonl(out) == []
    with open(conf) as f:
        text_ = f.read()
    with open(conf, 'w') as f:
        f.write(text_.replace('schedule = "daily 08:00";', ''))
    with Daemon(conf, d, env=clock.env()) as dm:
        dm.start()
        found = wait_until(lambda: periods(out), timeout=10, what='the held papers')
        assert dm.stop() == 0
    [lines] = found.values()
    assert lines[0]['period']['title'] == 'Papers held for a schedule no longer set'
    assert {key(x) for x in lines} == expected_papers(conf, [sample])


@test
def scan_from_cron_holds_papers_and_makes_the_message_once_it_is_due():
    d, conf, inbox, out = setup('daily 08:00')
    sample = digests()
    clock = Clock('2027-03-27 05:00:00')
    drop(inbox, sample[0])
    r = pw('scan', '-c', conf, env=clock.env())
    assert r.returncode == 0, text(r.stderr)
    assert 'held for scheduled messages' in text(r.stderr), text(r.stderr)
    assert read_jsonl(out) == []
    clock.jump('2027-03-27 07:30:00')
    drop(inbox, sample[1])
    for _ in range(2):
        r = pw('scan', '-c', conf, env=clock.env())
        assert r.returncode == 0, text(r.stderr)
    found = periods(out)
    assert len(found) == 1, found.keys()
    [lines] = found.values()
    assert {key(x) for x in lines} == expected_papers(conf, sample[:2])
    assert lines[0]['period']['due'] == '2027-03-27T08:00:00+01:00'


@test
def check_config_names_a_bad_schedule_or_zone():
    d = tmpdir()
    for notifier, top, said in [
            ({'schedule': 'daily 8am'}, {}, '"daily 8am" is not a schedule'),
            ({'schedule': 'weekly someday 08:00'}, {}, 'is not a schedule'),
            ({'schedule': 'daily 08:00', 'timezone': 'Europe/Atlantis'}, {},
             'no time zone "Europe/Atlantis"'),
            ({'schedule': 'daily 08:00'}, {'timezone': '../etc/passwd'},
             'is not a time zone name')]:
        conf = write_config(os.path.join(d, 'pw.conf'),
                            [dict({'name': 'n', 'type': 'file', 'path': '-'}, **notifier)],
                            RULES[:1], **top)
        r = pw('check-config', '-c', conf)
        assert r.returncode != 0 and said in text(r.stderr), text(r.stderr)
        assert 'pw.conf:' in text(r.stderr)
    conf = write_config(os.path.join(d, 'pw.conf'),
                        [{'name': 'n', 'type': 'file', 'path': '-', 'max_papers': 5}], RULES)
    r = pw('check-config', '-c', conf)
    assert r.returncode == 0 and 'max_papers has no effect without a schedule' in \
        text(r.stderr), text(r.stderr)


if __name__ == '__main__':
    run()
