"""Comparing a live tree with a backup's index, streamed: order, limits, fallback."""

from __future__ import annotations

import os

from ansible_collections.cloudos.ops.plugins.module_utils._backup import archive, plan


def _tree(root):
    # Names chosen so that plain string order, component order and walk order all differ.
    for rel in ('a/b/c.txt', 'a/b.txt', 'a-b/x', 'a.b', 'A/z', 'b', 'a/b/d/e', 'zz/a/b/c/d'):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as handle:
            handle.write(rel)
    os.makedirs(os.path.join(root, 'empty'))
    os.symlink('a/b.txt', os.path.join(root, 'link'))


def _index(root, top='t'):
    return [plan.live_record(full, arc, with_hash=True) for full, arc, _rel in archive.walk_source(root, top)]


def test_walk_key_sorts_exactly_like_the_walk(tmp_path):
    _tree(str(tmp_path))
    arcs = [arc for _full, arc, _rel in archive.walk_source(str(tmp_path), 't')]
    assert len(arcs) > 15
    assert sorted(arcs, key=plan.walk_key) == arcs
    assert sorted(arcs) != arcs  # the walk is not plain string order, so the key matters


def test_identical_tree_is_all_same(tmp_path):
    _tree(str(tmp_path))
    records = _index(str(tmp_path))
    res = plan.compare_tree(str(tmp_path), 't', records)
    assert res['counts'] == {'created': 0, 'changed': 0, 'removed': 0}
    assert res['same'] == len(records)
    assert not plan.has_changes(res)


def test_created_changed_removed_are_found_in_a_stream(tmp_path):
    _tree(str(tmp_path))
    records = _index(str(tmp_path))
    os.unlink(str(tmp_path / 'a' / 'b' / 'c.txt'))
    (tmp_path / 'a.b').write_text('different length')
    (tmp_path / 'a' / 'new').write_text('live only')
    calls = []

    def opener():
        calls.append(1)
        return iter(records)  # a one-shot stream, like an index file

    res = plan.compare_tree(str(tmp_path), 't', opener)
    assert calls == [1]
    assert res['created'] == ['t/a/b/c.txt']
    assert [c['path'] for c in res['changed']] == ['t/a.b']
    assert res['removed'] == ['t/a/new']
    # mtime of the parent directories changed too, but directories are not compared on mtime
    assert plan.summary(res) == {'created': 1, 'changed': 1, 'removed': 1, 'same': len(records) - 2}
    diff = plan.render_diff('/srv/t', res)
    assert 't/a/b/c.txt file' in diff['after'] and 't/a/new (only live' in diff['before']


def test_lists_are_bounded_but_counts_are_complete(tmp_path):
    root = tmp_path / 'big'
    root.mkdir()
    for number in range(50):
        (root / ('f%03d' % number)).write_text('x')
    records = _index(str(root))
    res = plan.compare_tree(None, 't', records, limit=10)
    assert res['counts']['created'] == 51 and len(res['created']) == 10
    assert set(res['records']) == set(res['created'])
    diff = plan.render_diff('/srv/t', res)
    assert diff['after'].rstrip().endswith('... 41 more')


def test_unordered_index_falls_back_to_sorting(tmp_path):
    _tree(str(tmp_path))
    records = _index(str(tmp_path))
    shuffled = list(reversed(records))
    res = plan.compare_tree(str(tmp_path), 't', shuffled)
    assert res['same'] == len(records) and not plan.has_changes(res)
