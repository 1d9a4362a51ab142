// Benchmark peer: the official Hugging Face client moving a directory to
// and from a dataset repository, as a user of @huggingface/hub would.
//
//   node peer.mjs upload   <hub-url> <token> <namespace/name> <dir>
//   node peer.mjs download <hub-url> <token> <namespace/name> <dir>
//
// Upload is one uploadFiles commit of every file (file-backed Blobs, so
// nothing is read into memory up front); download lists the repository and
// runs downloadFile for four files at a time, streaming each to disk.
import { mkdir, readdir } from "node:fs/promises";
import { createWriteStream, openAsBlob } from "node:fs";
import { dirname, join, relative } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createRepo, downloadFile, listFiles, uploadFiles } from "@huggingface/hub";

const [mode, hubUrl, accessToken, name, dir] = process.argv.slice(2);
if (!["upload", "download"].includes(mode) || !dir) {
  console.error("usage: node peer.mjs upload|download <hub-url> <token> <namespace/name> <dir>");
  process.exit(2);
}
const auth = { hubUrl, accessToken };
const repo = { type: "dataset", name };

async function walk(d) {
  const out = [];
  for (const e of await readdir(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

if (mode === "upload") {
  try {
    await createRepo({ ...auth, repo });
  } catch (err) {
    if (err.statusCode !== 409) throw err;
  }
  const files = [];
  for (const p of await walk(dir)) files.push({ path: relative(dir, p), content: await openAsBlob(p) });
  await uploadFiles({ ...auth, repo, files, commitTitle: "upload" });
} else {
  const paths = [];
  for await (const e of listFiles({ ...auth, repo, recursive: true })) if (e.type === "file") paths.push(e.path);
  let next = 0;
  async function worker() {
    while (next < paths.length) {
      const p = paths[next++];
      const blob = await downloadFile({ ...auth, repo, path: p });
      if (blob === null) throw new Error(`${p}: not found`);
      const dst = join(dir, p);
      await mkdir(dirname(dst), { recursive: true });
      await pipeline(Readable.fromWeb(blob.stream()), createWriteStream(dst));
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()]);
}
