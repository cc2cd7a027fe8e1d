/**
 * `npm run soak`: the local runtime under a long load, on demand (never in
 * `npm test`). It pushes the bytes of about a million small commands through
 * a `--data` runtime (by default 2,000 commands carrying 100 KB each, 200 MB,
 * as many bytes as 1.1 M commands of 180 bytes), samples the runtime's memory
 * (RSS) and its bus journal as it goes, then stops it and starts it again on
 * the same folder. It prints the figures and writes bench/results/soak.json.
 *
 *   npm run soak -- [--commands 2000] [--padding 102400] [--concurrency 8]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { createConnection } from 'mysql2/promise';
import { localClientOptions } from '../clients/local-client';
import { roleUserName } from '../handlers/read-model/users';
import { benchServer, round } from '../bench/support';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { commands: { type: 'string', default: '2000' }, padding: { type: 'string', default: String(100 * 1024) }, concurrency: { type: 'string', default: '8' } },
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
    ['--import', 'tsx', 'local/main.ts', '--port', '0', '--data', dataDir, '--db-url', `mysql://${server.user}${server.password ? `:${encodeURIComponent(server.password)}` : ''}@${server.host}:${server.port}/${database}`],
    { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null) throw new Error(`the runtime did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, endpoint: /endpoint\s+(\S+)/.exec(output)?.[1] as string, bus: /event bus\s+(\S+)/.exec(output)?.[1] as string, readySeconds: round((performance.now() - started) / 1000, 2) };
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGINT');
  await new Promise((resolve) => child.once('exit', resolve));
}

const samples: { sent: number; rssMb: number; journalMb: number }[] = [];
const first = await start();
const events = new EventBridgeClient(localClientOptions(first.endpoint));
const note = 'n'.repeat(padding);
const began = performance.now();
let sent = 0;
const sampleEvery = Math.max(1, Math.floor(commands / 10));
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (sent < commands) {
      const index = sent++;
      const detail = JSON.stringify({ command: 'createOrder', orderId: `soak-${index}`, items: [{ itemid: `item-${index % 50}`, quantity: 1 }], note });
      await events.send(new PutEventsCommand({ Entries: [{ EventBusName: first.bus, Source: 'orderPipeline', DetailType: 'orderCommand', Detail: detail }] }));
      if (index % sampleEvery === 0) samples.push({ sent: index, rssMb: rssMb(first.child.pid), journalMb: journalMb() });
    }
  }),
);
await fetch(`${first.endpoint}/_local/idle`);
const sendSeconds = round((performance.now() - began) / 1000, 1);
const status = (await (await fetch(`${first.endpoint}/_local/status`)).json()) as { eventBus: { journal?: { compactions: number; owed: number } } };
samples.push({ sent: commands, rssMb: rssMb(first.child.pid), journalMb: journalMb() });
events.destroy();
await stop(first.child);
const journalAfterStop = journalMb();

const second = await start();
const afterRestart = { readySeconds: second.readySeconds, rssMb: rssMb(second.child.pid), journalMb: journalMb() };
await stop(second.child);

const admin = await createConnection({ host: server.host, port: server.port, user: server.user, password: server.password });
await admin.query('DROP DATABASE IF EXISTS ??', [database]);
for (const role of ['reader', 'writer'] as const) await admin.query('DROP USER IF EXISTS ?@?', [roleUserName(role, database), '%']);
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
  journalMb: { max: Math.max(...samples.map((sample) => sample.journalMb)), afterStop: journalAfterStop, compactions: status.eventBus.journal?.compactions ?? 0 },
  restart: afterRestart,
};
writeFileSync(path.join(ROOT, 'bench', 'results', 'soak.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(`soak: ${commands} commands of ${Math.round(padding / 1024)} KB (${throughBusMb} MB through the bus, the bytes of ${result.equivalentSmallCommands.toLocaleString('en')} commands of 180 B) in ${sendSeconds} s\n`);
console.log('| sent | runtime RSS (MB) | bus journal (MB) |\n|---:|---:|---:|');
for (const sample of samples) console.log(`| ${sample.sent} | ${sample.rssMb} | ${sample.journalMb} |`);
console.log(`\njournal: at most ${result.journalMb.max} MB while running, ${journalAfterStop} MB after the stop, ${result.journalMb.compactions} compactions`);
console.log(`restart on the same folder: ready in ${afterRestart.readySeconds} s, RSS ${afterRestart.rssMb} MB, journal ${afterRestart.journalMb} MB`);
process.exit(0);
