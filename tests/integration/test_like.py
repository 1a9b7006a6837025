#!/usr/bin/env python3
"""test_like.py — rules that rank papers by their likeness to a researcher's library, against the
real binary: a daemon with a like: rule alerts through the file channel, most similar first,
with the score and why; an edited library is read again without a restart; check-config names
broken and empty libraries, and `match --query`, which has none, refuses like:NAME; the dry run
`match --like` lists papers most similar first, and with `--min-score 0` every paper, with a
score, however small the digest and the library."""
import json
import math
import os

from harness import (test, run, pw, text, tmpdir, fixture, write_config, read_jsonl, wait_until,
                     Daemon)

ROBOTS = r"""% exported from Zotero
@article{chi2023,
  title = {Diffusion Policy: Visuomotor Policy Learning via Action Diffusion},
  abstract = {We learn robot visuomotor policies as conditional denoising diffusion over actions.},
  author = {Chi, Cheng and Song, Shuran},
  eprint = {2303.04137}, archivePrefix = {arXiv},
}
@article{dexterous,
  title = {Learning Dexterous Robot Manipulation from Human Videos},
  abstract = {Robot hands learn grasping and in-hand manipulation skills from videos of people.},
}
@article{legged,
  title = {Sim-to-Real Reinforcement Learning for Legged Locomotion},
  abstract = {Quadruped robots trained in simulation walk on rough terrain in the real world.},
}
"""

GALAXIES = r"""@article{halo, title = {Dark Matter Halos of Dwarf Galaxies},
  abstract = {Rotation curves of dwarf galaxies constrain the dark matter halo profile.}}
@article{lensing, title = {Weak Lensing Maps of Galaxy Clusters},
  abstract = {We map the dark matter of galaxy clusters with weak gravitational lensing.}}
"""

# Two entries, one without an abstract: a library just begun.
TWO = r"""@article{a, title = {Diffusion Policy: Visuomotor Policy Learning via Action Diffusion},
  abstract = {We introduce diffusion policy for robot visuomotor learning.}, eprint = {2303.04137}}
@article{b, title = {Robot learning from demonstrations with language models}}
"""

PAPERS = [
    ('Diffusion Policies for Dexterous Robot Manipulation',
     'We train diffusion policies for robot hands that grasp and manipulate objects.'),
    ('A Survey of Diffusion Policies for Robots', 'We survey diffusion policies for robots.'),
    ('Tax Policy and Household Saving', 'Household saving responds to changes in tax policy.'),
    ('Legged Robots Walking on Rough Terrain',
     'Reinforcement learning makes quadruped robots walk in the real world.'),
    ('Dark Matter in Dwarf Galaxies', 'Rotation curves of dwarf galaxies and their halos.'),
]


def records(papers, first=1):
    """A Title/PDF/Summary digest of (title, summary) papers, ids 2501.<first> on."""
    return '\n---\n'.join(f'Title: {t}\nPDF: https://arxiv.org/pdf/2501.{i + first:05d}\n'
                          f'Summary: {s}\n' for i, (t, s) in enumerate(papers))


def write(path, data):
    """Writes a file the way an export or an editor replaces one: beside it, then a rename."""
    tmp = os.path.join(os.path.dirname(path), '.' + os.path.basename(path) + '.tmp')
    with open(tmp, 'w') as f:
        f.write(data)
    os.rename(tmp, path)
    return path


def like_setup(library=ROBOTS, rules=None):
    """A folder with library.bib, an inbox, a file channel and like: rules; (dir, conf, out)."""
    d = tmpdir()
    inbox = os.path.join(d, 'inbox')
    os.mkdir(inbox)
    lib = write(os.path.join(d, 'library.bib'), library)
    out = os.path.join(d, 'out.jsonl')
    conf = write_config(os.path.join(d, 'pw.conf'), [{'name': 'out', 'type': 'file', 'path': out}],
                        rules or [{'name': 'mine', 'query': 'like:mine -survey',
                                   'min_score': 0.15}],
                        state=os.path.join(d, 'state.db'), watch={'dir': inbox},
                        delivery={'retry_base': '200ms', 'retry_max': '1s'})
    with open(conf, 'a') as f:
        f.write(f'libraries = ( {{ name = "mine"; file = "{lib}"; }} );\n')
    return d, conf, out


@test
def a_daemon_alerts_papers_like_the_library_most_similar_first_with_why():
    d, conf, out = like_setup(rules=[
        {'name': 'mine', 'query': 'like:mine -survey', 'min_score': 0.15},
        {'name': 'best', 'query': 'like:mine', 'min_score': 0.15, 'top': 1}])
    with Daemon(conf, d) as daemon:
        daemon.start()
        write(os.path.join(d, 'inbox', 'today.txt'), records(PAPERS))
        lines = wait_until(lambda: read_jsonl(out), what='the alerts')
        assert daemon.stop() == 0
    titles = [p['title'] for p in lines]
    assert titles[0] == 'Diffusion Policies for Dexterous Robot Manipulation', titles
    assert 'Legged Robots Walking on Rough Terrain' in titles
    # Off the library's topics, and the survey the query leaves out, are not alerted.
    assert not {'Tax Policy and Household Saving', 'Dark Matter in Dwarf Galaxies',
                'A Survey of Diffusion Policies for Robots'} & set(titles), titles
    scores = [p['score'] for p in lines]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    first = lines[0]
    assert 'like:mine' in first['why'] and 'Learning Dexterous Robot Manipulation' in first['why']
    assert 'shared:' in first['why']
    # top = 1: the rule keeps only the best paper of the digest.
    assert [p['title'] for p in lines if 'best' in p['rules']] == [titles[0]]


@test
def a_library_written_anew_is_read_again_without_a_restart():
    d, conf, out = like_setup()
    lib = os.path.join(d, 'library.bib')
    with Daemon(conf, d) as daemon:
        daemon.start()
        write(lib, GALAXIES)
        wait_until(lambda: 'library "mine" read again: 2 papers' in daemon.log_text(),
                   what='the library read again')
        write(os.path.join(d, 'inbox', 'today.txt'), records(PAPERS))
        lines = wait_until(lambda: read_jsonl(out), what='the alerts')
        # A library that no longer reads keeps the one before.
        write(lib, '')
        wait_until(lambda: 'kept as it was' in daemon.log_text(), what='the refusal')
        write(os.path.join(d, 'inbox', 'more.txt'),
              records([('Weak Lensing of Galaxy Clusters', 'Dark matter maps by lensing.')], 9))
        wait_until(lambda: len(read_jsonl(out)) > len(lines), what='the second alert')
        assert daemon.stop() == 0
    assert [p['title'] for p in lines] == ['Dark Matter in Dwarf Galaxies']
    assert read_jsonl(out)[-1]['title'] == 'Weak Lensing of Galaxy Clusters'


@test
def check_config_names_broken_missing_and_empty_libraries():
    half = ROBOTS.replace('Learning Dexterous Robot Manipulation from Human Videos},',
                          'Learning Dexterous Robot Manipulation from Human Videos,')
    d, conf, _ = like_setup(library=half)
    p = pw('check-config', '-c', conf)
    err = text(p.stderr)
    assert p.returncode == 0, err
    assert 'library.bib:8: unclosed brace' in err and 'left out' in err, err
    write(os.path.join(d, 'library.bib'), '\n% nothing here\n')
    p = pw('check-config', '-c', conf)
    assert p.returncode == 2 and 'library "mine"' in text(p.stderr), text(p.stderr)
    assert 'no entry read' in text(p.stderr), text(p.stderr)
    # A list of ids is a library too, whose papers count once a digest brings them.
    write(os.path.join(d, 'library.bib'), '2303.04137\nhttps://arxiv.org/abs/2501.00001\n')
    p = pw('check-config', '-c', conf)
    assert p.returncode == 0 and '2 arXiv ids: each paper counts once a digest' in \
        text(p.stderr), text(p.stderr)
    write(os.path.join(d, 'library.bib'), 'not an id\n')
    p = pw('check-config', '-c', conf)
    assert p.returncode == 2 and 'library.bib:1: not an arXiv id' in text(p.stderr), \
        text(p.stderr)
    os.unlink(os.path.join(d, 'library.bib'))
    p = pw('check-config', '-c', conf)
    assert p.returncode == 2 and 'No such file or directory' in text(p.stderr), text(p.stderr)
    # A rule naming a library nobody configured.
    with open(conf, 'a') as f:
        f.write('\n')
    bad = write_config(os.path.join(d, 'bad.conf'), [], [{'name': 'r', 'query': 'like:other'}])
    p = pw('check-config', '-c', bad)
    assert p.returncode == 2 and 'like:other names no library' in text(p.stderr), text(p.stderr)


@test
def match_query_refuses_a_library_it_has_not_as_check_config_does():
    d = tmpdir()
    digest = write(os.path.join(d, 'today.txt'), records(PAPERS))
    bad = write_config(os.path.join(d, 'bad.conf'), [], [{'name': 'r', 'query': 'like:mine'}])
    said = text(pw('check-config', '-c', bad).stderr)
    message = 'like:mine names no library (libraries = ( { name = "mine"; file = "..."; } ))'
    assert message in said, said
    # --query has no configuration, so no library: like:NAME could only match nothing.
    for q in ('like:mine', 'robot OR like:mine', '-like:mine'):
        p = pw('match', '--query', q, digest)
        assert p.returncode == 2, (q, text(p.stdout), text(p.stderr))
        assert message in text(p.stderr) and text(p.stdout) == '', (q, text(p.stderr))
    p = pw('match', '--query', 'robot OR like:mine OR like:theirs', digest)
    assert 'like:mine names' in text(p.stderr) and 'like:theirs names' in text(p.stderr), \
        text(p.stderr)


@test
def a_list_of_ids_finds_its_papers_text_in_the_digests_read():
    # The list names a paper of the first digest, and one of a digest to come.
    d, conf, out = like_setup(library='# mine\n2501.00001\nhttps://arxiv.org/abs/2501.00004v2\n')
    with Daemon(conf, d) as daemon:
        daemon.start()
        write(os.path.join(d, 'inbox', 'today.txt'), records(PAPERS))
        wait_until(lambda: '2 papers of the libraries listing ids now known' in
                   daemon.log_text(), what='the papers of the list known')
        write(os.path.join(d, 'inbox', 'later.txt'), records([
            ('Dexterous Robot Hands Learn Manipulation with Diffusion Policies',
             'Diffusion policies let robot hands grasp and manipulate objects.'),
            ('Tax Policy and Household Saving', 'Household saving and tax policy.')], 20))
        lines = wait_until(lambda: read_jsonl(out), what='the alert')
        assert daemon.stop() == 0
    assert [p['title'] for p in lines] == [
        'Dexterous Robot Hands Learn Manipulation with Diffusion Policies'], lines
    assert 'Diffusion Policies for Dexterous Robot Manipulation' in lines[0]['why']
    # The state keeps what was read, so a daemon started again knows the list's papers.
    with Daemon(conf, d) as daemon:
        daemon.start()
        wait_until(lambda: '2 papers of the libraries listing ids known' in daemon.log_text(),
                   what='the papers known again')
        assert daemon.stop() == 0


@test
def the_dry_run_scores_every_paper_most_similar_first_as_json():
    d = tmpdir()
    lib = write(os.path.join(d, 'library.bib'), ROBOTS)
    digest = write(os.path.join(d, 'today.txt'), records(PAPERS))
    p = pw('match', '--like', lib, '--min-score', '0', '--json', digest)
    assert p.returncode == 0, text(p.stderr)
    lines = [json.loads(line) for line in text(p.stdout).splitlines()]
    assert len(lines) == len(PAPERS)
    assert lines[0]['title'] == 'Diffusion Policies for Dexterous Robot Manipulation'
    assert lines[0]['id'] == '2501.00001'
    scores = [x['score'] for x in lines]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    assert lines[0]['why']['closest'] == 'Learning Dexterous Robot Manipulation from Human Videos'
    assert lines[0]['why']['terms']
    # The same inputs, the same scores; the default threshold leaves the unrelated out.
    again = pw('match', '--like', lib, '--min-score', '0', '--json', digest)
    assert text(again.stdout) == text(p.stdout)
    human = text(pw('match', '--like', lib, digest).stdout)
    assert 'Tax Policy' not in human and 'Diffusion Policies for Dexterous' in human
    assert 'scored 0.15 or more against 3 of' in human
    # A CSL JSON export reads too.
    csl = write(os.path.join(d, 'library.json'), json.dumps([
        {'type': 'article', 'title': 'Dark Matter Halos of Dwarf Galaxies',
         'abstract': 'Rotation curves of dwarf galaxies.'}]))
    top = json.loads(text(pw('match', '--like', csl, '--json', digest).stdout).splitlines()[0])
    assert top['title'] == 'Dark Matter in Dwarf Galaxies'
    # Usage errors.
    assert pw('match', '--like', lib, '--min-score', '2', digest).returncode == 2
    assert pw('match', '--min-score', '0.2', '--query', 'x', digest).returncode == 2
    assert pw('match', '--like', os.path.join(d, 'nope.bib'), digest).returncode == 1


@test
def a_small_digest_has_every_paper_scored_against_a_small_library_at_min_score_0():
    # Eight papers, fewer than the IDF waits for before it leaves the library out, every one
    # with words the library lacks ("follow-up questions").
    d, conf, _ = like_setup(library=TWO, rules=[
        {'name': 'mine', 'query': 'like:mine', 'min_score': 0}])
    lib = os.path.join(d, 'library.bib')
    digest = fixture('digests', '002_f9a2c3ce83a5c549.txt')
    p = pw('match', '--like', lib, '--min-score', '0', '--json', digest)
    assert p.returncode == 0, text(p.stderr)
    lines = [json.loads(line) for line in text(p.stdout).splitlines()]
    assert len(lines) == 8, lines
    assert all(math.isfinite(x['score']) and 0 <= x['score'] <= 1 for x in lines), lines
    # The two robotics papers first.
    assert {x['id'] for x in lines[:2]} == {'2410.22325', '2410.21845'}, lines[:2]
    human = text(pw('match', '--like', lib, '--min-score', '0', digest).stdout)
    assert '8 of 8 papers scored 0.00 or more against 2 of' in human, human
    # A rule scores each paper as it is read, as the daemon does: the last ones too.
    p = pw('match', '-c', conf, '--json', digest)
    assert p.returncode == 0, text(p.stderr)
    rule = [json.loads(line) for line in text(p.stdout).splitlines()]
    assert len(rule) == 8, [x['title'] for x in rule]
    assert all(math.isfinite(x['likes']['mine']['score']) for x in rule), rule
    # The same papers, the same words counted: the rule agrees with the dry run on the last one.
    last = rule[-1]['likes']['mine']['score']
    assert last == next(x['score'] for x in lines if x['title'] == rule[-1]['title']), last


if __name__ == '__main__':
    run()
