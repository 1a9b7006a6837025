#!/usr/bin/env python3
"""gen_digests.py — writes one large digest of each format for the parser benchmark.

Titles, authors and abstracts are taken from the sample digests (through `paperwatch parse`),
each paper gets a fresh arXiv id so no two merge, and the layout copies each real format,
hard-wrapped abstracts and translated abstracts included.

usage: gen_digests.py PAPERWATCH OUTDIR [MEGABYTES]
"""
import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sample_papers(binary):
    d = os.path.join(ROOT, 'tests', 'fixtures', 'digests')
    files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith('.txt'))
    out = subprocess.run([binary, 'parse', *files], check=True, capture_output=True).stdout
    return [json.loads(l) for l in out.decode().splitlines()]


def ids():
    n = 0
    while True:
        yield f'{24 + n // 1200000:02d}{1 + n // 100000 % 12:02d}.{n % 100000:05d}'
        n += 1


def esc(s):
    return s.replace('|', '\\|')


def hf(p, i):
    return (f"| {esc(p['title'])} (Read more on [arXiv](https://arxiv.org/abs/{i}) or "
            f"[HuggingFace](https://huggingface.co/papers/{i}))| {', '.join(p['authors'] or ['x'])} "
            f"| {esc(p['abstract'] or '')} |\n")


def daily_row(p, i):
    first = (p['authors'] or ['Anon'])[0]
    return (f"|**2024-10-09**|**{esc(p['title'])}**|{first} et.al.|[{i}v1](http://arxiv.org/abs/{i}v1)"
            f"|null|\n")


def daily_block(p, i):
    wrapped = '\n'.join(textwrap.wrap(p['abstract'] or '', 79))
    tr = p['translation'] or '本研究旨在全面探索建立一個用於以自我為中心影片理解的多模態基礎模型。'
    return (f"##### **{p['title']}**\n{i}v1 by {', '.join(p['authors'] or ['Anon'])}\n\n"
            f"{wrapped}\n\n摘要：{tr}\n\n")


def date_row(p, i):
    return f"| 31st October 2024 | [{esc(p['title'])}](http://arxiv.org/abs/{i}v1) | {esc(p['abstract'] or '')} |\n"


def record(p, i):
    return f"Title: {p['title']}\nPDF: https://arxiv.org/pdf/{i}\nSummary: {p['abstract'] or ''}\n---\n"


def write(path, head, row, papers, size, blocks=None):
    gen = ids()
    with open(path, 'w') as f:
        written = 0
        k = 0
        while written < size:
            # arXiv-daily comes in categories of 100: a table, then its abstract blocks.
            batch = [(papers[(k + j) % len(papers)], next(gen)) for j in range(100)]
            k += 100
            chunk = head + ''.join(row(p, i) for p, i in batch)
            if blocks:
                chunk += '\n#### Abstracts\n' + ''.join(blocks(p, i) for p, i in batch)
                f.write(chunk)
            else:
                f.write(chunk if written == 0 else ''.join(row(p, i) for p, i in batch))
            written += len(chunk.encode())


def main():
    binary, outdir = sys.argv[1], sys.argv[2]
    size = int(sys.argv[3] if len(sys.argv) > 3 else 100) << 20
    os.makedirs(outdir, exist_ok=True)
    papers = sample_papers(binary)
    hf_head = '## Papers for 2024-10-21\n\n| Title | Authors | Summary |\n|-------|---------|---------|\n'
    daily_head = ('\n### LLM\n|Publish Date|Title|Authors|Homepage|Code|\n'
                  '| :---: | :---: | :---: | :---: | :---: |\n')
    date_head = '| Date | Title | Abstract |\n|------|-------|----------|\n'
    write(os.path.join(outdir, 'hf-daily.md'), hf_head, hf, papers, size)
    write(os.path.join(outdir, 'arxiv-daily.md'), daily_head, daily_row, papers, size, daily_block)
    write(os.path.join(outdir, 'date-table.md'), date_head, date_row, papers, size)
    write(os.path.join(outdir, 'records.txt'), '', record, papers, size)


if __name__ == '__main__':
    main()
