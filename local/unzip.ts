/**
 * Extracts a deployment zip (stored or deflated entries, as Lambda accepts)
 * into a folder keyed by the zip's hash, once: the local runtime runs the very
 * archive `terraform apply` would upload.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';

/** The entries of a zip archive. */
export function readZip(archive: Buffer): { name: string; data: Buffer }[] {
  const end = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('not a zip archive: no end of central directory');
  const count = archive.readUInt16LE(end + 10);
  let offset = archive.readUInt32LE(end + 16);
  const entries: { name: string; data: Buffer }[] = [];
  for (let index = 0; index < count; index++) {
    if (archive.readUInt32LE(offset) !== 0x02014b50) throw new Error('corrupt zip archive: bad central directory entry');
    const method = archive.readUInt16LE(offset + 10);
    const compressedSize = archive.readUInt32LE(offset + 20);
    const nameLength = archive.readUInt16LE(offset + 28);
    const extraLength = archive.readUInt16LE(offset + 30);
    const commentLength = archive.readUInt16LE(offset + 32);
    const localOffset = archive.readUInt32LE(offset + 42);
    const name = archive.subarray(offset + 46, offset + 46 + nameLength).toString('utf8');
    const dataStart = localOffset + 30 + archive.readUInt16LE(localOffset + 26) + archive.readUInt16LE(localOffset + 28);
    const raw = archive.subarray(dataStart, dataStart + compressedSize);
    if (method !== 0 && method !== 8) throw new Error(`zip entry ${name} uses compression method ${method}; only stored and deflated are supported`);
    if (!name.endsWith('/')) entries.push({ name, data: method === 8 ? inflateRawSync(raw) : Buffer.from(raw) });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Extracts `zipPath` once; returns the folder holding its files. */
export function extractOnce(zipPath: string, cacheRoot: string = path.join(tmpdir(), 'order-pipeline-local-code')): string {
  const archive = readFileSync(zipPath);
  const dir = path.join(cacheRoot, createHash('sha256').update(archive).digest('hex').slice(0, 32));
  if (existsSync(dir)) return dir;
  const staging = `${dir}.${process.pid}.${Date.now()}`;
  for (const entry of readZip(archive)) {
    const target = path.resolve(staging, entry.name);
    if (!target.startsWith(`${path.resolve(staging)}${path.sep}`)) throw new Error(`zip entry ${entry.name} escapes the archive`);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, entry.data);
  }
  try {
    renameSync(staging, dir);
  } catch (error) {
    // Another runtime extracted the same archive first: use its copy.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(dir)) throw error;
  }
  return dir;
}
