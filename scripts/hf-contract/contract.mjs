// Contract test: the official Hugging Face client (@huggingface/hub, pinned
// in package.json) against a hub at the given URL. Proves that the test hub
// in registry/hf/hubtest speaks the protocol the real Hub speaks.
//
//   node contract.mjs <hub-url> <write-token>
//
// Exits 0 and prints "contract ok: N checks" when every check passes.
import { createHash, randomBytes } from "node:crypto";
import {
  createBranch,
  createRepo,
  deleteFile,
  deleteRepo,
  downloadFile,
  fileExists,
  listDatasets,
  listFiles,
  pathsInfo,
  repoExists,
  uploadFiles,
  whoAmI,
} from "@huggingface/hub";

const [hubUrl, accessToken] = process.argv.slice(2);
if (!hubUrl || !accessToken) {
  console.error("usage: node contract.mjs <hub-url> <write-token>");
  process.exit(2);
}

let checks = 0;
function check(cond, what) {
  if (!cond) throw new Error(`contract check failed: ${what}`);
  checks++;
}
async function rejects(promise, status, what) {
  try {
    await promise;
  } catch (err) {
    check(err.statusCode === status, `${what}: status ${err.statusCode}, want ${status} (${err.message})`);
    return;
  }
  check(false, `${what}: succeeded, want HTTP ${status}`);
}
const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");
const bytesOf = async (blob) => Buffer.from(await blob.arrayBuffer());

const auth = { hubUrl, accessToken };
const me = await whoAmI(auth);
check(typeof me.name === "string" && me.name.length > 0, "whoAmI returns a name");
const ns = me.name;
const repo = { type: "dataset", name: `${ns}/contract` };

// Create; a second create is a conflict.
const created = await createRepo({ ...auth, repo });
check(created.repoUrl.endsWith(`/datasets/${ns}/contract`), `createRepo url ${created.repoUrl}`);
await rejects(createRepo({ ...auth, repo }), 409, "createRepo twice");
check(await repoExists({ ...auth, repo }), "repoExists after create");
check(!(await repoExists({ ...auth, repo: { type: "dataset", name: `${ns}/nope` } })), "repoExists on a missing repo");

// Upload: a small text file (regular), a >1 MB binary (LFS, one PUT), a
// 12.5 MB binary (LFS multipart), and a few nested files for pagination.
const small = Buffer.from("hello from the contract test\n");
const lfs = randomBytes(1_500_000);
const multipart = randomBytes(12_500_000);
const nested = [1, 2, 3, 4].map((i) => Buffer.from(`nested ${i}\n`));
const files = [
  { path: "small.txt", content: new Blob([small]) },
  { path: "data/lfs.raw", content: new Blob([lfs]) },
  { path: "data/multipart.raw", content: new Blob([multipart]) },
  ...nested.map((b, i) => ({ path: `dir/sub/n${i}.txt`, content: new Blob([b]) })),
];
const out = await uploadFiles({ ...auth, repo, files, commitTitle: "contract upload" });
check(/^[0-9a-f]{40}$/.test(out.commit.oid), `commit oid ${out.commit.oid}`);

// List with pagination (the test hub is started with a small page size).
const listed = [];
for await (const e of listFiles({ ...auth, repo, recursive: true })) listed.push(e);
const byPath = new Map(listed.map((e) => [e.path, e]));
for (const f of files) check(byPath.get(f.path)?.type === "file", `listFiles has ${f.path}`);
check(byPath.get("dir")?.type === "directory", "listFiles has directory dir");
check(byPath.get("data/lfs.raw").lfs?.oid === sha256(lfs), "LFS oid of lfs.raw is its sha256");
check(byPath.get("data/multipart.raw").lfs?.size === multipart.length, "LFS size of multipart.raw");
check(byPath.get("small.txt").lfs === undefined, "small.txt is a regular file");
check(byPath.get("small.txt").size === small.length, "small.txt size");

// Download byte-exact, including a ranged slice of an LFS file.
for (const [p, want] of [["small.txt", small], ["data/lfs.raw", lfs], ["data/multipart.raw", multipart]]) {
  const blob = await downloadFile({ ...auth, repo, path: p });
  check(blob !== null, `downloadFile ${p}`);
  check(sha256(await bytesOf(blob)) === sha256(want), `downloadFile ${p} byte-exact`);
}
const big = await downloadFile({ ...auth, repo, path: "data/multipart.raw" });
const slice = await bytesOf(big.slice(5_000_000, 5_000_100));
check(slice.equals(multipart.subarray(5_000_000, 5_000_100)), "ranged slice of multipart.raw");
check((await downloadFile({ ...auth, repo, path: "missing.bin" })) === null, "missing file → null");
check(await fileExists({ ...auth, repo, path: "small.txt" }), "fileExists small.txt");
check(!(await fileExists({ ...auth, repo, path: "missing.bin" })), "fileExists missing.bin");

const info = await pathsInfo({ ...auth, repo, paths: ["small.txt", "data/lfs.raw", "missing.bin"], expand: true });
check(info.length === 2, `pathsInfo returns 2 entries, got ${info.length}`);
check(info.find((i) => i.path === "data/lfs.raw")?.lfs?.oid === sha256(lfs), "pathsInfo LFS oid");
check(info.every((i) => i.lastCommit?.id), "pathsInfo expand has lastCommit");

// A second upload of the same LFS content is skipped by the batch API.
await uploadFiles({ ...auth, repo, files: [{ path: "data/copy.raw", content: new Blob([lfs]) }] });
check(sha256(await bytesOf(await downloadFile({ ...auth, repo, path: "data/copy.raw" }))) === sha256(lfs), "re-used LFS object");

// Branches: create, commit to it, read from it; main stays as it was.
await createBranch({ ...auth, repo, branch: "dev" });
await rejects(createBranch({ ...auth, repo, branch: "dev" }), 409, "createBranch twice");
await uploadFiles({ ...auth, repo, branch: "dev", files: [{ path: "dev.txt", content: new Blob(["dev\n"]) }] });
check((await downloadFile({ ...auth, repo, path: "dev.txt", revision: "dev" })) !== null, "dev.txt on dev");
check((await downloadFile({ ...auth, repo, path: "dev.txt" })) === null, "dev.txt not on main");
await rejects(
  uploadFiles({ ...auth, repo, branch: "nope", files: [{ path: "x.txt", content: new Blob(["x"]) }] }),
  404,
  "upload to a missing branch",
);

// Delete a file.
await deleteFile({ ...auth, repo, path: "dir/sub/n0.txt" });
check((await downloadFile({ ...auth, repo, path: "dir/sub/n0.txt" })) === null, "deleted file is gone");

// Private repos: invisible without a token, a wrong token is refused.
const priv = { type: "dataset", name: `${ns}/private` };
await createRepo({ ...auth, repo: priv, private: true });
await uploadFiles({ ...auth, repo: priv, files: [{ path: "secret.txt", content: new Blob(["s\n"]) }] });
await rejects(downloadFile({ hubUrl, repo: priv, path: "secret.txt" }), 401, "private download without token");
await rejects(downloadFile({ hubUrl, accessToken: "hf_wrong", repo: priv, path: "secret.txt" }), 401, "wrong token");
check(!(await repoExists({ hubUrl, repo: priv })), "private repo invisible without token");
check(await repoExists({ ...auth, repo: priv }), "private repo visible with token");

// Listing datasets by author, with pagination (small page size).
const names = [];
for await (const d of listDatasets({ ...auth, search: { owner: ns } })) names.push(d.name);
check(names.includes(`${ns}/contract`) && names.includes(`${ns}/private`), `listDatasets: ${names}`);
const anon = [];
for await (const d of listDatasets({ hubUrl, search: { owner: ns } })) anon.push(d.name);
check(!anon.includes(`${ns}/private`), "listDatasets without token hides private repos");

await deleteRepo({ ...auth, repo: priv });
check(!(await repoExists({ ...auth, repo: priv })), "deleted repo is gone");

console.log(`contract ok: ${checks} checks`);
