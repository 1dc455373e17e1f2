// alioss_upload.js: the official Node client (ali-oss 6.23.0, pinned by tests/interop) against
// `ossmp cp`, uploading the same page-cached file to the same `ossmp-emulator --storage sink`.
//
//   node benchmarks/alioss_upload.js --emulator PATH --ossmp PATH [--size SIZE] [--rounds N]
//                                    [--quick]
//
// SIZE takes K, M, G suffixes (binary); default 1G, 3 rounds; --quick: 32M, 1 round. ali-oss
// comes from tests/interop/node_modules (`npm ci` there). Every upload is a client process of
// its own, run under /usr/bin/time (which reports the process's user + system CPU and peak
// RSS); the wall time is taken around it here. The emulator is another process, started once
// with --storage sink (it parses, authenticates and CRC-64s every body and keeps nothing).
//   ali-oss  `multipartUpload(key, file, {parallel, partSize: 8 MiB})` at parallel 4 and 8 (its
//            best settings here), in a `node` child process that loads ali-oss, uploads once
//            and checks that Complete answered 200. The child also reports the upload call's
//            own time and CPU (process.cpuUsage around the call, so without node's start-up
//            and loading ali-oss): information, printed beside the process figures.
//   ossmp    `ossmp --path-style cp FILE oss://bench/KEY --parallel 4 --part-size 8M --no-checkpoint
//            --no-progress` (exit status 0: the uploaded object's CRC-64 matched the file's).
// Rounds alternate the order of the three uploads; each figure is the median over rounds.
// Targets (issue 14): ossmp >= 2x the throughput of ali-oss's faster setting, and <= 1/3 of
// the CPU seconds per GiB of ali-oss's cheaper setting (both as whole client processes).
// With OSSMP_BENCH_ROWS=FILE in the environment the figures are also appended to FILE as
// tab-separated rows (see bench_rows.hpp; scripts/bench collects them). Exits non-zero when
// an upload fails, never for a missed target.
//
// Internal: `node alioss_upload.js --client ENDPOINT FILE KEY PARALLEL PART_SIZE` is the ali-oss
// child; it prints one JSON line {seconds, cpu}.
'use strict';
const { spawn, spawnSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');

const AK = 'bench-ak';
const SK = 'bench-secret-key';
const BUCKET = 'bench';
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const PART_SIZE = 8 * MIB;

function loadAliOss() {
  return require(path.join(__dirname, '..', 'tests', 'interop', 'node_modules', 'ali-oss'));
}

async function clientMain(args) {
  const [endpoint, file, key, parallel, partSize] = args;
  const OSS = loadAliOss();
  const c = new OSS({
    endpoint, secure: false, region: 'oss-cn-hangzhou', bucket: BUCKET,
    accessKeyId: AK, accessKeySecret: SK, sldEnable: true, timeout: 600000,
  });
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const res = await c.multipartUpload(key, file, {
    parallel: Number(parallel), partSize: Number(partSize),
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  if (!res || !res.res || res.res.status !== 200) {
    throw new Error(`Complete answered ${res && res.res ? res.res.status : 'nothing'}`);
  }
  console.log(JSON.stringify({ seconds, cpu: (cpu.user + cpu.system) / 1e6 }));
}

function parseSize(s) {
  const m = /^([0-9.]+)([KMG]?)$/i.exec(s);
  if (!m) throw new Error(`bad size '${s}'`);
  const mult = { '': 1, K: 1024, M: MIB, G: GIB }[m[2].toUpperCase()];
  return Math.floor(Number(m[1]) * mult);
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function startEmulator(bin) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--listen', '127.0.0.1:0', '--storage', 'sink', '--bucket', BUCKET,
      '--credentials', `${AK}:${SK}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const rl = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('emulator did not start in 10 s')), 10000);
    child.on('error', reject);
    rl.once('line', (line) => {
      clearTimeout(timer);
      const m = /^ossmp-emulator listening on (http:\/\/\S+)$/.exec(line);
      if (!m) return reject(new Error(`unexpected first line: ${line}`));
      resolve({ child, endpoint: m[1] });
    });
  });
}

// A file of random bytes, flushed to disk, then read once (page-cached for every upload).
function makeFile(size) {
  const file = path.join(os.tmpdir(), `alioss-bench-${process.pid}.bin`);
  const fd = fs.openSync(file, 'w', 0o600);
  const chunk = crypto.randomBytes(8 * MIB);
  for (let done = 0; done < size;) {
    const n = Math.min(chunk.length, size - done);
    fs.writeSync(fd, chunk, 0, n);
    done += n;
  }
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  const rfd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(8 * MIB);
  while (fs.readSync(rfd, buf, 0, buf.length, null) > 0) { /* into the page cache */ }
  fs.closeSync(rfd);
  return file;
}

// Runs argv under /usr/bin/time; returns wall seconds, CPU seconds (user + system), peak RSS
// (MiB) and stdout.
function timed(argv, env) {
  const tfile = path.join(os.tmpdir(), `alioss-bench-time-${process.pid}.txt`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', '-o', tfile, ...argv],
    { env, encoding: 'utf8', maxBuffer: 16 * MIB });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 && fs.existsSync(tfile)) fs.unlinkSync(tfile);
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${argv.join(' ')} exited with ${r.status}:\n${r.stdout}${r.stderr}`);
  }
  const last = fs.readFileSync(tfile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  fs.unlinkSync(tfile);
  return { wall, cpu: last[0] + last[1], rssMib: last[2] / 1024, stdout: r.stdout };
}

function row(figure, value, unit, limit, target, pass) {
  const file = process.env.OSSMP_BENCH_ROWS;
  if (!file) return;
  const lim = limit > 0 ? String(Number(limit.toPrecision(6))) : '-';
  const ratio = limit > 0 ? String(Number((value / limit).toPrecision(4))) : '-';
  const info = !target || target === '-';
  fs.appendFileSync(file, ['alioss', figure, String(Number(value.toPrecision(6))), unit, lim,
    ratio, info ? '-' : target, info ? 'info' : (pass ? 'ok' : 'MISS')].join('\t') + '\n');
}

async function main() {
  const argv = process.argv.slice(2);
  if (argv[0] === '--client') return clientMain(argv.slice(1));
  let emulator = null, ossmp = null, size = GIB, rounds = 3, sizeGiven = false, roundsGiven = false;
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--emulator') emulator = argv[++i];
    else if (a === '--ossmp') ossmp = argv[++i];
    else if (a === '--size') { size = parseSize(argv[++i]); sizeGiven = true; }
    else if (a === '--rounds') { rounds = Number(argv[++i]); roundsGiven = true; }
    else if (a === '--quick') {
      if (!sizeGiven) size = 32 * MIB;
      if (!roundsGiven) rounds = 1;
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!emulator || !ossmp || !(rounds >= 1) || size < 2 * PART_SIZE) {
    throw new Error('usage: alioss_upload.js --emulator PATH --ossmp PATH [--size SIZE >= 16M] ' +
      '[--rounds N] [--quick]');
  }
  if (!fs.existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is missing (scripts/install-deps)');
  loadAliOss(); // fail early when tests/interop/node_modules is missing

  console.log(`alioss_upload: ${(size / MIB).toFixed(0)} MiB file, ${rounds} round(s), ` +
    `${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(2)}`);
  const file = makeFile(size);
  const emu = await startEmulator(emulator);
  const env = { ...process.env, OSS_ACCESS_KEY_ID: AK, OSS_ACCESS_KEY_SECRET: SK };
  let serial = 0;
  const runs = {
    'alioss-p4': () => {
      const key = `alioss/${++serial}`;
      const t = timed([process.execPath, __filename, '--client', emu.endpoint, file, key, '4',
        String(PART_SIZE)], env);
      return { ...t, inner: JSON.parse(t.stdout.trim().split('\n').pop()) };
    },
    'alioss-p8': () => {
      const key = `alioss/${++serial}`;
      const t = timed([process.execPath, __filename, '--client', emu.endpoint, file, key, '8',
        String(PART_SIZE)], env);
      return { ...t, inner: JSON.parse(t.stdout.trim().split('\n').pop()) };
    },
    'ossmp-p4': () => timed([ossmp, '--endpoint', emu.endpoint, '--path-style', '--region',
      'cn-hangzhou', 'cp', file,
      `oss://${BUCKET}/ossmp/${++serial}`, '--parallel', '4', '--part-size', '8M',
      '--no-checkpoint', '--no-progress'], env),
  };
  const results = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  const gib = size / GIB;
  try {
    for (let r = 1; r <= rounds; ++r) {
      const order = r % 2 ? Object.keys(runs) : Object.keys(runs).reverse();
      console.log(`round ${r}`);
      for (const k of order) {
        const x = runs[k]();
        results[k].push(x);
        const inner = x.inner ? `  (upload call: ${(size / x.inner.seconds / 1e6).toFixed(1)} MB/s, ` +
          `${(x.inner.cpu / gib).toFixed(3)} CPU-s/GiB)` : '';
        console.log(`    ${k.padEnd(10)} ${(size / x.wall / 1e6).toFixed(1).padStart(8)} MB/s  ` +
          `${(x.cpu / gib).toFixed(3)} CPU-s/GiB  peak RSS ${x.rssMib.toFixed(1)} MiB${inner}`);
      }
    }
  } finally {
    emu.child.kill('SIGTERM');
    fs.unlinkSync(file);
  }

  const fig = (k) => ({
    mbps: median(results[k].map((x) => size / x.wall / 1e6)),
    cpu: median(results[k].map((x) => x.cpu / gib)),
    rss: Math.max(...results[k].map((x) => x.rssMib)),
    innerMbps: results[k][0].inner ? median(results[k].map((x) => size / x.inner.seconds / 1e6)) : 0,
    innerCpu: results[k][0].inner ? median(results[k].map((x) => x.inner.cpu / gib)) : 0,
  });
  const p4 = fig('alioss-p4'), p8 = fig('alioss-p8'), o = fig('ossmp-p4');
  const bestMbps = Math.max(p4.mbps, p8.mbps);
  const bestCpu = Math.min(p4.cpu, p8.cpu);
  const lines = [];
  const add = (name, value, unit, limit, target, pass) => {
    lines.push([name, value, unit, limit, target, pass]);
    row(name, value, unit, limit, target, pass);
  };
  for (const [label, f] of [['ali-oss multipartUpload parallel 4, 8 MiB', p4],
    ['ali-oss multipartUpload parallel 8, 8 MiB', p8]]) {
    add(label, f.mbps, 'MB/s', 0, '-', true);
    add(`${label}: CPU`, f.cpu, 's/GiB', 0, '-', true);
    add(`${label}: peak RSS`, f.rss, 'MiB', 0, '-', true);
    add(`${label}: upload call alone`, f.innerMbps, 'MB/s', 0, '-', true);
    add(`${label}: upload call alone: CPU`, f.innerCpu, 's/GiB', 0, '-', true);
  }
  add('ossmp cp --parallel 4, 8 MiB (vs faster ali-oss)', o.mbps, 'MB/s', bestMbps, '>= 2x',
    o.mbps >= 2 * bestMbps);
  add('ossmp cp: CPU (vs cheaper ali-oss)', o.cpu, 's/GiB', bestCpu, '<= 0.333x',
    o.cpu <= bestCpu / 3);
  add('ossmp cp: peak RSS', o.rss, 'MiB', 0, '-', true);
  console.log(`\nmedians over ${rounds} round(s); whole client processes; MB = 1e6 bytes`);
  for (const [name, value, unit, limit, target, pass] of lines) {
    const info = target === '-';
    const ratio = limit > 0 ? `${(value / limit).toFixed(3)}x` : '-';
    console.log(`${name.padEnd(66)} ${value.toFixed(3).padStart(10)} ${unit.padEnd(6)} ` +
      `${ratio.padStart(8)}  ${target.padEnd(10)} ${info ? 'info' : (pass ? 'ok' : 'MISS')}`);
  }
}

main().catch((e) => {
  console.error(`alioss_upload: ${e.stack || e}`);
  process.exit(1);
});
