#!/usr/bin/env python3
"""test_bad_input.py — hostile and broken input dropped into the watched folder of a running
daemon, one case after another: each gets a clear log line naming the file, nothing else happens,
the daemon keeps running, and good digests dropped afterwards still alert. No descriptor leaks."""
import json
import os
import signal
import time

from harness import test, run, write_config, read_jsonl, Daemon, tmpdir, wait_until

ALL = {'name': 'all', 'query': 'id:2*'}


def records(first, n, title=None):
    return ''.join(f'Title: {title or f"Paper number {i}"}\nPDF: https://arxiv.org/pdf/2505.'
                   f'{i:05d}\nSummary: A summary of paper {i}.\n---\n'
                   for i in range(first, first + n)).encode()


def place():
    """A folder, its inbox and a configuration alerting every paper to out.jsonl there."""
    d = tmpdir()
    inbox = os.path.join(d, 'inbox')
    os.mkdir(inbox)
    out = os.path.join(d, 'out.jsonl')
    conf = write_config(os.path.join(d, 'pw.conf'),
                        [{'name': 'out', 'type': 'file', 'path': out}], [ALL],
                        state=os.path.join(d, 'state.db'), watch={'dir': inbox})
    return d, inbox, out, conf


def complete_lines(path):
    """The JSON lines of a file still being appended to: a last line not yet ended is left out."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in data.split(b'\n')[:-1] if line.strip()]


def write(path, data):
    with open(path, 'wb') as f:
        f.write(data)


def sparse(path, size):
    with open(path, 'wb') as f:
        f.truncate(size)


def moved_in(make):
    """Makes the thing beside the folder and renames it in: how files are dropped (creating a
    FIFO, device or link in place raises no event paperwatch acts on; a rescan names it)."""
    def drop(path):
        aside = path + b'.aside'
        aside = os.path.join(os.path.dirname(os.path.dirname(aside)), os.path.basename(aside))
        make(aside)
        os.rename(aside, path)
    return drop


def mknod_null(path):
    os.mknod(path, 0o600 | 0o020000, os.makedev(1, 3))  # a character device, like /dev/null


def nested(depth):
    return ('| Title | Link |\n|---|---|\n| ' + '[' * depth + 'x' + ']' * depth +
            ' | [l](https://arxiv.org/abs/2505.99999) |\n').encode()


def columns(n):
    return ('| Date | Title | Abstract |\n|---|---|---|\n' + '|x' * n + '|\n').encode()


# (name in the folder, how to make it, what the log must then say about it). A callable name
# makes its own file; 'dirty' cases leave a file the daemon reads but refuses or repairs.
CASES = [
    ('binary.md', lambda p: write(p, b'\x89PNG\r\n\x1a\n\0\0\0\rIHDR' + bytes(range(256)) * 64),
     'binary data'),
    ('nul-early.md', lambda p: write(p, b'Title: A\0B\nPDF: https://arxiv.org/pdf/2505.00001\n'),
     'binary data'),
    ('nul-late.md', lambda p: write(p, records(100, 1, 'x' * 9000) + b'Title: late\0nul\n'
                                     b'PDF: https://arxiv.org/pdf/2505.00101\n'), '2 papers'),
    ('sparse-1g.md', lambda p: sparse(p, 1 << 30), 'too large'),
    ('just-over.md', lambda p: sparse(p, (64 << 20) + 1), 'too large'),
    ('one-line-10m.md', lambda p: write(p, b'x' * (10 << 20)), 'not in a known digest format'),
    ('nested.md', lambda p: write(p, nested(100000)), 'nested.md'),
    ('columns.md', lambda p: write(p, columns(100000)), 'cells, more than the 64'),
    ('title-100k.md', lambda p: write(p, records(200, 1, 'T' * 100000)), '1 paper,'),
    ('invalid-utf8.md', lambda p: write(p, records(300, 1, 'caf\xe9').replace(
        b'caf\xc3\xa9', b'caf\xc3') + b'\xff\xfe\x80'), 'ill-formed UTF-8'),
    ('overlong.md', lambda p: write(p, records(400, 1, 'slash SLASH').replace(b'SLASH', b'\xc0\xaf')),
     'ill-formed UTF-8'),
    ('utf16-bom.md', lambda p: write(p, records(700, 1).decode().encode('utf-16')),
     'utf16-bom.md: 1 paper,'),
    ('utf16-nobom.md', lambda p: write(p, 'Title: x\nPDF: y\n'.encode('utf-16-le')),
     'binary data'),
    ('evil\nname.md', lambda p: write(p, records(500, 1)), 'evil\\nname.md'),
    (b'bad\xffname.md', lambda p: write(p, records(600, 1)), 'bad\\xffname.md: 1 paper,'),
    ('fifo.md', moved_in(os.mkfifo), 'fifo.md: not a regular file'),
    ('device.md', moved_in(mknod_null), 'device.md: not a regular file'),
    ('link-out.md', moved_in(lambda p: os.symlink('/etc/passwd', p)),
     'link-out.md: a symbolic link out of the folder'),
    ('link-dir.md', moved_in(lambda p: os.symlink('/', p)),
     'link-dir.md: a symbolic link out of the folder'),
    ('empty.md', lambda p: write(p, b''), '0 papers'),
    ('blank.md', lambda p: write(p, b'\n \t\r\n' * 1000), '0 papers'),
    ('prose.md', lambda p: write(p, b'Dear diary, nothing here.\n' * 10),
     'not in a known digest format'),
    ('malformed.md', lambda p: write(p, b'| Title | Authors | Summary |\n|---|---|---|\n'
                                     b'| only | two |\n| no link | a | b |\n'), 'record skipped'),
    ('no-byline.md', lambda p: write(p, b'#### Abstracts\n##### **T**\nno by-line here\n'),
     'abstract block without'),
    ('many-blank-lines.md', lambda p: write(p, b'\n' * 1000000), '0 papers'),
    ('crlf-bom.md', lambda p: write(p, b'\xef\xbb\xbf' + records(700, 2).replace(b'\n', b'\r\n')),
     '2 papers'),
    ('tiny-records.md', lambda p: write(p, records(10000, 20000)), '20000 papers'),
]


def drop(inbox, name, make):
    path = os.path.join(os.fsencode(inbox), os.fsencode(name))
    make(path)


@test
def every_bad_input_gets_a_clear_line_and_the_daemon_carries_on():
    d, inbox, out, conf = place()
    with Daemon(conf, d) as daemon:
        daemon.start()
        fds = len(os.listdir(f'/proc/{daemon.proc.pid}/fd'))
        for name, make, says in CASES:
            shown = name.decode('utf-8', 'replace') if isinstance(name, bytes) else name
            before = len(daemon.log_text())
            try:
                drop(inbox, name, make)
            except PermissionError as e:
                # A device file needs CAP_MKNOD, which a container may not grant.
                print(f'# {shown!r} cannot be made here ({e}); that case is not run')
                continue
            wait_until(lambda: says in daemon.log_text()[before:], 30,
                       f'{shown!r}: a line saying {says!r}')
            assert daemon.proc.poll() is None, f'died on {shown!r}'
        good = os.path.join(inbox, 'good.md')
        with open(good + '.tmp', 'wb') as f:
            f.write(records(90000, 3))
        os.rename(good + '.tmp', good)
        wait_until(lambda: {'2505.90000', '2505.90001', '2505.90002'} <=
                   {p['id'] for p in read_jsonl(out)}, 20, 'the good digest to alert')
        assert len(os.listdir(f'/proc/{daemon.proc.pid}/fd')) == fds
        assert daemon.stop() == 0


@test
def a_file_deleted_between_event_and_read_is_named_and_skipped():
    d, inbox, _, conf = place()
    with Daemon(conf, d) as daemon:
        daemon.start()
        daemon.signal(signal.SIGSTOP)
        path = os.path.join(inbox, 'brief.md')
        write(path, records(0, 1))
        os.unlink(path)
        daemon.signal(signal.SIGCONT)
        wait_until(lambda: 'brief.md: gone before it could be read' in daemon.log_text(), 10,
                   'the vanished file to be named')
        assert daemon.stop() == 0


@test
def a_file_truncated_while_read_gives_what_it_held_once():
    d, inbox, out, conf = place()
    big = records(0, 200000)  # about 20 MB: long enough to be cut while it is read
    cut = len(big) // 2
    # Papers wholly before the cut; from number 100000 on a PDF link holds no arXiv id, and the
    # rule (id:2*) lets those pass.
    whole = min(big[:cut].count(b'---\n'), 100000)
    before_cut = {f'Paper number {i}' for i in range(whole)}
    with Daemon(conf, d) as daemon:
        daemon.start()
        path = os.path.join(inbox, 'cut.md')
        with open(path, 'wb') as f:
            f.write(big)
            f.flush()
            os.fsync(f.fileno())
        fd = os.open(path, os.O_WRONLY)
        time.sleep(0.005)
        os.ftruncate(fd, cut)
        os.close(fd)  # the writer's close: the file is read again, whole as it now is
        # Read while it was cut, the file gives what it held and is read again at the close;
        # read only after the cut (a slow machine), it is read once. Either way every paper
        # wholly before the cut is alerted, once.
        wait_until(lambda: before_cut <= {p['title'] for p in complete_lines(out)}, 60,
                   'the papers before the cut to be alerted')
        assert daemon.proc.poll() is None
        assert 'cut.md' in daemon.log_text()
        assert daemon.stop() == 0
    ids = [p['id'] for p in complete_lines(out)]
    assert len(ids) == len(set(ids))


@test
def an_include_of_a_fifo_or_of_too_much_is_refused_without_waiting():
    import subprocess
    from harness import BINARY
    d = tmpdir()
    os.mkfifo(os.path.join(d, 'rules.fifo'))
    with open(os.path.join(d, 'big.cfg'), 'w') as f:
        f.write('# ' + 'x' * (5 << 20) + '\n')
    for name, says in (('rules.fifo', 'not a regular file'), ('big.cfg', '4 MiB')):
        conf = os.path.join(d, f'with-{name}.conf')
        with open(conf, 'w') as f:
            f.write(f'@include "{name}"\n')
        r = subprocess.run([BINARY, 'check-config', '-c', conf], capture_output=True,
                           text=True, timeout=20)
        assert r.returncode != 0 and name in r.stderr and says in r.stderr, (name, r.stderr)


if __name__ == '__main__':
    run()
