// Interop test: the official Node OSS client (ali-oss, npm) against ossmp-emulator.
// usage: node interop.js PATH/TO/ossmp-emulator
// Starts the emulator on port 0 and runs, with signature V1 and V4 (path-style):
// multipartUpload of a 5 MiB+ file in 3 parts, listParts, listUploads (with prefix),
// abortMultipartUpload, put/get/head, and a wrong-key request that must fail with
// SignatureDoesNotMatch. Exits non-zero on the first failure.
'use strict';
const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const OSS = require('ali-oss');

const AK = 'interop-ak';
const SK = 'interop-secret-key';
const BUCKET = 'interop';
let failures = 0;
let passes = 0;

function check(cond, what) {
  if (cond) {
    passes++;
    console.log(`  ok   ${what}`);
  } else {
    failures++;
    console.log(`  FAIL ${what}`);
  }
}

function startEmulator(bin) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--listen', '127.0.0.1:0', '--bucket', BUCKET,
      '--credentials', `${AK}:${SK}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const rl = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('emulator did not start in 10 s')), 10000);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`emulator exited early with ${code}`)));
    rl.once('line', (line) => {
      clearTimeout(timer);
      const m = /^ossmp-emulator listening on (http:\/\/\S+)$/.exec(line);
      if (!m) return reject(new Error(`unexpected first line: ${line}`));
      resolve({ child, endpoint: m[1] });
    });
  });
}

function client(endpoint, v4, secret = SK) {
  return new OSS({
    endpoint, secure: false, region: 'oss-cn-hangzhou', bucket: BUCKET,
    accessKeyId: AK, accessKeySecret: secret, sldEnable: true, authorizationV4: v4,
    timeout: 30000, retryMax: 0,
  });
}

async function scenario(endpoint, v4) {
  const tag = v4 ? 'v4' : 'v1';
  console.log(`-- signature ${tag}, path-style`);
  const c = client(endpoint, v4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ossmp-interop-'));
  const file = path.join(dir, 'big.bin');
  const data = crypto.randomBytes(5 * 1024 * 1024 + 12345);
  fs.writeFileSync(file, data);
  const key = `interop/${tag}/big file+1.bin`;

  // multipartUpload: 3 parts of 2 MiB, 2 MiB, rest.
  const mp = await c.multipartUpload(key, file, { parallel: 2, partSize: 2 * 1024 * 1024 });
  check(mp.res && mp.res.status === 200, `${tag} multipartUpload completes (status ${mp.res && mp.res.status})`);
  const got = await c.get(key);
  check(Buffer.compare(got.content, data) === 0, `${tag} multipart object reads back byte-identical`);
  const head = await c.head(key);
  check(Number(head.res.headers['content-length']) === data.length, `${tag} head size ${head.res.headers['content-length']}`);
  check(/^"[0-9A-F]{32}-3"$/.test(head.res.headers.etag), `${tag} multipart ETag ${head.res.headers.etag} ends in -3`);

  // Manual multipart: init, two parts, listParts, listUploads (prefix), abort.
  const mkey = `interop/${tag}/manual.bin`;
  const init = await c.initMultipartUpload(mkey);
  check(typeof init.uploadId === 'string' && init.uploadId.length > 0, `${tag} initMultipartUpload returns an upload id`);
  const p1 = await c.uploadPart(mkey, init.uploadId, 1, file, 0, 200 * 1024);
  const p2 = await c.uploadPart(mkey, init.uploadId, 2, file, 200 * 1024, 300 * 1024);
  const md5 = (b) => `"${crypto.createHash('md5').update(b).digest('hex').toUpperCase()}"`;
  check(p1.etag === md5(data.subarray(0, 200 * 1024)), `${tag} uploadPart 1 ETag is the part's MD5`);
  const lp = await c.listParts(mkey, init.uploadId);
  check(lp.parts.length === 2 && Number(lp.parts[0].PartNumber) === 1 && Number(lp.parts[1].Size) === 100 * 1024,
    `${tag} listParts lists 2 parts`);
  check(p2.etag === lp.parts[1].ETag, `${tag} listParts ETag matches uploadPart's`);
  const lu = await c.listUploads({ prefix: `interop/${tag}/man` });
  check(lu.uploads.length === 1 && lu.uploads[0].name === mkey && lu.uploads[0].uploadId === init.uploadId,
    `${tag} listUploads with prefix finds exactly the open upload`);
  const ab = await c.abortMultipartUpload(mkey, init.uploadId);
  check(ab.res.status === 204, `${tag} abortMultipartUpload answers 204`);
  const lu2 = await c.listUploads({ prefix: `interop/${tag}/man` });
  check(lu2.uploads.length === 0, `${tag} aborted upload is gone from listUploads`);

  // Simple object calls.
  const small = crypto.randomBytes(4321);
  const put = await c.put(`interop/${tag}/small.bin`, small);
  check(put.res.status === 200, `${tag} put`);
  const g = await c.get(`interop/${tag}/small.bin`);
  check(Buffer.compare(g.content, small) === 0, `${tag} get returns the same bytes`);
  const h = await c.head(`interop/${tag}/small.bin`);
  check(h.res.headers.etag === md5(small), `${tag} head ETag is the MD5`);

  // Wrong key.
  const bad = client(endpoint, v4, 'not-the-secret');
  let code = null;
  try {
    await bad.put(`interop/${tag}/nope.bin`, small);
  } catch (e) {
    code = e.code;
  }
  check(code === 'SignatureDoesNotMatch', `${tag} wrong key fails with SignatureDoesNotMatch (got ${code})`);
  fs.rmSync(dir, { recursive: true, force: true });
}

async function main() {
  const bin = process.argv[2];
  if (!bin) {
    console.error('usage: node interop.js PATH/TO/ossmp-emulator');
    process.exit(2);
  }
  const { child, endpoint } = await startEmulator(bin);
  child.removeAllListeners('exit');
  try {
    for (const v4 of [false, true]) {
      try {
        await scenario(endpoint, v4);
      } catch (e) {
        failures++;
        console.log(`  FAIL ${v4 ? 'v4' : 'v1'} scenario threw: ${e.code || ''} ${e.message}`);
      }
    }
  } finally {
    child.kill('SIGTERM');
  }
  console.log(`interop: ${passes} passed, ${failures} failed`);
  process.exit(failures === 0 && passes > 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
