// Step 2 of examples/make_examples.sh: turn the TSV parts written by make_examples.py into
// Parquet with DuckDB, then read the Parquet back and compare it value by value with the TSV.
//
// usage: node make_examples.mjs NODE_DIR TSV_DIR OUT_DIR
//   NODE_DIR  a directory where `npm install @duckdb/node-api` was run (kept outside the repo)
//   TSV_DIR   output directory of make_examples.py (part-N.tsv, meta.json)
//   OUT_DIR   where part-N.parquet are written (examples/nci_rdkit)
//
// One DuckDB thread, so row groups and bytes are the same on every run.

import { createRequire } from 'node:module';
import { readFileSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [nodeDir, tsvDir, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node make_examples.mjs NODE_DIR TSV_DIR OUT_DIR');
  process.exit(2);
}
const req = createRequire(path.join(path.resolve(nodeDir), 'package.json'));
const { DuckDBInstance } = await import(pathToFileURL(req.resolve('@duckdb/node-api')).href);

const meta = JSON.parse(readFileSync(path.join(tsvDir, 'meta.json'), 'utf8'));
const names = meta.descriptor_names;
const q = (s) => '"' + s.replaceAll('"', '""') + '"';
const lit = (s) => "'" + s.replaceAll("'", "''") + "'";

const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
await con.run('SET threads = 1');
const version = (await con.runAndReadAll('SELECT version()')).getRows()[0][0];

async function rows(sql) {
  return (await con.runAndReadAll(sql)).getRows();
}

function tsvSource(file) {
  // Everything is read as text and cast explicitly below: no type sniffing, no quoting.
  return `read_csv(${lit(file)}, delim='\t', header=true, all_varchar=true, quote='', ` +
    `escape='', auto_detect=false, columns={${['mol_id', 'smiles', ...names]
      .map((n) => `${lit(n)}: 'VARCHAR'`).join(', ')}})`;
}

const select = ['CAST(mol_id AS VARCHAR) AS mol_id', 'CAST(smiles AS VARCHAR) AS smiles',
  ...names.map((n) => `CAST(${q(n)} AS DOUBLE) AS ${q(n)}`)].join(', ');

mkdirSync(outDir, { recursive: true });
let total = 0;
for (let i = 0; i < meta.parts.length; i++) {
  const tsv = path.join(tsvDir, `part-${i}.tsv`);
  const pq = path.join(outDir, `part-${i}.parquet`);
  await con.run(`COPY (SELECT ${select} FROM ${tsvSource(tsv)}) TO ${lit(pq)} ` +
    '(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)');

  // Read back: same rows in the same order, every value identical (DuckDB's = treats nan as
  // equal to nan, and IS DISTINCT FROM catches a NULL that should not be there).
  const diffs = names.map((n) => `count(*) FILTER (WHERE CAST(t.${q(n)} AS DOUBLE) ` +
    `IS DISTINCT FROM p.${q(n)})`).join(' + ');
  const [[nrows, bad, badMeta]] = await rows(
    `WITH t AS (SELECT *, row_number() OVER () AS r FROM ${tsvSource(tsv)}), ` +
    `p AS (SELECT *, row_number() OVER () AS r FROM read_parquet(${lit(pq)})) ` +
    `SELECT count(*), ${diffs}, count(*) FILTER (WHERE t.mol_id IS DISTINCT FROM p.mol_id ` +
    'OR t.smiles IS DISTINCT FROM p.smiles) FROM t FULL JOIN p USING (r)');
  if (Number(nrows) !== meta.parts[i] || Number(bad) !== 0 || Number(badMeta) !== 0) {
    console.error(`${pq}: ${nrows} rows (want ${meta.parts[i]}), ${bad} descriptor and ` +
      `${badMeta} metadata values differ from ${tsv}`);
    process.exit(1);
  }
  const [[rgs, ncols]] = await rows(`SELECT count(DISTINCT row_group_id), ` +
    `count(DISTINCT path_in_schema) FROM parquet_metadata(${lit(pq)})`);
  console.log(`${pq}: ${nrows} rows, ${ncols} columns, ${rgs} row groups, ` +
    `${statSync(pq).size} bytes, identical to ${tsv}`);
  total += Number(nrows);
}
console.log(`DuckDB ${version}: ${total} rows in ${meta.parts.length} files`);
con.closeSync();
