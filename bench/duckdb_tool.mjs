// DuckDB as an independent peer for benchmarks and optional tests (never used by dpipe itself).
//   node duckdb_tool.mjs gen-doubles OUT ROWS COLS CODEC [FILES] [ROW_GROUP_ROWS]
//       writes ROWS x COLS random DOUBLE columns (c0..c{COLS-1}) to OUT (a file, or a directory
//       of FILES part files), compressed with CODEC (zstd|snappy|uncompressed)
//   node duckdb_tool.mjs scan THREADS PATH_OR_GLOB
//       single query summing every column (forces a full decode), prints seconds and the sums'
//       total as JSON
//   node duckdb_tool.mjs sql "SQL"      runs SQL, prints the rows as JSON
// The npm package @duckdb/node-api is loaded from $DP_DUCKDB_NODE_MODULES (a node_modules folder).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const nm = process.env.DP_DUCKDB_NODE_MODULES || '/work/scratch-examples/node_modules';
const { DuckDBInstance } = createRequire(path.join(nm, 'x.js'))('@duckdb/node-api');

const [cmd, ...args] = process.argv.slice(2);
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();

async function run(sql) {
  const r = await con.runAndReadAll(sql);
  return r.getRowObjectsJson();
}

if (cmd === 'gen-doubles') {
  const [out, rows, cols, codec, files = '1', rg = '122880'] = args;
  const nf = Number(files);
  const per = Math.ceil(Number(rows) / nf);
  // Descriptor-like values: a mix of 3-decimal reals and small counts, seeded.
  const exprs = [];
  for (let j = 0; j < Number(cols); j++) {
    exprs.push(j % 4 === 3
      ? `CAST(floor(random() * 12) AS DOUBLE) AS c${j}`
      : `round(random() * ${100 + j}, 3) AS c${j}`);
  }
  await run('SELECT setseed(0.42)');
  if (nf > 1) fs.mkdirSync(out, { recursive: true });
  for (let f = 0; f < nf; f++) {
    const n = Math.min(per, Number(rows) - f * per);
    const target = nf > 1 ? path.join(out, `part-${String(f).padStart(3, '0')}.parquet`) : out;
    await run(`COPY (SELECT ${exprs.join(', ')} FROM range(${n})) TO '${target}' ` +
              `(FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE ${rg})`);
  }
  console.log(JSON.stringify({ out, rows: Number(rows), cols: Number(cols), codec, files: nf }));
} else if (cmd === 'scan') {
  const [threads, target] = args;
  await run(`SET threads = ${Number(threads)}`);
  const cols = (await run(`SELECT name FROM parquet_schema('${target}') WHERE type = 'DOUBLE'`)).map(r => r.name);
  const sums = cols.map(c => `sum("${c}")`).join(' + ');
  const t0 = process.hrtime.bigint();
  const r = await run(`SELECT count(*) AS n, ${sums} AS s FROM read_parquet('${target}')`);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ seconds: secs, rows: Number(r[0].n), columns: cols.length, total: r[0].s }));
} else if (cmd === 'sql') {
  console.log(JSON.stringify(await run(args[0])));
} else {
  console.error('usage: duckdb_tool.mjs gen-doubles|scan|sql ...');
  process.exit(2);
}
