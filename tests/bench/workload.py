"""workload.py — the digests paperwatch and the baselines are compared on, and the alerts each
one should bring.

Every digest is in the hf-daily format, where one table row is one paper: the grep pipeline
reads a file line by line, so this is the format that baseline handles best (paperwatch reads
the others too). Titles, authors and summaries are the sample digests' papers
(tests/fixtures/digests, read with `paperwatch parse`), each given a fresh arXiv id, so a digest
reads like a real one and its papers are new unless the workload shares them on purpose.

The rules are single keywords, each a whole word anywhere in the title, authors or summary,
case folded. paperwatch's `query = "robot"` also finds the plurals `robots` (and `-es` after s, x,
z, o, ch and sh), so the baselines are given those forms too: lines of the file for
`grep -iwF`, alternatives of `\\b(...)\\b` for Python. check_semantics() proves the three agree
paper for paper on the whole pool before anything is timed, so a missed or repeated alert is a
matter of reliability, never of how a tool reads a keyword.
"""
import json
import os
import re
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLES = os.path.join(ROOT, 'tests', 'fixtures', 'digests')

# Topics a reader follows; with their plurals they match 46 of the 212 sample papers, about one
# in five.
KEYWORDS = ['speech', 'robot', 'medical', 'hallucination', 'privacy', 'jailbreak', 'quantization',
            'distillation']



def word_forms(word):
    """A keyword and the plurals paperwatch's word rule finds with it (daemon/text.c)."""
    forms = [word, word + 's']
    if word.endswith(('s', 'x', 'z', 'o', 'ch', 'sh')):
        forms.append(word + 'es')
    return forms


FORMS = [f for k in KEYWORDS for f in word_forms(k)]
HEAD = '## Papers for 2024-10-21\n\n| Title | Authors | Summary |\n|-------|---------|---------|\n'
WORDS = re.compile(r'\b(?:' + '|'.join(map(re.escape, FORMS)) + r')\b', re.IGNORECASE)


class Paper:
    """One paper of the workload: sample text under a fresh id; `hit` when a keyword names it."""
    __slots__ = ('id', 'title', 'authors', 'summary', 'hit')

    def __init__(self, pid, text):
        self.id = pid
        self.title, self.authors, self.summary = text
        self.hit = WORDS.search(' '.join(text)) is not None

    def row(self):
        return (f'| {self.title} (Read more on [arXiv](https://arxiv.org/abs/{self.id}) or '
                f'[HuggingFace](https://huggingface.co/papers/{self.id}))| {self.authors} | '
                f'{self.summary} |\n')


def _cell(s):
    """Text made fit for one table cell: one line, bars escaped."""
    return ' '.join(s.split()).replace('|', '\\|')


def sample_texts(binary):
    """(title, authors, summary) of every distinct paper of the sample digests."""
    files = sorted(os.path.join(SAMPLES, f) for f in os.listdir(SAMPLES) if f.endswith('.txt'))
    out = subprocess.run([binary, 'parse', *files], check=True, capture_output=True).stdout
    texts, seen = [], set()
    for line in out.decode().splitlines():
        p = json.loads(line)
        if p['id'] in seen or not p['abstract']:
            continue
        seen.add(p['id'])
        texts.append((_cell(p['title']), _cell(', '.join(p['authors'] or ['Anonymous'])),
                      _cell(p['abstract'])))
    return texts


class Workload:
    """Hands out papers (sample texts in turn, ids never repeated in one run) and digests."""

    def __init__(self, binary):
        self.texts = sample_texts(binary)
        self.by_hit = {None: self.texts,
                       True: [t for t in self.texts if WORDS.search(' '.join(t))],
                       False: [t for t in self.texts if not WORDS.search(' '.join(t))]}
        self.turn = {None: 0, True: 0, False: 0}
        self.next_id = 0

    def paper(self, hit=None):
        """The next sample text (the next one that matches, or does not, when `hit` says) under
        a new id: 2501.00000 upwards, real-looking and never repeated in one run."""
        n = self.next_id
        self.next_id += 1
        texts = self.by_hit[hit]
        text = texts[self.turn[hit] % len(texts)]
        self.turn[hit] += 1
        return Paper(f'{25 + n // 1200000:02d}{1 + n // 100000 % 12:02d}.{n % 100000:05d}', text)

    def digests(self, count, papers, shared=0, prefix='d', hit_every=0):
        """`count` digests of `papers` papers each; each after the first starts with the last
        `shared` papers of the one before, as the same paper turns up in two days' digests.
        With `hit_every` N, every Nth digest holds papers that match and the others papers that
        do not."""
        out, prev = [], []
        for k in range(count):
            hit = (k % hit_every == 0) if hit_every else None
            ps = prev[len(prev) - shared:] if shared and prev else []
            ps += [self.paper(hit) for _ in range(papers - len(ps))]
            out.append(Digest(f'{prefix}{k:05d}.md', ps))
            prev = ps
        return out


class Digest:
    __slots__ = ('name', 'papers')

    def __init__(self, name, papers):
        self.name, self.papers = name, papers

    def text(self):
        return HEAD + ''.join(p.row() for p in self.papers)

    def hits(self):
        return [p.id for p in self.papers if p.hit]


class Expected:
    """The alerts a set of digests should bring: each matching paper exactly once, from any one
    of the digests that hold it (which one depends on the order a tool reads them in)."""

    def __init__(self, digests):
        self.files_of = {}  # paper id -> names of the digests holding it, for matching papers
        self.all_ids = set()
        for d in digests:
            for p in d.papers:
                self.all_ids.add(p.id)
                if p.hit:
                    self.files_of.setdefault(p.id, set()).add(d.name)

    def score(self, alerts):
        """Counts (file, paper id) alerts against the expectation: `missed` matching papers
        never alerted, `repeated` alerts of a paper after its first, `wrong` alerts of a paper
        that matches no rule or that the named file does not hold."""
        counts, wrong = {}, 0
        for name, pid in alerts:
            if name not in self.files_of.get(pid, ()):
                wrong += 1
                continue
            counts[pid] = counts.get(pid, 0) + 1
        return {'expected': len(self.files_of), 'alerted': len(counts),
                'missed': len(self.files_of) - len(counts),
                'repeated': sum(c - 1 for c in counts.values()), 'wrong': wrong}


def check_semantics(binary, workload, keywords_file, conf):
    """Runs each tool's own matching on one digest of the whole sample pool (paperwatch match,
    grep -iwF, the Python baseline's expression) and fails unless all three pick exactly the
    papers the workload expects."""
    d = Digest('semantics.md', [workload.paper() for _ in workload.texts])
    want = set(d.hits())
    with tempfile.NamedTemporaryFile('w', suffix='.md', delete=False) as f:
        f.write(d.text())
    try:
        out = subprocess.run([binary, 'match', '--json', '-c', conf, f.name], check=True,
                             capture_output=True).stdout.decode()
        pw = {json.loads(l)['id'] for l in out.splitlines()}
        out = subprocess.run(['grep', '-iwF', '-f', keywords_file, f.name], capture_output=True,
                             env=dict(os.environ, LC_ALL='C.UTF-8')).stdout.decode()
        grep = {m.group(1) for m in re.finditer(r'arxiv\.org/abs/([0-9.]+)', out)}
        # The Python baseline's own row expression and keyword test, run on the same file.
        import importlib.util
        spec = importlib.util.spec_from_file_location(
            'watch', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'baselines',
                                  'watch.py'))
        watch = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(watch)
        words = watch.Digests('', FORMS).words
        with open(f.name) as t:
            py = {m.group(2) for m in watch.ROW.finditer(t.read())
                  if words.search(' '.join(g.strip() for g in m.group(1, 3, 4)))}
    finally:
        os.unlink(f.name)
    for tool, got in (('paperwatch', pw), ('grep', grep), ('python', py)):
        if got != want:
            raise SystemExit(f'benchmark: {tool} reads the keywords differently from the others: '
                             f'{len(got - want)} extra, {len(want - got)} missing papers '
                             f'(e.g. {sorted(got ^ want)[:3]}); pick other keywords')
    return {'papers': len(d.papers), 'matching': len(want)}
