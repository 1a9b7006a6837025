#!/usr/bin/python3
"""watch.py — the Python baseline of the benchmarks: the script a user would otherwise write to be
told about papers. watchdog reports digests written or renamed into the folder, regular
expressions read the papers of an hf-daily digest and find the keywords, and urllib posts one
JSON message per digest with the papers that matched.

usage: watch.py DIR URL KEYWORD...

It remembers the papers it has posted while it runs (a set in memory), so a paper in two digests
is posted once, but forgets them when it stops. Prints "watching DIR" on stderr once the watch
is in place.
"""
import json
import os
import re
import sys
import urllib.request

from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

# One table row of an hf-daily digest: the title cell ends with its arXiv link, then the authors
# and the summary. Cells may hold escaped bars (\|); a cell is written as the "unrolled loop"
# (runs of plain characters between escapes), which Python's engine scans fastest.
CELL = r'([^|\\]*(?:\\.[^|\\]*)*)'
ROW = re.compile(r'^\|' + CELL + r'\(Read more on \[arXiv\]\(https?://arxiv\.org/abs/'
                 r'([0-9]{4}\.[0-9]{4,5})[^)]*\)[^|]*\|' + CELL + r'\|' + CELL + r'\|[ \t]*$',
                 re.M)


class Digests(FileSystemEventHandler):
    def __init__(self, url, keywords):
        self.url = url
        self.words = re.compile(r'\b(?:' + '|'.join(map(re.escape, keywords)) + r')\b',
                                re.IGNORECASE)
        self.seen = set()  # watchdog calls the handler from one thread only

    # watchdog reports a file renamed in from outside the folder as created; one written in
    # place is complete when closed after writing.
    def on_created(self, event):
        self.handle(event.src_path)

    def on_closed(self, event):
        self.handle(event.src_path)

    def on_moved(self, event):
        self.handle(event.dest_path)

    def handle(self, path):
        name = os.path.basename(path)
        if name.startswith('.') or not name.endswith(('.md', '.txt')):
            return
        try:
            with open(path, encoding='utf-8', errors='replace') as f:
                text = f.read()
        except OSError as e:
            print(f'{name}: {e}', file=sys.stderr)
            return
        papers = []
        for m in ROW.finditer(text):
            title, arxiv_id, authors, summary = (m.group(1).strip(), m.group(2),
                                                 m.group(3).strip(), m.group(4).strip())
            if arxiv_id in self.seen or not self.words.search(' '.join((title, authors, summary))):
                continue
            self.seen.add(arxiv_id)
            papers.append({'id': arxiv_id, 'title': title.replace('\\|', '|'),
                           'url': f'https://arxiv.org/abs/{arxiv_id}'})
        if papers:
            self.post({'source': name, 'papers': papers})

    def post(self, message):
        req = urllib.request.Request(self.url, data=json.dumps(message).encode(),
                                     headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                r.read()
        except OSError as e:
            print(f'{message["source"]}: {e}', file=sys.stderr)


def main():
    directory, url, keywords = sys.argv[1], sys.argv[2], sys.argv[3:]
    observer = Observer()
    observer.schedule(Digests(url, keywords), directory)
    observer.start()  # the inotify watch exists once this returns
    print(f'watching {directory}', file=sys.stderr, flush=True)
    try:
        observer.join()
    except KeyboardInterrupt:
        observer.stop()


if __name__ == '__main__':
    main()
