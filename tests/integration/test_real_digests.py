#!/usr/bin/env python3
"""test_real_digests.py — `paperwatch parse` on digests copied from the generators in the wild
(../shared/digests/real) and on one fixture per construct they use: every paper a file links is
read, by its format, with the right fields. The expectations are computed here, from the text,
without the C code."""
import glob
import json
import os
import re

from harness import test, run, pw, text, fixture, tmpdir

# Digests copied byte for byte from public generators (SOURCES.md says where each comes from),
# kept with the tests so that a clean clone tests them too.
REAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'real')

# A paper link: an arXiv abs/pdf/html URL on any subdomain, or a Hugging Face papers URL.
LINK = re.compile(r'(?i)(?:[a-z0-9.-]*\barxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/)'
                  r'(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})')
# A badge: an image inside a link, "[![...](image)](target)".
BADGE = re.compile(r'\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)')


def linked_ids(path):
    body = BADGE.sub('', open(path, encoding='utf-8', errors='replace').read())
    return {m.group(1) for m in LINK.finditer(body)}


def parse(*paths, strict=False):
    r = pw('parse', *(['--strict'] if strict else []), *paths)
    return r, [json.loads(line) for line in text(r.stdout).splitlines()]


def parse_text(name, body, strict=False):
    """Writes body as the digest NAME in a fresh folder and parses it."""
    path = os.path.join(tmpdir(), name)
    with open(path, 'w') as f:
        f.write(body)
    return parse(path, strict=strict)


def real_files():
    files = sorted(f for f in glob.glob(os.path.join(REAL, '*', '*')) if os.path.isfile(f))
    assert len(files) == 49, len(files)
    return files


@test
def every_real_digest_yields_every_paper_it_links_by_its_format():
    for path in real_files():
        want = linked_ids(path)
        r, recs = parse(path, strict=True)
        name = os.path.relpath(path, REAL)
        if not want:
            # A day with no papers: empty tables read as a digest, a bare page refused.
            assert recs == [], name
            continue
        assert r.returncode == 0, (name, text(r.stderr))
        got = {rec['id'] for rec in recs if rec['id']}  # others link no arXiv paper
        assert got == want, (name, sorted(want - got)[:5], sorted(got - want)[:5])
        assert all(rec['format'] != 'fallback' for rec in recs), name
        assert all(rec['title'] and 'read more' not in rec['title'].lower() for rec in recs), name


# Papers checked by hand against the files: (file, id, title, authors, truncated, date,
# how the abstract starts). None: the digest does not say.
HAND = [
    ('gabrielchua__daily-ai-papers/archive__2025__03__11.md', '2503.03601',
     'Feature-Level Insights into Artificial Text Detection with Sparse Autoencoders',
     ['Kristian Kuznetsov', 'natriistorm', 'razzant', 'plina2polina', 'Kushnareva'], False,
     '2025-03-11', 'This paper explores enhancing interpretability'),
    ('gabrielchua__daily-ai-papers/archive__2024__09__09.md', '2409.03810',
     'How Do Your Code LLMs Perform? Empowering Code Instruction Tuning with High-Quality Data',
     ['mdizhang', 'bitwjg', 'dongguanting', 'fudayuan', 'banksy235'], False, '2024-09-09',
     'The authors propose XCoder'),
    ('gabrielchua__daily-ai-papers/README_2024-11-26.md', '2410.05248',
     'SFTMix: Elevating Language Model Instruction Tuning with Mixup Recipe',
     ['Sanqiang Zhao', 'Marzyeh Ghassemi', 'wzhouad', 'szhang42', 'YuxinXiao'], False,
     '2024-10-11', 'This paper investigates improving large language model'),
    ('aishwaryanr__awesome-generative-ai-guide/research_updates__2024_papers__may_list.md',
     '2405.20139', 'GNN-RAG: Graph Neural Retrieval for Large Language Model Reasoning', None,
     None, '2024-05-30', 'Knowledge Graphs (KGs) represent human-crafted'),
    ('aishwaryanr__awesome-generative-ai-guide/research_updates__2024_papers__february_list.md',
     '2402.17177', 'Sora: A Review on Background, Technology, Limitations, and Opportunities of '
     'Large Vision Models', None, None, '2024-02-28', 'The paper provides a thorough analysis'),
    ('jawatech__arxiv-daily-in-place/README_2024-12-31.md', '2412.18925',
     'HuatuoGPT-o1, Towards Medical Complex Reasoning with LLMs',
     ['Junying Chen', 'Zhenyang Cai', 'Ke Ji', 'Xidong Wang', 'Wanlong Liu', 'Rongsheng Wang',
      'Jianye Hou', 'Benyou Wang'], False, '2024-12-25', 'The breakthrough of OpenAI o1'),
    ('Vincentqyw__cv-arxiv-daily/README_2021-12-31.md', '2112.14428',
     'Efficient Belief Space Planning in High-Dimensional State Spaces using PIVOT: Predictive '
     'Incremental Variable Ordering Tactic', ['Khen Elimelech'], True, '2021-12-29', None),
    ('Vincentqyw__cv-arxiv-daily/docs__wechat.md', '2211.16882',
     'MVRackLay: Monocular Multi-View Layout Estimation for Warehouse Racks and Shelves',
     ['Pranjali Pathre'], True, '2022-11-30', None),
    ('InMatrix__ai-papers-reader/docs__2024-06-21__index.md', '2406.11912',
     'AgileCoder: Dynamic Collaborative Agents for Software Development based on Agile '
     'Methodology', None, None, '2024-06-21', 'This paper directly applies AI'),
    ('InMatrix__ai-papers-reader/paper_metadata_2024-06-18.txt', '2406.11402',
     'Evaluating Open Language Models Across Task Types, Application Domains, and Reasoning '
     'Types: An In-Depth Experimental Analysis', None, None, None,
     'The rapid rise of Language Models (LMs)'),
]


@test
def hand_checked_papers_have_exact_title_authors_date_and_abstract():
    for name, pid, title, authors, truncated, date, abstract in HAND:
        _, recs = parse(os.path.join(REAL, name))
        rec = next((rec for rec in recs if rec['id'] == pid), None)
        assert rec is not None, (name, pid)
        got = (rec['title'], rec['authors'], rec['authors_truncated'], rec['date'])
        assert got == (title, authors, truncated, date), (name, got)
        if abstract is None:
            assert rec['abstract'] is None, (name, rec['abstract'])
        else:
            assert rec['abstract'].startswith(abstract), (name, rec['abstract'][:80])


def cells(row):
    """A table row's cells, split at bars that are not escaped."""
    return [c.strip() for c in re.split(r'(?<!\\)\|', row.strip().strip('|'))]


def unbold(t):
    return t.replace('**', '').strip()


def first_table_paper(body, file_date=None):
    """The first paper of a table digest, read here from its first row with a link: (id, title,
    authors, truncated, date), with None where the row does not say."""
    lines = body.split('\n')
    header = None
    for i, line in enumerate(lines):
        if not line.startswith('|'):
            continue
        c = cells(line)
        words = [unbold(x).lower() for x in c]
        if header is None and ('title' in words or 'name' in words):
            header = words
            continue
        m = LINK.search(line)
        if header is None or not m:
            continue
        row = line
        while len(cells(row)) < len(header) and not lines[i + 1].startswith('|'):
            i += 1
            row += ' ' + lines[i].strip()  # a title the generator wrapped
        c = cells(row)
        col = {w: k for k, w in reversed(list(enumerate(header)))}
        tcell = c[col.get('title', col.get('name'))]
        title = re.split(r'\s*(?:\(Read more on|- read more on)', tcell)[0]
        lm = re.match(r'\[(.*?)\]\(', title)
        title = unbold(lm.group(1) if lm else title)
        authors, truncated = None, None
        if 'authors' in col:
            a = c[col['authors']]
            truncated = a.endswith('et.al.')
            authors = [x.strip() for x in a.replace('et.al.', '').split(',') if x.strip()]
            if not authors:
                authors, truncated = None, None  # an empty cell names nobody
        date = file_date
        for key in ('publish date', 'date'):
            if key in col:
                date = to_date(unbold(c[col[key]]))
        return m.group(1), title, authors, truncated, date
    return None


def first_record_paper(body):
    """The first paper of a Title:/PDF: digest, read here: (id, title)."""
    m = re.search(r'^Title: *((?:.+\n)+?)PDF: *(\S+)', body, re.M)
    # A title may go on over several lines, as a record's value may.
    return (LINK.search(m.group(2)).group(1), ' '.join(m.group(1).split())) if m else None


MONTHS = {m: i + 1 for i, m in enumerate(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug',
                                          'sep', 'oct', 'nov', 'dec'])}


def to_date(text):
    m = re.match(r'(\d{4})-(\d\d)-(\d\d)$', text)
    if m:
        return text
    m = re.match(r'(\d{1,2})(?:st|nd|rd|th)? ([A-Za-z]+),? (\d{4})$', text)
    if m:
        day, month, year = m.groups()
    else:
        m = re.match(r'([A-Za-z]+) (\d{1,2})(?:st|nd|rd|th)?, (\d{4})$', text)
        assert m, text
        month, day, year = m.groups()
    return f'{int(year):04}-{MONTHS[month[:3].lower()]:02}-{int(day):02}'


@test
def the_first_paper_of_every_real_digest_has_its_title_authors_and_date():
    """Each table digest's first row, and each record digest's first record, read here without
    the C code (the other shapes are among the hand-checked papers); arXiv-daily's abstract
    blocks give the full author list instead of the row's "X et.al.", so only its first name is
    compared there."""
    checked = 0
    for path in real_files():
        body = open(path, encoding='utf-8', errors='replace').read()
        heading = re.search(r'^## Papers for (\d{4}-\d\d-\d\d)', body, re.M)
        first = first_table_paper(body, heading.group(1) if heading else None)
        record = first_record_paper(body) if first is None else None
        if record is not None:
            rec = by_id(parse(path)[1])[record[0]]
            assert rec['title'] == record[1], (path, rec['title'])
            checked += 1
        if first is None:
            continue
        pid, title, authors, truncated, date = first
        _, recs = parse(path)
        rec = by_id(recs)[pid]
        name = os.path.relpath(path, REAL)
        assert (rec['title'], rec['date']) == (title, date), (name, rec['title'], rec['date'])
        if authors is not None and '#### Abstracts' in body and truncated:
            assert rec['authors'][0] == authors[0], (name, rec['authors'])
        elif authors is not None:
            assert (rec['authors'], rec['authors_truncated']) == (authors, truncated), (name, rec)
        checked += 1
    assert checked >= 45, checked


def by_id(recs):
    return {rec['id']: rec for rec in recs}


@test
def wrapped_short_long_and_blank_separated_rows_are_read():
    r, recs = parse(fixture('parse', 'hf_wrapped.md'), strict=True)
    assert r.returncode == 0 and r.stderr == b'', r.stderr
    got = by_id(recs)
    assert set(got) == {'2503.03601', '2503.07605', '2503.07365', '2503.07002', '2503.07314'}
    assert got['2503.03601']['title'] == ('Feature-Level Insights into Artificial Text '
                                          'Detection with Sparse Autoencoders')
    assert got['2503.07605']['title'] == 'Wrapped Twice Over Three Lines'
    assert got['2503.07365']['abstract'] == 'It estimates Conf(V|X) per step.'
    assert got['2503.07002']['authors'] == ['B. Author'] and got['2503.07002']['abstract'] is None
    assert got['2503.07314']['title'] == 'After A Blank'
    assert {rec['date'] for rec in recs} == {'2025-03-11'}


@test
def front_matter_is_skipped_and_name_and_code_columns_are_known():
    r, recs = parse(fixture('parse', 'front_matter.md'), strict=True)
    assert r.returncode == 0, r.stderr
    assert [(rec['id'], rec['title'], rec['date'], rec['format']) for rec in recs] == [
        ('2402.17177', 'Sora: A Review', '2024-02-28', 'date-table'),
        ('2402.17764', 'The Era of 1-bit LLMs', '2024-02-27', 'date-table')]


@test
def papers_listed_as_headings_and_list_items_are_read_but_badges_are_not():
    r, recs = parse(fixture('parse', 'list_items.md'), strict=True)
    assert r.returncode == 0, r.stderr
    got = by_id(recs)
    assert '2401.00001' not in got  # the project's badge
    assert (got['2509.25454']['title'], got['2509.25454']['authors'],
            got['2509.25454']['abstract']) == ('DeepSearch: Overcome the Bottleneck',
                                               ['Ann Lee', 'Bo Chen'], 'Search beats scale.')
    assert (got['2509.00002']['title'], got['2509.00002']['authors']) == (
        'Listed Paper', ['Carl Diaz', 'Dee Eve'])
    assert (got['2211.16882']['title'], got['2211.16882']['date'],
            got['2211.16882']['authors_truncated']) == ('Bold Title Here', '2022-11-30', True)
    assert (got['2406.11912']['title'], got['2406.11912']['abstract']) == (
        'Heading Title Without Link', 'It matters.')
    assert {rec['format'] for rec in recs} == {'list'}


@test
def unknown_layout_with_paper_links_is_read_by_the_fallback_and_said_so():
    path = fixture('parse', 'unknown_links.txt')
    r, recs = parse(path)
    assert r.returncode == 0
    got = by_id(recs)
    assert set(got) == {'2410.07177', '2410.00001'}
    assert got['2410.00001']['title'] == 'A Named Link'
    assert got['2410.07177']['version'] == 'v2'
    assert {rec['format'] for rec in recs} == {'fallback'}
    err = text(r.stderr)
    assert path in err and '2 papers read by the fallback' in err and 'line 3' in err, err
    assert parse(path, strict=True)[0].returncode == 1


@test
def a_row_the_table_cannot_read_still_gives_its_paper():
    r, recs = parse_text(
        'broken.md',
        '| Title | Authors | Summary |\n|---|---|---|\n'
        '| [Good](https://arxiv.org/abs/2501.00001) | A | S |\n'
        '| | B | see [Orphaned Paper](https://arxiv.org/abs/2501.00002) |\n')
    got = by_id(recs)
    assert got['2501.00001']['format'] == 'hf-daily'
    assert (got['2501.00002']['title'], got['2501.00002']['format']) == (
        'Orphaned Paper', 'fallback')
    err = text(r.stderr)
    assert 'broken.md' in err and '1 only by the fallback' in err and 'line 4' in err, err


@test
def rows_under_a_heading_in_a_layout_no_format_knows_are_each_read_and_said_so():
    # A category heading, then rows the list format cannot read as its items: each row's paper
    # comes out (by the fallback), none is taken for the heading's, and the file is said to be
    # read only partly.
    rows = {
        'tabs.md': ''.join('2025-01-2%d\tTab Row %d\tAnn Lee\t[2501.0020%d](http://arxiv.org/abs/'
                           '2501.0020%d)\n' % (i, i, i, i) for i in range(1, 5)),
        'html.md': '<table>\n' + ''.join(
            '<tr><td>Html Row %d</td><td><a href="http://arxiv.org/abs/2501.0021%d">PDF</a></td>'
            '</tr>\n' % (i, i) for i in range(1, 5)) + '</table>\n',
    }
    for name, body in rows.items():
        r, recs = parse_text(name, '## LLM\n\nPublish Date\tTitle\tAuthors\tPDF\n' + body)
        got = by_id(recs)
        assert len(got) == 4, (name, sorted(got))
        assert all(rec['title'] != 'LLM' and '<' not in rec['title'] for rec in recs), \
            (name, recs)
        assert 'not in a known digest format' in text(r.stderr) or \
            'only partly read' in text(r.stderr), (name, text(r.stderr))


@test
def a_record_without_its_title_is_left_out_loudly_and_lends_none():
    # Records separated by blank lines, one of them without a title: it is skipped with a
    # warning, its paper read by the fallback, and no other record takes its link or its title.
    path = fixture('parse', 'unseen', 'records_missing_and_other_labels.txt')
    r, recs = parse(path)
    got = by_id(recs)
    assert {k: v['title'] for k, v in got.items() if v['format'] != 'fallback'} == {
        '2501.00351': 'Complete First Record', '2501.00353': 'Complete Third Record',
        '2501.00354': 'Labelled Paper Title', '2501.00355': 'Labelled Name'}, got
    assert got['2501.00352']['format'] == 'fallback', got
    assert 'record without a Title' in text(r.stderr), text(r.stderr)


@test
def a_badge_beside_a_title_links_its_paper_and_a_badge_alone_does_not():
    r, recs = parse_text(
        'badges.md',
        '[![arXiv](https://img.shields.io/badge/arXiv-2501.00360-b31b1b.svg)]'
        '(https://arxiv.org/abs/2501.00360)\n\n## Highlights\n'
        '- **Badged Paper** [![arXiv](https://img.shields.io/badge/arXiv-2501.00361-red)]'
        '(https://arxiv.org/abs/2501.00361)\n\n'
        '| Title | Authors | Link |\n|---|---|---|\n'
        '| Table Paper | Ann Lee | [arXiv](https://arxiv.org/abs/2501.00362) |\n')
    got = by_id(recs)
    assert set(got) == {'2501.00361', '2501.00362'}, sorted(got)
    assert got['2501.00361']['title'] == 'Badged Paper', got
    assert 'only partly read' in text(r.stderr), text(r.stderr)


@test
def rows_run_together_on_one_line_lose_neither_paper():
    r, recs = parse_text(
        'joined.md',
        '| Title | Authors | Link |\n|---|---|---|\n'
        '| Row One | Ann Lee | [arXiv](https://arxiv.org/abs/2501.00371) || Row Two | '
        'Bob Ray | [arXiv](https://arxiv.org/abs/2501.00372) |\n'
        '| Row Three | Carl Diaz | [arXiv](https://arxiv.org/abs/2501.00373) |\n')
    got = by_id(recs)
    assert set(got) == {'2501.00371', '2501.00372', '2501.00373'}, sorted(got)
    assert got['2501.00373']['title'] == 'Row Three', got
    assert 'only partly read' in text(r.stderr), text(r.stderr)


@test
def an_item_linking_papers_by_name_gives_each_but_one_citing_another_gives_one():
    r, recs = parse_text(
        'items.md',
        '- [Listed One](https://arxiv.org/abs/2501.00381) / [Listed Two]'
        '(https://arxiv.org/abs/2501.00382) and [Listed Three]'
        '(https://arxiv.org/abs/2501.00383)\n'
        '- [Citing Paper](https://arxiv.org/abs/2501.00384) builds on [Cited Paper]'
        '(https://arxiv.org/abs/2501.00385)\n',
        strict=True)
    assert r.returncode == 0, text(r.stderr)
    assert {rec['id']: rec['title'] for rec in recs} == {
        '2501.00381': 'Listed One', '2501.00382': 'Listed Two', '2501.00383': 'Listed Three',
        '2501.00384': 'Citing Paper'}, recs


@test
def the_fallback_titles_a_paper_of_an_html_list_by_its_anchor_text():
    r, recs = parse_text(
        'list.html.md',
        '<h2>New papers</h2>\n<ul>\n'
        '<li><a href="https://arxiv.org/abs/2501.00221">Anchored &amp; Titled</a></li>\n'
        "<li><a class='x' href='https://arxiv.org/abs/2501.00222v2'>Second <em>One</em>"
        '</a> by Ann Lee</li>\n'
        '<li><a href="https://arxiv.org/abs/2501.00223"><img src="badge.svg"></a></li>\n'
        '</ul>\n')
    got = by_id(recs)
    assert set(got) == {'2501.00221', '2501.00222'}, sorted(got)
    assert got['2501.00221']['title'] == 'Anchored & Titled', got
    assert got['2501.00222']['title'] == 'Second One', got
    assert 'not in a known digest format' in text(r.stderr), text(r.stderr)


# Shapes no generator of shared/digests/real writes, made up as others might: (file, then per
# paper: id, title, authors, date, how the abstract starts or None).
UNSEEN = [
    ('paper_tldr_link_table.md', [
        ('2501.00011', 'Agents That Plan', None, None, 'They plan.'),
        ('2501.00012', 'Tools | Use', None, None, 'Escaped bar.')]),
    ('numbered_bold_links.md', [
        ('2501.00021', 'Reasoning at Scale', ['Ann Lee', 'Bob Ray'], '2025-01-02', None),
        ('2501.00022', 'Second One', None, '2025-01-02', 'A short summary')]),
    ('bullets_with_by.md', [
        ('2501.00031', 'Third Paper', ['Carl Diaz', 'Dee Eve'], None, None),
        ('2501.00032', 'Fourth Paper', None, None, None)]),
    ('plain_title_pdf_column.md', [
        ('2501.00041', 'Title Without Link', ['Eve Fox'], '2025-01-04', None)]),
    ('records_url_abstract.txt', [
        ('2501.00051', 'Record Style', ['Ann Lee'], None, 'Something.'),
        ('2501.00052', 'Second Record', None, None, None)]),
    ('linked_headings_with_fields.md', [
        ('2501.00061', 'Heading Linked Paper', ['Gus Hall', 'Ivy Jones'], None, 'Short.'),
        ('2501.00062', 'Another', ['Kim Lo'], None, 'Another summary.')]),
    ('dash_authors_accents.md', [
        ('2501.00071', '\u00c9mile Paper', ['\u00c9mile Zola', '\u00dcnal \u00d6z'], None, None)]),
    # GitHub-flavoured tables need no outer bars.
    ('pipeless_table.md', [
        ('2501.00081', 'Tables Without Bars', ['Ann Lee'], '2025-01-08', None),
        ('2501.00082', 'Second Bare Row', ['Bob Ray'], '2025-01-07', None)]),
    ('pipeless_hf_table.md', [
        ('2501.00091', 'Open Rows', ['Ann Lee', 'Bob Ray'], '2025-01-09', 'Rows without'),
        ('2501.00092', 'Closed Rows', ['Carl Diaz'], '2025-01-09', 'Still a table')]),
    # A paper named by its DOI, a bare id, an autolink or "arXiv:ID" instead of a Markdown link.
    ('doi_and_bare_id_cells.md', [
        ('2501.00121', 'Linked By DOI', ['Ann Lee'], '2025-01-12', None),
        ('2501.00122', 'Bare Id Cell', ['Bob Ray'], '2025-01-12', None),
        ('2501.00123', 'Autolink Cell', ['Carl Diaz'], '2025-01-12', None),
        ('2501.00124', 'Prefixed Id Cell', ['Dee Eve'], '2025-01-12', None)]),
    ('id_column_table.md', [
        ('2501.00131', 'Id In Its Own Column', None, '2025-01-13', 'The id has'),
        ('2501.00132', 'Linked Id Column', None, '2025-01-13', 'A linked id')]),
    ('links_column_table.md', [
        ('2501.00141', 'Many Links One Cell', ['Ann Lee'], '2025-01-14', 'Two links'),
        ('2501.00142', 'Second Of Many', ['Bob Ray'], '2025-01-14', 'Again')]),
    # Records whose labels are list items, bold, a heading or followed by a dash.
    ('bulleted_records.txt', [
        ('2501.00101', 'Bulleted Record', None, None, 'Records written'),
        ('2501.00102', 'Bold Bulleted Record', ['Ann Lee', 'Bob Ray'], None, None)]),
    ('labelled_records.txt', [
        ('2501.00111', 'Heading Record', None, None, 'A title written'),
        ('2501.00112', 'Bold Key Record', None, None, 'The colon after'),
        ('2501.00113', 'Dashed Record', None, None, 'Dashes instead')]),
    # A heading titles the paper its items link or name by id.
    ('headings_with_link_items.md', [
        ('2501.00151', 'Heading Then Link Items', ['Ann Lee', 'Bob Ray'], None, None),
        ('2501.00152', 'Second Heading Paper', ['Carl Diaz'], None, None)]),
    ('headings_with_id_fields.md', [
        ('2501.00161', 'Heading With An Id Field', ['Ann Lee', 'Bob Ray'], None, 'A paragraph'),
        ('2501.00162', 'Another Id Field', ['Carl Diaz'], None, 'More.')]),
    # Records whose link comes before their title; two links of one paper stay one record.
    ('link_first_records.txt', [
        ('2501.00311', 'Link Before Title', None, None, 'The link comes first.'),
        ('2501.00312', 'Second Link First', None, None, 'Again.'),
        ('2501.00313', 'Two Links One Paper', None, None, None),
        ('2501.00314', 'A Blog Beside The Paper', None, None, None)]),
    # Headings and items decorated: an emoji, a {#anchor}, an HTML anchor, a wiki link.
    ('decorated_headings.md', [
        ('2501.00321', 'Emoji Before The Title', None, None, None),
        ('2501.00322', 'Heading With An Anchor', None, None, None),
        ('2501.00323', 'Heading With An Html Anchor', None, None, None),
        ('2501.00324', 'Wiki Linked Title', None, None, None),
        ('2501.00325', 'Heading With A Trailing Anchor', None, None, None)]),
    # Readers of arXiv papers that keep its paths, and a title linked to another site.
    ('reader_hosts.md', [
        ('2501.00331', 'Read On AlphaXiv', ['Ann Lee'], None, None),
        ('2501.00332', 'Its Overview Page', ['Bob Ray'], None, None),
        ('2501.00333', 'The Short Hugging Face Host', ['Carl Diaz'], None, None),
        ('2501.00334', 'Read On Ar5iv', ['Dee Eve'], None, None)]),
    ('linked_elsewhere_list.md', [
        ('2501.00335', 'Linked Elsewhere First', None, None, None),
        ('2501.00336', 'Found In Prose', None, None, None)]),
    # A list item that links several papers gives each.
    ('several_papers_one_item.md', [
        ('2501.00341', 'First Of Three', None, None, None),
        ('2501.00342', 'Second Of Three', None, None, None),
        ('2501.00343', 'Third Of Three', None, None, None),
        ('2501.00344', 'Alone In Its Item', None, None, None)]),
    # arXiv-daily categories folded in <details>, a table right after an abstract: each
    # abstract ends where the next table begins, and no row is taken into it.
    ('folded_categories.md', [
        ('2501.00391', 'Folded First', ['Ann Lee', 'Bob Ray'], '2025-01-20',
         'The first abstract.'),
        ('2501.00392', 'Row Without A Block', ['Carl Diaz'], '2025-01-21', None),
        ('2501.00393', 'Abstract Before A Table', ['Dee Eve'], None, 'The third abstract.'),
        ('2501.00394', 'After The Abstract', ['Eve Fox'], '2025-01-22', None)]),
    ('bracketed_ids.md', [
        ('2501.00171', 'Bracketed Id Before The Title', None, None, None),
        ('2501.00172', 'Second Bracketed Id', None, None, None)]),
]


@test
def digests_of_shapes_not_seen_in_the_wild_are_read_by_a_format():
    for name, papers in UNSEEN:
        path = fixture('parse', 'unseen', name)
        r, recs = parse(path, strict=True)
        assert r.returncode == 0, (name, text(r.stderr))
        got = by_id(recs)
        assert set(got) == {p[0] for p in papers}, (name, sorted(got))
        for pid, title, authors, date, abstract in papers:
            rec = got[pid]
            assert (rec['title'], rec['authors'], rec['date']) == (title, authors, date), \
                (name, rec)
            assert rec['format'] != 'fallback', (name, rec)
            if abstract is None:
                assert rec['abstract'] is None, (name, rec)
            else:
                assert (rec['abstract'] or '').startswith(abstract), (name, rec)



@test
def an_abstract_folded_in_details_keeps_its_translation_and_no_html():
    r, recs = parse(fixture('parse', 'unseen', 'folded_categories.md'), strict=True)
    got = by_id(recs)
    assert r.returncode == 0, text(r.stderr)
    assert (got['2501.00391']['abstract'], got['2501.00391']['translation']) == (
        'The first abstract.', '\u7b2c\u4e00\u4e2a\u6458\u8981\u3002'), got['2501.00391']
    assert (got['2501.00393']['abstract'], got['2501.00393']['translation']) == (
        'The third abstract.', None), got['2501.00393']


if __name__ == '__main__':
    run()
