import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  claimEndpointFile,
  DEFAULT_LOCAL_ENDPOINT,
  findLocalEndpoint,
  readEndpointFile,
  removeEndpointFile,
  writeEndpointFile,
} from '../../../config/local-endpoint';

const folder = mkdtempSync(path.join(tmpdir(), 'endpoint-file-'));
const fileOf = (name: string) => path.join(folder, name);
const content = (pid: number) => ({
  endpoint: 'http://127.0.0.1:4811',
  pid,
  bus: 'arn:aws:events:us-east-1:000000000000:event-bus/order-pipeline-local-bus',
  startedAt: '2026-12-07T00:00:00.000Z',
});
/** A pid no process has (above Linux's default pid_max of 4,194,304). */
const GONE = 2 ** 22 + 12_345;

describe('findLocalEndpoint', () => {
  it("takes --endpoint first, then AWS_ENDPOINT_URL, then a running runtime's file, then the default", () => {
    // Prepare
    const file = fileOf('running.json');
    writeEndpointFile(content(process.pid), file);
    const env = { ORDER_PIPELINE_ENDPOINT_FILE: file };

    // Act and assess
    expect(findLocalEndpoint('http://flag:1', { ...env, AWS_ENDPOINT_URL: 'http://env:2' })).toEqual({ url: 'http://flag:1', from: '--endpoint' });
    expect(findLocalEndpoint(undefined, { ...env, AWS_ENDPOINT_URL: 'http://env:2' })).toEqual({ url: 'http://env:2', from: 'AWS_ENDPOINT_URL' });
    expect(findLocalEndpoint(undefined, env)).toEqual({
      url: 'http://127.0.0.1:4811',
      from: expect.stringContaining(`written by the runtime npm start runs (pid ${process.pid})`),
    });
    expect(findLocalEndpoint(undefined, { ORDER_PIPELINE_ENDPOINT_FILE: fileOf('none.json') })).toEqual({
      url: DEFAULT_LOCAL_ENDPOINT,
      from: expect.stringContaining("npm start's default"),
    });
  });

  it.each([
    ['a runtime that is no longer running (kill -9 left its file)', JSON.stringify(content(GONE))],
    ['half a file', '{"endpoint": "http://127.0.0.1:48'],
    ['a file of another shape', JSON.stringify({ port: 4811 })],
  ])('ignores the file of %s', (_case, text) => {
    const file = fileOf(`bad-${Math.random()}.json`);
    writeFileSync(file, text);
    expect(readEndpointFile(file)).toBeUndefined();
    expect(findLocalEndpoint(undefined, { ORDER_PIPELINE_ENDPOINT_FILE: file }).url).toBe(DEFAULT_LOCAL_ENDPOINT);
  });

  it("removes the file only if it is still this runtime's", () => {
    const file = fileOf('taken-over.json');
    writeEndpointFile(content(process.pid), file);
    removeEndpointFile(process.pid + 1, file);
    expect(readEndpointFile(file)?.pid).toBe(process.pid);
    removeEndpointFile(process.pid, file);
    expect(readEndpointFile(file)).toBeUndefined();
  });

  it.each([
    ['no file', undefined, true],
    ['the file of a runtime that is no longer running', GONE, true],
    ["this runtime's own file", process.pid, true],
    ['the file of another runtime that is running', process.ppid, false],
  ])('is claimed over %s: written, or left to its running holder', (_case, holderPid, written) => {
    // Prepare
    const file = fileOf(`claim-${Math.random()}.json`);
    if (holderPid !== undefined) writeFileSync(file, JSON.stringify({ ...content(holderPid), endpoint: 'http://127.0.0.1:4500' }));

    // Act
    const holder = claimEndpointFile({ ...content(process.pid), endpoint: 'http://127.0.0.1:4600' }, file);

    // Assess
    expect(holder?.pid).toBe(written ? undefined : holderPid);
    expect(readEndpointFile(file)).toMatchObject(
      written ? { pid: process.pid, endpoint: 'http://127.0.0.1:4600' } : { pid: holderPid, endpoint: 'http://127.0.0.1:4500' },
    );
  });
});
