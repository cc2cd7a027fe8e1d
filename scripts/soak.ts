/**
 * `npm run soak`: the local runtime under a long load, on demand (never in
 * `npm test`). It pushes the bytes of about a million small commands through
 * a `--data` runtime (by default 2,000 commands carrying 100 KB each, 200 MB,
 * as many bytes as 1.1 M commands of 180 bytes), samples the runtime's memory
 * (RSS) and its bus journal as it goes, then stops it and starts it again on
 * the same folder. It prints the figures and writes bench/results/soak.json.
 *
 *   npm run soak -- [--commands 2000] [--padding 102400] [--concurrency 8] [--window 200]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../config/command-line';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { createConnection } from 'mysql2/promise';
import { localClientOptions } from '../clients/local-client';
import { allRoleUserNames } from '../handlers/read-model/users';
import { benchServer, round } from '../bench/support';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseCommandLine('npm run soak', {
  options: {
    commands: { type: 'string', default: '2000' },
    padding: { type: 'string', default: String(100 * 1024) },
    concurrency: { type: 'string', default: '8' },
    window: { type: 'string', default: '200' },
  },
});
const commands = Number(values.commands);
const padding = Number(values.padding);
const concurrency = Number(values.concurrency);

const server = benchServer();
const database = `soak_${process.pid}`;
const dataDir = mkdtempSync(path.join(tmpdir(), 'soak-data-'));
const journalFile = path.join(dataDir, 'bus', 'deliveries.jsonl');

/** The runtime's resident memory in MB (Linux /proc). */
function rssMb(pid: number | undefined): number {
  if (pid === undefined || !existsSync(`/proc/${pid}/status`)) return 0;
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return round(kb / 1024, 0);
}

const journalMb = () => (existsSync(journalFile) ? round(statSync(journalFile).size / 1024 / 1024, 1) : 0);

async function start(): Promise<{ child: ChildProcess; endpoint: string; bus: string; readySeconds: number }> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      'local/main.ts',
      '--port',
      '0',
      '--data',
      dataDir,
      '--db-url',
      `mysql://${server.user}${server.password ? `:${encodeURIComponent(server.password)}` : ''}@${server.host}:${server.port}/${database}`,
    ],
    // Its endpoint file in the temp folder: the checkout's belongs to the developer's own npm start.
    {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', ORDER_PIPELINE_ENDPOINT_FILE: path.join(tmpdir(), `order-pipeline-endpoint-${process.pid}.json`) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null) throw new Error(`the runtime did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    child,
    endpoint: /endpoint\s+(\S+)/.exec(output)?.[1] as string,
    bus: /event bus\s+(\S+)/.exec(output)?.[1] as string,
    readySeconds: round((performance.now() - started) / 1000, 2),
  };
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGINT');
  await new Promise((resolve) => child.once('exit', resolve));
}

const samples: { sent: number; rssMb: number; heapMb: number; journalMb: number }[] = [];
const heapMb = async (endpoint: string) =>
  ((await (await fetch(`${endpoint}/_local/status?gc=1`)).json()) as { memory: { heapUsedMb: number } }).memory.heapUsedMb;
const first = await start();
const events = new EventBridgeClient(localClientOptions(first.endpoint));
const note = 'n'.repeat(padding);
const began = performance.now();
let sent = 0;
const sampleEvery = Math.max(1, Math.floor(commands / 10));
// A workload the pipeline keeps up with: at most `window` commands sent and not yet
// answered (without it the backlog, every undelivered event held and journaled, is
// what grows, as on AWS a queue would).
const window = Number(values.window);
let answered = 0;
const answeredSoFar = async () => {
  const status = (await (await fetch(`${first.endpoint}/_local/status`)).json()) as { eventBus: { kept: { total: number } } };
  return status.eventBus.kept.total - sent;
};
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (sent < commands) {
      while (sent - answered >= window) {
        answered = await answeredSoFar();
        if (sent - answered >= window) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const index = sent++;
      const detail = JSON.stringify({ command: 'createOrder', orderId: `soak-${index}`, items: [{ itemid: `item-${index % 50}`, quantity: 1 }], note });
      await events.send(new PutEventsCommand({ Entries: [{ EventBusName: first.bus, Source: 'orderPipeline', DetailType: 'orderCommand', Detail: detail }] }));
      if (index % sampleEvery === 0) samples.push({ sent: index, rssMb: rssMb(first.child.pid), heapMb: await heapMb(first.endpoint), journalMb: journalMb() });
    }
  }),
);
await fetch(`${first.endpoint}/_local/idle`);
const sendSeconds = round((performance.now() - began) / 1000, 1);
const status = (await (await fetch(`${first.endpoint}/_local/status`)).json()) as {
  eventBus: { journal?: { compactions: number; owed: number } };
  functionEnvironments: Record<string, { environments: number; memoryMb: number }>;
};
samples.push({ sent: commands, rssMb: rssMb(first.child.pid), heapMb: await heapMb(first.endpoint), journalMb: journalMb() });
const environmentBoundMb = Object.values(status.functionEnvironments).reduce((total, fn) => total + fn.environments * fn.memoryMb, 0);
events.destroy();
await stop(first.child);
const journalAfterStop = journalMb();

const second = await start();
const afterRestart = { readySeconds: second.readySeconds, rssMb: rssMb(second.child.pid), journalMb: journalMb() };
await stop(second.child);

const admin = await createConnection({ host: server.host, port: server.port, user: server.user, password: server.password });
await admin.query('DROP DATABASE IF EXISTS ??', [database]);
for (const user of allRoleUserNames(database)) await admin.query('DROP USER IF EXISTS ?@?', [user, '%']);
await admin.end();
rmSync(dataDir, { recursive: true, force: true });

const throughBusMb = round((commands * (padding + 200)) / 1024 / 1024, 0);
const result = {
  date: new Date().toISOString(),
  commands,
  paddingBytes: padding,
  throughBusMb,
  equivalentSmallCommands: Math.round((commands * (padding + 200)) / 180),
  sendSeconds,
  samples,
  rssMb: { first: samples[0]?.rssMb ?? 0, max: Math.max(...samples.map((sample) => sample.rssMb)), last: samples[samples.length - 1]?.rssMb ?? 0 },
  heapMb: { first: samples[0]?.heapMb ?? 0, max: Math.max(...samples.map((sample) => sample.heapMb)), last: samples[samples.length - 1]?.heapMb ?? 0 },
  functionEnvironmentBoundMb: environmentBoundMb,
  journalMb: {
    max: Math.max(...samples.map((sample) => sample.journalMb)),
    afterStop: journalAfterStop,
    compactions: status.eventBus.journal?.compactions ?? 0,
  },
  restart: afterRestart,
};
writeFileSync(path.join(ROOT, 'bench', 'results', 'soak.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `soak: ${commands} commands of ${Math.round(padding / 1024)} KB (${throughBusMb} MB through the bus, the bytes of ${result.equivalentSmallCommands.toLocaleString('en')} commands of 180 B) in ${sendSeconds} s\n`,
);
console.log(
  '| sent | runtime heap after a full GC, main thread (MB) | process RSS, function workers included (MB) | bus journal (MB) |\n|---:|---:|---:|---:|',
);
for (const sample of samples) console.log(`| ${sample.sent} | ${sample.heapMb} | ${sample.rssMb} | ${sample.journalMb} |`);
console.log(`\nthe function environments alive may use at most ${environmentBoundMb} MB between them (environments × memory size, as on Lambda)`);
console.log(`\njournal: at most ${result.journalMb.max} MB while running, ${journalAfterStop} MB after the stop, ${result.journalMb.compactions} compactions`);
console.log(`restart on the same folder: ready in ${afterRestart.readySeconds} s, RSS ${afterRestart.rssMb} MB, journal ${afterRestart.journalMb} MB`);
process.exit(0);
