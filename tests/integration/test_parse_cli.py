#!/usr/bin/env python3
"""test_parse_cli.py — `paperwatch parse` end to end: the real binary on the real digests and on
bad input."""
import json
import os
import shutil

from harness import test, run, pw, text, digests, fixture, tmpdir


def records(stdout):
    return [json.loads(line) for line in text(stdout).splitlines()]


KEYS = ['id', 'version', 'title', 'authors', 'authors_truncated', 'abstract', 'translation',
        'date', 'url', 'source', 'format']


@test
def all_sample_digests_give_216_valid_records():
    r = pw('parse', *digests())
    assert r.returncode == 0, r.stderr
    assert r.stderr == b'', r.stderr
    recs = records(r.stdout)
    assert len(recs) == 216
    for rec in recs:
        assert list(rec.keys()) == KEYS
        assert rec['title'] and rec['url'].startswith('https://arxiv.org/abs/')
    assert len({r['id'] for r in recs}) == 212  # four papers come in two digests


@test
def records_name_their_source_and_format():
    counts = {}
    for rec in records(pw('parse', *digests()).stdout):
        key = (rec['source'], rec['format'])
        counts[key] = counts.get(key, 0) + 1
    assert counts == {
        ('000_6b369aa832a2006d.txt', 'hf-daily'): 12,
        ('001_a7bca62cced45441.txt', 'arxiv-daily'): 100,
        ('002_f9a2c3ce83a5c549.txt', 'hf-daily'): 8,
        ('003_bf227820df90f27b.txt', 'date-table'): 46,
        ('004_602c7d0816f9df68.txt', 'records'): 50,
    }, counts


@test
def format_is_detected_from_content_not_name():
    d = tmpdir()
    for src in digests():
        # Every sample renamed to the same meaningless extension still parses as itself.
        shutil.copy(src, os.path.join(d, os.path.basename(src) + '.dat'))
    fmts = {rec['format'] for rec in records(pw('parse', *sorted(
        os.path.join(d, f) for f in os.listdir(d))).stdout)}
    assert fmts == {'hf-daily', 'arxiv-daily', 'date-table', 'records'}, fmts


@test
def output_is_valid_utf8_even_from_broken_input():
    r = pw('parse', fixture('parse', 'invalid_utf8.md'))
    assert r.returncode == 0
    rec = json.loads(r.stdout.decode('utf-8', 'strict'))
    assert rec['translation'].endswith('\ufffd'), rec
    assert b'ill-formed UTF-8' in r.stderr and b'invalid_utf8.md' in r.stderr


@test
def bad_files_are_named_with_reason_and_others_still_parse():
    bad = [fixture('parse', 'unknown.txt'), fixture('parse', 'binary.bin'),
           fixture('parse', 'missing.md')]
    good = digests()[0]
    r = pw('parse', bad[0], good, *bad[1:])
    assert r.returncode == 1
    assert len(records(r.stdout)) == 12
    err = text(r.stderr).splitlines()
    assert len(err) == 3, err
    for path, reason in zip(bad, ['not in a known digest format', 'binary data',
                                  'No such file or directory']):
        assert any(path in line and reason in line for line in err), (path, err)


@test
def a_digest_in_utf16_gives_the_papers_of_its_utf8():
    # What Windows PowerShell writes by default: UTF-16 with a byte order mark, either order.
    d = tmpdir()
    for sample in digests():
        utf8 = open(sample, encoding='utf-8', errors='replace').read()
        want = [dict(rec, source=None) for rec in records(pw('parse', sample).stdout)]
        for codec in ('utf-16-le', 'utf-16-be'):
            path = os.path.join(d, codec + '.md')
            with open(path, 'wb') as f:
                f.write('\ufeff'.encode(codec) + utf8.encode(codec))
            r = pw('parse', path)
            assert r.returncode == 0, (sample, codec, text(r.stderr))
            got = [dict(rec, source=None) for rec in records(r.stdout)]
            assert got == want, (sample, codec)
    # Half of a surrogate pair alone is replaced, and said.
    path = os.path.join(d, 'lone.md')
    with open(path, 'wb') as f:
        f.write(b'\xff\xfe' + 'Title: Lone '.encode('utf-16-le') + b'\x3d\xd8' +
                ' half\nPDF: https://arxiv.org/pdf/2501.00301\n'.encode('utf-16-le'))
    r = pw('parse', path)
    assert [rec['title'] for rec in records(r.stdout)] == ['Lone \ufffd half'], r.stdout
    assert 'lone.md: 1 ill-formed UTF-16 sequence replaced with U+FFFD' in text(r.stderr), \
        text(r.stderr)


@test
def empty_file_is_no_papers_and_no_error():
    r = pw('parse', fixture('parse', 'empty.txt'), fixture('parse', 'blank.txt'))
    assert (r.returncode, r.stdout, r.stderr) == (0, b'', b'')


@test
def malformed_rows_warn_with_file_and_line_and_strict_fails():
    r = pw('parse', fixture('parse', 'malformed_rows.md'))
    assert r.returncode == 0
    # The short row is padded and read; the row without a link is not a paper.
    assert [rec['title'] for rec in records(r.stdout)] == ['Good One', 'Good Two', 'Missing Cells']
    err = text(r.stderr)
    assert 'malformed_rows.md:7: record skipped: no link' in err, err
    assert 'malformed_rows.md:6:' not in err, err
    assert pw('parse', '--strict', fixture('parse', 'malformed_rows.md')).returncode == 1
    assert pw('parse', '--strict', *digests()).returncode == 0


@test
def size_limit_is_configurable_and_named():
    r = pw('parse', '--max-size', '1K', digests()[0])
    assert r.returncode == 1 and r.stdout == b''
    assert 'too large' in text(r.stderr) and 'the limit is 1024' in text(r.stderr)
    assert pw('parse', '--max-size', 'lots', digests()[0]).returncode == 2


@test
def fifo_in_place_of_a_file_is_refused_without_blocking():
    d = tmpdir()
    fifo = os.path.join(d, 'pipe.md')
    os.mkfifo(fifo)
    r = pw('parse', fifo, timeout=10)
    assert r.returncode == 1 and 'not a regular file' in text(r.stderr)


@test
def hostile_file_name_cannot_forge_a_log_line():
    d = tmpdir()
    name = os.path.join(d, 'evil\nFAKE LINE.md')
    with open(name, 'w') as f:
        f.write('nothing to see\n')
    r = pw('parse', name)
    assert r.returncode == 1
    assert len(r.stderr.splitlines()) == 1, r.stderr
    assert b'evil\\nFAKE LINE.md' in r.stderr


@test
def bidirectional_overrides_and_c1_controls_in_a_name_are_escaped_in_the_log():
    d = tmpdir()
    # Shown raw, U+202E would make "evil\u202egpj.md" read as "evildm.jpg"; U+009B is a C1 CSI.
    name = os.path.join(d, 'evil\u202egpj\u2066\u009b31m.md')
    with open(name, 'w') as f:
        f.write('nothing to see\n')
    r = pw('parse', name)
    assert r.returncode == 1
    for raw in ('\u202e', '\u2066', '\u009b'):
        assert raw.encode() not in r.stderr, r.stderr
    assert b'evil\\u202egpj\\u2066\\u009b31m.md' in r.stderr, r.stderr


@test
def usage_errors_exit_2():
    assert pw('parse').returncode == 2
    assert pw('no-such-command').returncode == 2
    assert pw().returncode == 2
    r = pw('--version')
    assert r.returncode == 0 and text(r.stdout).startswith('paperwatch ')


if __name__ == '__main__':
    run()
