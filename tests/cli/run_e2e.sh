#!/usr/bin/env bash
# dpipe run end to end on a `dpipe gen` dataset with known structure (truth.json): the planted
# constant column goes in pass 1, monotone groups and duplicates in pass 2 (representative inside
# the group), the planted linear combination in pass 3 (heir inside it), the nonlinear partners
# (x^2, sin 3x, circle) in pass 4 (merged with their partner), independent columns all stay, and
# clusters.json accounts for every removed descriptor exactly once.
set -u
DPIPE=$1
ROOT=$2
fail() { echo "FAIL: $*"; exit 1; }
"$DPIPE" --version | grep -q "zstd" || { echo "SKIP: this build lacks zstd"; exit 77; }
/usr/bin/python3 -c 'import json' 2>/dev/null || { echo "SKIP: no /usr/bin/python3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$DPIPE" gen -q -o "$tmp/g" --rows 20000 --cols 60 --files 2 --seed 5 --row-group-rows 4000 || fail "gen"
"$DPIPE" run -q "$tmp/g" --output-dir "$tmp/r" --n-metadata 1 || fail "run"
for f in final_descriptors.txt pass1_statistics.tsv pass1_columns.txt pass2_spearman_matrix.npy \
         pass2_clusters.json pass2_columns.txt pass3_vif.json pass3_columns.txt \
         pass4_hsic_matrix.npy pass4_rdc_matrix.npy pass4_nonlinear.json columns.json \
         summary.json clusters.json manifest.json config.conf; do
  [ -s "$tmp/r/$f" ] || fail "missing output $f"
done
/usr/bin/python3 - "$tmp" <<'PY' || fail "planted structure not recovered"
import json, sys
d = sys.argv[1]
truth = json.load(open(d + '/g/truth.json'))
final = open(d + '/r/final_descriptors.txt').read().split()
p1 = {l.split('\t')[0]: l.split('\t') for l in open(d + '/r/pass1_statistics.tsv').read().splitlines()[1:]}
p2 = json.load(open(d + '/r/pass2_clusters.json'))
p3 = json.load(open(d + '/r/pass3_vif.json'))
p4 = json.load(open(d + '/r/pass4_nonlinear.json'))
cl = json.load(open(d + '/r/clusters.json'))
rm2, rm4 = p2['removed'], p4['removed']
rm3 = {x['name']: x['heir'] for x in p3['removed']}
for r in truth['relations']:
    m, t = r['members'], r['type']
    if t == 'constant':
        assert p1[m[0]][1] == 'no' and p1[m[0]][2].startswith('constant'), r
    elif t in ('monotone', 'duplicate'):
        kept = [x for x in m if x not in rm2]
        assert len(kept) == 1, (r, kept)
        assert all(rm2[x] == kept[0] for x in m if x != kept[0]), r
    elif t == 'linear_combination':
        gone = [x for x in m if x in rm3]
        assert len(gone) == 1 and rm3[gone[0]] in m, (r, gone)
    elif t == 'nonlinear':
        a, b = m
        assert (a in rm4 and rm4[a] == b) or (b in rm4 and rm4[b] == a), r
    elif t == 'noise':
        assert all(x in final for x in m), [x for x in m if x not in final]
# Every removed descriptor exactly once in clusters.json; every final descriptor listed.
seen = []
for f, e in cl['descriptors'].items():
    assert f in final
    seen += [a['name'] for a in e['alternatives']]
seen += [u['name'] for u in cl['unassigned']]
assert len(seen) == len(set(seen)), 'a removed descriptor appears twice'
removed = set(p1) - set(final)
assert set(seen) == removed, (removed - set(seen), set(seen) - removed)
assert set(cl['descriptors']) == set(final)
# A pass-2 removal whose representative was removed later belongs to that one's owner.
s = json.load(open(d + '/r/summary.json'))
assert s['initial'] == 60 and s['final'] == len(final), s
print('planted structure recovered; %d final descriptors' % len(final))
PY
# Pass 0: K rows per file, and the later passes read every sampled row (not a sample of it).
"$DPIPE" run -q "$tmp/g" --output-dir "$tmp/s" --n-metadata 1 --sample-per-file 3000 || fail "run --sample-per-file"
[ -s "$tmp/s/sampled_data.parquet" ] || fail "no sampled_data.parquet"
awk -F'\t' 'NR==2 {exit ($4==6000) ? 0 : 1}' "$tmp/s/pass1_statistics.tsv" || fail "pass 1 must read the 2 x 3000 sampled rows"
echo ok
