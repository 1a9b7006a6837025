#!/usr/bin/env python3
"""test_notifiers.py — the Slack, Discord and email channels end to end: `paperwatch scan` and
`test-notify` against the loopback HTTPS receiver and a real SMTP server, through splitting,
rate limits, SMTP failures and TLS demands, and with no secret ever in a log line or `status`;
and what every channel's message says of a digest: its date, its file, a snippet per paper."""
import email.utils
import html
import json
import os
import re
import shutil
import time

from certs import make_certs
from harness import (test, run, pw, text, digests, tmpdir, write_config, register_secret,
                     read_jsonl)
from receiver import Receiver, Reply, RefusedPort
from smtp import SmtpServer

CERTS = make_certs(os.path.join(tmpdir(), 'certs'))
FAST = {'retry_base': '200ms', 'retry_max': '1s'}
# Every sample paper's id starts with 2; the generated ones too.
ALL = {'name': 'all', 'query': 'id:2*'}
AGENTS = {'name': 'agents', 'query': 'agent*'}
SLACK_TOKEN = 'SLACKTOKEN0abc123XYZ'
DISCORD_TOKEN = 'DISCORDTOKEN0def456UVW'
SMTP_USER, SMTP_PASSWORD = 'alerts', 'SMTPPASSWORD0ghi789RST'
SECRETS = (SLACK_TOKEN, DISCORD_TOKEN, SMTP_PASSWORD)
register_secret(*SECRETS)


def slack(rx, name='slack', **extra):
    return dict({'name': name, 'type': 'slack', 'ca_file': CERTS.ca_file,
                 'url': f'{rx.url}/services/T0001/B0001/{SLACK_TOKEN}'}, **extra)


def discord(rx, name='discord', **extra):
    return dict({'name': name, 'type': 'discord', 'ca_file': CERTS.ca_file,
                 'url': f'{rx.url}/api/webhooks/42/{DISCORD_TOKEN}?thread_id=7'}, **extra)


def mail(mx, name='mail', auth=True, **extra):
    n = {'name': name, 'type': 'email', 'url': mx.url, 'ca_file': CERTS.ca_file,
         'from': 'paperwatch@example.org', 'to': ['me@example.org', 'lab@example.org']}
    if auth:
        n.update(username=SMTP_USER, password=SMTP_PASSWORD)
    return dict(n, **extra)


def setup(notifiers, rules=(ALL, AGENTS), delivery=FAST):
    d = tmpdir()
    conf = write_config(os.path.join(d, 'pw.conf'), notifiers, rules,
                        state=os.path.join(d, 'state.db'), delivery=delivery)
    return d, conf


def papers(path):
    """The papers of a digest as `paperwatch parse` reads them."""
    p = pw('parse', path)
    assert p.returncode == 0, text(p.stderr)
    return [json.loads(line) for line in text(p.stdout).splitlines()]


def big_digest(d, n=300):
    """A records digest of n papers with hostile titles; the first is enormous: a 5,000-character
    title and 2,000 authors."""
    lines = []
    for i in range(n):
        title = f'Agents for task {i}: über & <b>tags</b> *stars* @everyone [x](y)'
        authors = 'Zoë Ångström, Ada Lovelace, 李小龙'
        if i == 0:
            title = 'Agents ' + 'x' * 5000
            authors = ', '.join(f'Author Number{k}' for k in range(2000))
        lines += [f'Title: {title}', f'Authors: {authors}',
                  f'PDF: https://arxiv.org/pdf/2501.{i:05d}',
                  f'Summary: We study how language agents use tools, case {i}.', '---']
    path = os.path.join(d, 'big.txt')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def urls_of(requests, pick):
    return [u for r in requests for u in pick(r.json())]


def status_row(conf, name):
    s = pw('status', '-c', conf)
    return next(l for l in text(s.stdout).splitlines() if l.startswith(name + ' '))


# --- Slack ----------------------------------------------------------------------------------------

@test
def slack_gets_one_block_kit_message_per_digest_with_every_paper():
    with Receiver(tls=CERTS) as rx:
        d, conf = setup([slack(rx)])
        p = pw('scan', '-c', conf, digests()[0])
        assert p.returncode == 0, text(p.stderr)
        (req,) = rx.requests
        assert req.tls and req.path == f'/services/T0001/B0001/{SLACK_TOKEN}'
        assert req.headers['content-type'].startswith('application/json')
        body = req.json()
        sections = [b['text']['text'] for b in body['blocks'] if b['type'] == 'section']
        assert sections[0] == 'paperwatch: *12 new papers* for 2024-10-21'
        assert body['blocks'][1]['elements'][0]['text'] == f'from {os.path.basename(digests()[0])}'
        for paper in papers(digests()[0]):
            (s,) = [s for s in sections if s.startswith(f'<{paper["url"]}|')]
            assert 'Rules:_ all' in s, s
        assert body['text'].startswith('paperwatch: 12 new papers for 2024-10-21: ')
        # agent* hits are bold: the title of 2410.13232 is "Web Agents with World Models..."
        assert any('Web *Agents* with' in s for s in sections), sections


@test
def slack_splits_300_papers_within_its_limits_a_second_apart():
    with Receiver(tls=CERTS) as rx:
        d, conf = setup([slack(rx)])
        p = pw('scan', '-c', conf, big_digest(d))
        assert p.returncode == 0, text(p.stderr)
        reqs = rx.requests
        assert len(reqs) == 7  # 48 papers beside each heading and its context line
        for r in reqs:
            blocks = r.json()['blocks']
            assert len(blocks) <= 50
            assert all(len(b['text']['text']) <= 3000 for b in blocks)
        links = [m for r in reqs for b in r.json()['blocks'][1:]
                 for m in re.findall(r'^<(https://arxiv\.org/abs/2501\.\d{5})\|', b['text']['text'])]
        assert sorted(links) == [f'https://arxiv.org/abs/2501.{i:05d}' for i in range(300)]
        enormous = reqs[0].json()['blocks'][1]['text']['text']
        assert 'and 1990 more' in enormous and '…>' in enormous, enormous[-400:]
        for a, b in zip(reqs, reqs[1:]):
            assert b.started - a.completed >= 0.95, b.started - a.completed


# --- Discord --------------------------------------------------------------------------------------

def embed_chars(e):
    n = len(e.get('title', '')) + len(e.get('description', ''))
    return n + sum(len(f['name']) + len(f['value']) for f in e.get('fields', []))


@test
def discord_splits_300_papers_within_its_limits_and_pings_nobody():
    with Receiver(tls=CERTS) as rx:
        d, conf = setup([discord(rx)])
        p = pw('scan', '-c', conf, big_digest(d))
        assert p.returncode == 0, text(p.stderr)
        reqs = rx.requests
        assert len(reqs) >= 30
        for r in reqs:
            assert r.path == f'/api/webhooks/42/{DISCORD_TOKEN}'
            assert r.query == 'thread_id=7&wait=true'
            body = r.json()
            assert body['allowed_mentions'] == {'parse': []}
            assert len(body['content']) <= 2000 and 1 <= len(body['embeds']) <= 10
            assert sum(embed_chars(e) for e in body['embeds']) <= 6000
            for e in body['embeds']:
                assert len(e['title']) <= 256 and len(e.get('description', '')) <= 4096
                assert all(len(f['name']) <= 256 and len(f['value']) <= 1024 for f in e['fields'])
        urls = urls_of(reqs, lambda b: [e['url'] for e in b['embeds']])
        assert sorted(urls) == [f'https://arxiv.org/abs/2501.{i:05d}' for i in range(300)]
        first = reqs[0].json()['embeds'][1]
        assert first['title'] == ('**Agents** for task 1: über & \\<b\\>tags\\</b\\> \\*stars\\* '
                                  '@\u200beveryone \\[x\\]\\(y\\)'), first['title']


@test
def discord_429_waits_as_long_as_its_json_retry_after_says():
    with Receiver(tls=CERTS) as rx:
        rx.push(Reply(429, {'message': 'You are being rate limited.', 'retry_after': 1.5,
                            'global': False}))
        # retry_max above the 1.5 s asked for: it caps what a server may ask.
        d, conf = setup([discord(rx)], delivery={'retry_base': '200ms', 'retry_max': '5s'})
        p = pw('scan', '-c', conf, digests()[0])
        assert p.returncode == 0, text(p.stderr)
        first, second = rx.requests[:2]  # 12 papers: a message of 10 and one of 2 follow
        assert first.reply.status == 429 and second.reply.status == 200
        assert second.started - first.completed >= 1.45, second.started - first.completed
        assert first.body == second.body


# --- Email ----------------------------------------------------------------------------------------

def plain_html(s):
    """HTML text without tags and entities, for comparing with plain text."""
    return html.unescape(re.sub(r'<[^>]+>', '', s))


def check_every_paper(msg, digest):
    for paper in papers(digest):
        assert paper['title'] in msg.text and paper['url'] in msg.text, paper['title']
        assert paper['title'] in plain_html(msg.html), paper['title']
        assert f'<a href="{paper["url"]}">' in msg.html


@test
def email_over_starttls_with_auth_is_a_complete_message_with_every_paper():
    with SmtpServer(mode='starttls', certs=CERTS, auth=(SMTP_USER, SMTP_PASSWORD),
                    require_starttls=True) as mx:
        d, conf = setup([mail(mx)])
        before = time.time()
        p = pw('scan', '-c', conf, digests()[0])
        assert p.returncode == 0, text(p.stderr)
        (m,) = mx.messages
        assert m.connection.tls == 'starttls' and m.connection.authenticated_as == SMTP_USER
        assert m.mail_from == 'paperwatch@example.org'
        assert m.rcpt_tos == ['me@example.org', 'lab@example.org']
        h = m.message
        assert h['Subject'] == 'paperwatch: 12 new papers for 2024-10-21'
        assert h['From'] == 'paperwatch <paperwatch@example.org>'
        assert h['To'] == 'me@example.org, lab@example.org'
        assert h['MIME-Version'] == '1.0'
        assert abs(email.utils.parsedate_to_datetime(h['Date']).timestamp() - before) < 60
        assert re.fullmatch(r'<msg_[0-9a-f]{32}-0@example\.org>', h['Message-ID'])
        assert h.get_content_type() == 'multipart/alternative'
        assert [p.get_content_type() for p in h.iter_parts()] == ['text/plain', 'text/html']
        assert max(len(line) for line in m.raw.split(b'\r\n')) <= 78
        check_every_paper(m, digests()[0])
        assert 'Web <b>Agents</b> with' in m.html


@test
def email_over_smtps_and_over_plain_smtp_when_tls_is_none():
    with SmtpServer(mode='smtps', certs=CERTS, auth=(SMTP_USER, SMTP_PASSWORD)) as mx:
        d, conf = setup([mail(mx)])
        assert pw('scan', '-c', conf, digests()[1]).returncode == 0
        (m,) = mx.messages
        assert m.connection.tls == 'implicit' and m.connection.authenticated_as == SMTP_USER
        check_every_paper(m, digests()[1])
    with SmtpServer(mode='plain') as mx:
        d, conf = setup([mail(mx, auth=False, tls='none')])
        assert pw('scan', '-c', conf, digests()[2]).returncode == 0
        (m,) = mx.messages
        assert m.connection.tls == 'none'
        check_every_paper(m, digests()[2])


@test
def a_digest_named_in_other_scripts_gives_a_subject_mail_readers_decode():
    with SmtpServer(mode='plain') as mx:
        d, conf = setup([mail(mx, auth=False, tls='none')])
        name = os.path.join(d, 'Über-Digest – 日本語のまとめ.md')
        shutil.copy(digests()[4], name)  # it dates no paper: the subject names the file
        assert pw('scan', '-c', conf, name).returncode == 0
        (m,) = mx.messages
        assert m.subject == 'paperwatch: 50 new papers in Über-Digest – 日本語のまとめ.md'
        assert b'Subject: =?UTF-8?B?' in m.raw
        assert all(b < 0x80 for b in m.raw)


@test
def smtp_451_is_retried_and_the_message_keeps_its_message_id():
    with SmtpServer(mode='starttls', certs=CERTS, auth=(SMTP_USER, SMTP_PASSWORD)) as mx:
        mx.fail('data', code=451)
        d, conf = setup([mail(mx)])
        p = pw('scan', '-c', conf, digests()[0])
        assert p.returncode == 0, text(p.stderr)
        assert len(mx.replies('data', 451)) == 1
        key = re.search(r'message (msg_\w+-0) not delivered \(.*451 4\.3\.0', text(p.stderr))
        assert key, text(p.stderr)
        (m,) = mx.messages
        assert m.message['Message-ID'] == f'<{key.group(1)}@example.org>'


@test
def smtp_550_fails_for_good_and_status_shows_the_servers_answer():
    with SmtpServer(mode='starttls', certs=CERTS, auth=(SMTP_USER, SMTP_PASSWORD)) as mx:
        mx.fail('rcpt', code=550)
        d, conf = setup([mail(mx)])
        p = pw('scan', '-c', conf, digests()[0])
        assert p.returncode == 1 and mx.messages == []
        assert len(mx.replies('rcpt', 550)) == 1  # not retried
        row = status_row(conf, 'mail')
        assert row.split()[1:5] == ['0', '0', '-', '1'], row
        assert '550 5.1.1 Requested action not taken: mailbox unavailable' in row, row


@test
def a_server_without_starttls_never_gets_the_message_in_clear():
    with SmtpServer(mode='plain') as mx:
        d, conf = setup([mail(mx, auth=False)])
        p = pw('scan', '-c', conf, '--wait', '1.5', digests()[0])
        assert p.returncode == 1  # still pending
        assert 'STARTTLS not supported' in text(p.stderr), text(p.stderr)
        assert len(mx.connections) >= 2  # tried again
        assert mx.messages == [] and mx.replies('mail') == [] and mx.replies('data') == []
        row = status_row(conf, 'mail')
        assert row.split()[1:3] == ['0', '1'], row


@test
def a_refused_login_fails_for_good():
    with SmtpServer(mode='starttls', certs=CERTS, auth=(SMTP_USER, SMTP_PASSWORD)) as mx:
        mx.fail('auth')
        d, conf = setup([mail(mx)])
        p = pw('scan', '-c', conf, digests()[0])
        assert p.returncode == 1 and mx.messages == []
        assert len(mx.replies('auth', 535)) == 1
        assert '535 5.7.8' in status_row(conf, 'mail')


# --- Every channel --------------------------------------------------------------------------------

# A hf-daily digest of one day: a match deep in an abstract, a paper naming no authors, a paper
# without a summary.
DATED = """## Papers for 2024-10-21

| Title | Authors | Summary |
|-------|---------|---------|
| Planning with Learned Models (Read more on [arXiv](https://arxiv.org/abs/2410.20001)) | Ada Lovelace, Alan Turing | Long-horizon planning has been studied for decades in robotics and operations research, with search methods that scale poorly as the state space grows and with heuristics that must be written by hand for every new domain, which makes them brittle and slow to build. We show that language agents trained on traces of solved problems learn such heuristics themselves, and that those heuristics transfer to domains never seen in training, where they match or beat the hand-written ones on nine of twelve benchmarks while planning an order of magnitude faster than classical search on the largest instances. Our code is public. |
| A Survey of Sparse Attention (Read more on [arXiv](https://arxiv.org/abs/2410.20002)) | | Sparse attention cuts the cost of long contexts. We review forty methods and compare them on one benchmark. The results show that no method wins everywhere, and we discuss why. |
| Notes Without Summary (Read more on [arXiv](https://arxiv.org/abs/2410.20003)) | Grace Hopper | |
"""
SURVEY_LEAD = ('Sparse attention cuts the cost of long contexts. We review forty methods and compare '
               'them on one benchmark.')


def dated_digest(d):
    path = os.path.join(d, 'dated.md')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(DATED)
    return path


def check_snippet_at_the_hit(snippet, abstract):
    """A snippet around the match in the first abstract: short, cut at words, marked where cut."""
    plain = re.sub(r'\\(.)', r'\1', snippet).replace('*', '')  # no markup: Slack's, Discord's
    assert 'language agents trained' in plain, snippet
    assert not plain.startswith('Long-horizon') and 'decades' not in plain, snippet
    assert 40 <= len(plain) <= 300, (len(plain), snippet)
    inner = plain.strip('…')
    assert inner in abstract, snippet
    end = abstract.index(inner) + len(inner)
    assert plain.endswith('…') == (end < len(abstract)), snippet
    assert end == len(abstract) or abstract[end] == ' ', snippet  # cut between words


@test
def a_dated_digest_is_headed_by_its_date_and_every_paper_shows_a_snippet():
    with Receiver(tls=CERTS) as rx:
        out = os.path.join(tmpdir(), 'alerts.jsonl')
        hook = {'name': 'hook', 'type': 'webhook', 'url': f'{rx.url}/hook', 'ca_file': CERTS.ca_file}
        d, conf = setup([slack(rx), discord(rx), hook,
                         {'name': 'archive', 'type': 'file', 'path': out}])
        digest = dated_digest(d)
        abstract = papers(digest)[0]['abstract']
        p = pw('scan', '-c', conf, digest)
        assert p.returncode == 0, text(p.stderr)
        by_path = {r.path.split('/')[1]: r.json() for r in rx.requests}
        # Slack: the date heads the message, the file name is the context line under it.
        blocks = by_path['services']['blocks']
        assert blocks[0]['text']['text'] == 'paperwatch: *3 new papers* for 2024-10-21'
        assert blocks[1] == {'type': 'context',
                             'elements': [{'type': 'mrkdwn', 'text': 'from dated.md'}]}, blocks[1]
        plan, survey, notes = (b['text']['text'].split('\n') for b in blocks[2:])
        assert plan[1] == 'Ada Lovelace, Alan Turing'
        assert '*agents*' in plan[2]
        check_snippet_at_the_hit(plan[2], abstract)
        assert survey[1] == SURVEY_LEAD, survey  # no authors line, the first two sentences
        assert notes[1] == 'Grace Hopper' and notes[2].startswith('_Rules:_ all'), notes
        assert by_path['services']['text'].startswith('paperwatch: 3 new papers for 2024-10-21: ')
        # Discord: the same heading, the file name as subtext; the snippet in the description.
        dc = by_path['api']
        assert dc['content'] == '**3 new papers** for 2024-10-21\n-# from dated.md', dc['content']
        plan, survey, notes = (e.get('description') for e in dc['embeds'])
        check_snippet_at_the_hit(plan.split('\n')[1], abstract)
        assert survey == SURVEY_LEAD, survey
        assert notes == 'Grace Hopper'
        # The webhook and the file: a snippet beside the whole abstract, null for no authors.
        wh = by_path['hook']
        lines = read_jsonl(out)
        assert wh['source'] == 'dated.md' and [x['source'] for x in lines] == ['dated.md'] * 3
        for got in (wh['papers'], lines):
            assert [x['abstract'] for x in got] == [x['abstract'] for x in papers(digest)]
            assert [x['authors'] for x in got] == [['Ada Lovelace', 'Alan Turing'], None,
                                                   ['Grace Hopper']], got
            check_snippet_at_the_hit(got[0]['snippet'], abstract)
            assert got[1]['snippet'] == SURVEY_LEAD and got[2]['snippet'] is None, got


@test
def an_email_of_a_dated_digest_has_its_date_in_the_subject_and_a_snippet_per_paper():
    with SmtpServer(mode='plain') as mx:
        d, conf = setup([mail(mx, auth=False, tls='none')])
        digest = dated_digest(d)
        assert pw('scan', '-c', conf, digest).returncode == 0
        (m,) = mx.messages
        assert m.subject == 'paperwatch: 3 new papers for 2024-10-21'
        body = m.text.split('\n')
        assert body[:3] == ['3 new papers for 2024-10-21', 'from dated.md', ''], body[:4]
        plan = body.index('Planning with Learned Models')
        assert body[plan + 1] == '  Authors: Ada Lovelace, Alan Turing'
        quoted = [line for line in body[plan:] if line.startswith('  "')]
        check_snippet_at_the_hit(quoted[0][3:-1], papers(digest)[0]['abstract'])
        survey = body.index('A Survey of Sparse Attention')
        assert body[survey + 1] == '  Rules: all', body[survey:survey + 4]  # no authors line
        assert f'  "{SURVEY_LEAD}"' in body[survey:survey + 4]
        notes = body.index('Notes Without Summary')
        assert body[notes + 1:notes + 5] == ['  Authors: Grace Hopper', '  Rules: all',
                                             '  https://arxiv.org/abs/2410.20003', ''], body[notes:]
        assert '<p><b>3 new papers</b> for 2024-10-21<br>\n<small>from dated.md</small></p>' in m.html
        assert '<b>agents</b>' in m.html and html.escape(SURVEY_LEAD, quote=False) in m.html



@test
def authors_are_null_in_every_json_output_when_the_digest_names_none():
    with Receiver() as rx:
        out = os.path.join(tmpdir(), 'alerts.jsonl')
        d, conf = setup([{'name': 'hook', 'type': 'webhook', 'url': rx.url},
                         {'name': 'archive', 'type': 'file', 'path': out}])
        digest = digests()[4]  # a records digest without author lines
        assert all(x['authors'] is None for x in papers(digest))
        assert pw('scan', '-c', conf, digest).returncode == 0
        (req,) = rx.requests
        for got in (req.json()['papers'], read_jsonl(out)):
            assert len(got) == 50 and all(x['authors'] is None for x in got), got[0]


@test
def test_notify_reaches_every_channel():
    with Receiver(tls=CERTS) as rx, SmtpServer(mode='starttls', certs=CERTS,
                                               auth=(SMTP_USER, SMTP_PASSWORD)) as mx:
        d, conf = setup([slack(rx), discord(rx), mail(mx)])
        for name in ('slack', 'discord', 'mail'):
            p = pw('test-notify', '-c', conf, name)
            assert p.returncode == 0, text(p.stderr)
            assert text(p.stdout) == f'{name}: the sample alert was delivered\n'
        s, dc = (r.json() for r in rx.requests)
        assert s['blocks'][2]['text']['text'].startswith(
            '<https://arxiv.org/abs/1706.03762|*Attention* Is All You Need>')
        assert dc['embeds'][0]['title'] == '**Attention** Is All You Need'
        (m,) = mx.messages
        assert m.subject == 'paperwatch: 1 new paper for 2017-06-12'
        assert '<b>Attention</b> Is All You Need' in m.html
        assert not os.path.exists(os.path.join(d, 'state.db'))


def secret_file(d, name, value):
    path = os.path.join(d, name)
    with open(path, 'w') as f:
        f.write(value + '\n')
    os.chmod(path, 0o600)
    return path


def assert_no_secret(*outputs):
    for out in outputs:
        for s in SECRETS:
            assert s not in out, f'{s} leaked in:\n{out}'


@test
def secrets_never_show_in_logs_or_status_whether_sends_fail_or_succeed():
    keep = tmpdir()
    # Failing: answers that quote the request path, a refused connection, a refused login.
    echo = lambda req: Reply(404, f'no_service for {req.path}?{req.query}')  # noqa: E731
    with Receiver(tls=CERTS, default=echo) as rx, RefusedPort() as down, \
            SmtpServer(mode='starttls', certs=CERTS, auth=(SMTP_USER, SMTP_PASSWORD)) as mx:
        mx.fail('auth')
        m = mail(mx)
        m['password_file'] = secret_file(keep, 'smtp.password', m.pop('password'))
        gone = slack(rx, 'slack-down')
        gone['url'] = f'https://127.0.0.1:{down.port}/services/T0001/B0001/{SLACK_TOKEN}'
        d, conf = setup([slack(rx), discord(rx), m, gone])
        p = pw('scan', '-c', conf, '--wait', '1', digests()[0])
        assert p.returncode == 1
        assert 'HTTP 404: no_service for' in text(p.stderr) and '535' in text(p.stderr)
        s = pw('status', '-c', conf)
        t = pw('test-notify', '-c', conf, 'discord')
        assert t.returncode == 1
        assert_no_secret(text(p.stderr), text(s.stdout), text(s.stderr), text(t.stderr),
                         text(t.stdout))
    # Succeeding, with the Slack URL read from a file.
    with Receiver(tls=CERTS) as rx, \
            SmtpServer(mode='starttls', certs=CERTS, auth=(SMTP_USER, SMTP_PASSWORD)) as mx:
        hook = slack(rx)
        hook['url_file'] = secret_file(keep, 'slack.url', hook.pop('url'))
        d, conf = setup([hook, discord(rx), mail(mx)])
        p = pw('scan', '-c', conf, digests()[0])
        assert p.returncode == 0, text(p.stderr)
        assert len(rx.requests) == 1 + 2 and len(mx.messages) == 1
        s = pw('status', '-c', conf)
        assert_no_secret(text(p.stderr), text(s.stdout), text(s.stderr))


if __name__ == '__main__':
    run()
