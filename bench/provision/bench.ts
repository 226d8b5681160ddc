/**
 * Provisioning speed, end to end (`npm run bench`): create_disk → provision → deprovision → delete_disk on a real
 * Ceph (memstore), a real tgtd and the HIL-compatible server, three ways taking turns in every round so that
 * machine noise spreads over all of them (see methods.ts): the floor, the original BMI's method, and BMI through
 * its legacy REST API. Then:
 *   - where BMI's time goes, per step, from its operation journal;
 *   - concurrency: 1, 4, 16, 64 clients on different disks and nodes, the floor and BMI: throughput and p95;
 *   - scale: 10,000 images and disks in the DB and 1,000 targets in tgtd: list p50, create_disk p50, memory.
 * Prints the tables and writes them as JSON (var/bench/provision.json, or --out FILE).
 *   npm run bench [-- --rounds 200 --clients 1,4,16,64 --cycles 128 --scale-rows 10000 --scale-targets 1000]
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as rbd from 'ceph-rbd-napi';
import * as sqlite3 from 'sqlite3';
import { arg, listArg, msSince, summary, table } from '../stats';
import { bmiLegacy, Call, CALLS, floor, legacy, Method, original } from './methods';
import { ADMIN, rssMb, Rig, startRig } from './rig';

const run = promisify(execFile);

interface JournalOp {
  kind: string;
  state: string;
  steps: { name: string; ms?: number }[];
  started: string;
  updated: string;
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '-');
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : '-');

/** One cycle of the four calls on one disk and node; each call's latency into `samples`. */
async function cycle(m: Method, disk: string, node: number, samples: Record<Call, number[]>): Promise<void> {
  for (const call of CALLS) {
    const t0 = process.hrtime.bigint();
    await m.call(call, disk, node);
    samples[call].push(msSince(t0));
  }
}

const emptySamples = (): Record<Call, number[]> => ({
  create_disk: [],
  provision: [],
  deprovision: [],
  delete_disk: [],
});

async function singleClient(methods: Method[], rounds: number) {
  const samples = new Map(methods.map((m) => [m.name, emptySamples()]));
  for (let r = 0; r < rounds; r++) {
    // the order turns every round
    for (let k = 0; k < methods.length; k++) {
      const m = methods[(r + k) % methods.length];
      await cycle(m, `s${r}`, 0, samples.get(m.name)!);
    }
    if ((r + 1) % 50 === 0) process.stderr.write(`  single client: ${r + 1}/${rounds} rounds\n`);
  }
  return samples;
}

/** `clients` workers, `cycles` cycles in all, each worker on its own disks and node. */
async function concurrent(m: Method, clients: number, cycles: number, tag: string) {
  const samples = emptySamples();
  let errors = 0;
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async (_, w) => {
      for (let i = next++; i < cycles; i = next++) {
        try {
          await cycle(m, `${tag}w${w}c${i}`, w, samples);
        } catch (e) {
          errors++;
          if (errors <= 3) console.error(`  ${m.name} at ${clients} clients: ${(e as Error).message}`);
        }
      }
    }),
  );
  const seconds = msSince(t0) / 1000;
  const all = CALLS.flatMap((c) => samples[c]);
  return {
    method: m.name,
    clients,
    cycles,
    errors,
    cyclesPerSecond: (cycles - errors) / seconds,
    p50: summary(all).p50,
    p95: summary(all).p95,
    perCall: Object.fromEntries(CALLS.map((c) => [c, summary(samples[c])])),
  };
}

/** BMI's journal: per kind, the span of the operation and each step's p50. */
async function journalBreakdown(rig: Rig, calls: Record<Call, number[]>) {
  const ops = JSON.parse(await legacy(rig, 'POST', 'list_operations', { limit: '1000' }, ADMIN)) as JournalOp[];
  const anonymous = (name: string) =>
    name.replace(new RegExp(`${rig.uid}img\\d+`, 'g'), '<image>').replace(/\bs\d+\b/g, '<disk>');
  return CALLS.map((kind) => {
    const mine = ops.filter((o) => o.kind === kind && o.state === 'done');
    const span = mine.map((o) => Date.parse(o.updated) - Date.parse(o.started));
    const byStep = new Map<string, number[]>();
    const inSteps: number[] = [];
    for (const o of mine) {
      let sum = 0;
      o.steps.forEach((s, i) => {
        const key = `${i + 1}. ${anonymous(s.name)}`;
        byStep.set(key, [...(byStep.get(key) ?? []), s.ms ?? NaN]);
        sum += s.ms ?? 0;
      });
      inSteps.push(sum);
    }
    const call = summary(calls[kind]).p50;
    return {
      kind,
      ops: mine.length,
      callP50: call,
      operationP50: summary(span).p50,
      steps: [...byStep].map(([step, ms]) => ({ step, p50: summary(ms).p50 })),
      journalP50: summary(span.map((s, i) => s - inSteps[i])).p50,
    };
  });
}

/** Rows straight into BMI's DB (BMI stopped): `rows` images and disks spread over 100 projects. */
async function fillDb(rig: Rig, rows: number): Promise<void> {
  const sql: string[] = ['BEGIN;'];
  const projects = 100;
  for (let p = 0; p < projects; p++) sql.push(`INSERT OR IGNORE INTO project (name) VALUES ('scale${p}');`);
  for (let i = 0; i < rows; i++) {
    const project = `(SELECT id FROM project WHERE name = 'scale${i % projects}')`;
    const disk = i % 2 === 1;
    sql.push(
      `INSERT INTO image (name, is_public, is_snapshot, exported, project_id, parent_id) VALUES ` +
        `('${disk ? 'disk' : 'img'}${i}', 0, 0, 0, ${project}, ${disk ? `(SELECT id FROM image WHERE name = 'img${i - 1}')` : 'NULL'});`,
    );
  }
  sql.push('COMMIT;');
  const db = new sqlite3.Database(rig.db);
  try {
    await new Promise<void>((resolve, reject) => db.exec(sql.join('\n'), (e) => (e ? reject(e) : resolve())));
  } finally {
    db.close();
  }
}

/** `count` targets in tgtd that are not BMI's (no LUN), eight calls at a time. */
async function fillTgt(rig: Rig, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < count; i = next++) {
        await run('tgtadm', [
          ...['-C', String(rig.tgt.controlPort), '--lld', 'iscsi', '--mode', 'target', '--op', 'new'],
          ...['--tid', String(1000 + i), '--targetname', `iqn.2026-11.org.bench:other${i}`],
        ]);
      }
    }),
  );
}

/** CPU time (user + system) a process has used, in ms (Linux, 100 ticks a second). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    out.push(msSince(t0));
  }
  return out;
}

async function main(): Promise<void> {
  const rounds = arg('rounds', 200);
  const levels = listArg('clients', [1, 4, 16, 64]);
  const cycles = arg('cycles', 128);
  const scaleRows = arg('scale-rows', 10000);
  const scaleTargets = arg('scale-targets', 1000);
  const out = process.argv.includes('--out')
    ? process.argv[process.argv.indexOf('--out') + 1]
    : path.resolve(__dirname, '../../var/bench/provision.json');

  const rig = await startRig(Math.max(...levels));
  let conn: rbd.Cluster | undefined;
  let io: rbd.IoCtx | undefined;
  try {
    conn = await rbd.connect({
      confFile: rig.ceph.conf,
      clientId: rig.ceph.id,
      keyring: rig.ceph.keyring,
      timeoutSeconds: 30,
    });
    io = await conn.openPool(rig.ceph.pool);
    const gold = `${rig.uid}gold`;
    await io.create(gold, 1 << 30, { features: rbd.Features.LAYERING });
    await rig.startBmi();
    await legacy(rig, 'PUT', 'add_project', { project: 'bmi_infra', name: 'proj1' }, ADMIN);
    await legacy(rig, 'PUT', 'import_image', { img: gold }, ADMIN);
    // BMI's copy of the golden image, with its protected snapshot: what every way clones from
    const bmiGolden = (await io.listImages()).find((i) => i.startsWith(`${rig.uid}img`))!;
    const theFloor = await floor(rig, io, bmiGolden);
    const methods: Method[] = [theFloor, await original(rig, bmiGolden), bmiLegacy(rig, gold)];
    const idleRss = rssMb(rig.bmiPid());

    process.stderr.write('warming up\n');
    await singleClient(methods, 5);
    await legacy(rig, 'POST', 'reconcile', {}, ADMIN); // (no drift expected; it also warms the listing)

    process.stderr.write(`single client, ${rounds} rounds\n`);
    const single = await singleClient(methods, rounds);
    const floorParts = Object.entries(theFloor.parts).map(([part, ms]) => [part, summary(ms).p50] as const);
    const journal = await journalBreakdown(rig, single.get('BMI legacy API')!);
    // the HIL call provision makes (GET node, authenticated), alone: BMI's own time is the rest
    const hilUrl = `${rig.hilUrl}/v0/node/${rig.nodes[0]}`;
    const hilAuth = { authorization: `Basic ${Buffer.from('alice:alicepass').toString('base64')}` };
    const hil = await timed(100, async () => {
      const r = await fetch(hilUrl, { headers: hilAuth });
      if (r.status !== 200) throw new Error(`HIL answered ${r.status}`);
      await r.text();
    });

    const load: (Awaited<ReturnType<typeof concurrent>> & { cpuMsPerCycle: number })[] = [];
    let loadRss = 0;
    const sampler = setInterval(() => (loadRss = Math.max(loadRss, rssMb(rig.bmiPid()))), 200);
    for (const clients of levels) {
      const n = Math.max(cycles, clients * 2);
      process.stderr.write(`${clients} clients, ${n} cycles each way\n`);
      // the floor and BMI take turns: the first of them alternates with the level
      const pair = [methods[0], methods[2]];
      if (levels.indexOf(clients) % 2) pair.reverse();
      for (const m of pair) {
        // the CPU of the process doing the work: BMI's for BMI, this one's for the floor (librbd included)
        const cpu = () =>
          m === theFloor ? process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 : cpuMs(rig.bmiPid());
        const cpu0 = cpu();
        const result = await concurrent(m, clients, n, `c${clients}`);
        load.push({ ...result, cpuMsPerCycle: (cpu() - cpu0) / n });
      }
    }
    clearInterval(sampler);

    process.stderr.write(`scale: ${scaleRows} images and disks in the DB, ${scaleTargets} targets in tgtd\n`);
    await rig.stopBmi();
    await fillDb(rig, scaleRows);
    await fillTgt(rig, scaleTargets);
    await rig.startBmi();
    await new Promise((r) => setTimeout(r, 2000));
    const scaledIdleRss = rssMb(rig.bmiPid());
    const bmi = methods[2];
    const listImages = await timed(50, () => legacy(rig, 'POST', 'list_images', {}));
    const listDisks = await timed(50, () => legacy(rig, 'POST', 'list_disks', {}));
    const scaled = emptySamples();
    for (let i = 0; i < 50; i++) await cycle(bmi, `big${i}`, 0, scaled);
    const emptyCreate = summary(single.get(bmi.name)!.create_disk).p50;

    // ---- report ----
    const floorP50 = (c: Call) => summary(single.get('floor')![c]).p50;
    const singleRows = CALLS.flatMap((c) =>
      methods.map((m) => {
        const s = summary(single.get(m.name)![c]);
        return [c, m.name, fmt(s.p50), fmt(s.p95), ratio(s.p50, floorP50(c))];
      }),
    );
    const report: string[] = [];
    report.push(
      `single client, ${rounds} rounds of create_disk → provision → deprovision → delete_disk (ms)`,
      table(['call', 'way', 'p50', 'p95', 'p50 / floor'], singleRows),
      '',
      "where BMI's time goes (p50, ms; call = HTTP round trip, operation = the journal's span, journal = its writes)",
      table(
        ['call', 'part', 'p50'],
        journal.flatMap((j) => [
          [j.kind, 'call', fmt(j.callP50)],
          [j.kind, 'operation', fmt(j.operationP50)],
          ...j.steps.map((s) => [j.kind, `  ${s.step}`, fmt(s.p50)]),
          [j.kind, '  journal writes', fmt(j.journalP50)],
        ]),
      ),
      '',
      "the floor's parts (p50, ms)",
      table(
        ['part', 'p50'],
        floorParts.map(([part, p50]) => [part, fmt(p50)]),
      ),
      '',
      `provision: the HIL lookup alone (GET node) p50 ${fmt(summary(hil).p50)} ms; ` +
        `BMI's own time beyond it p50 ${fmt(summary(single.get(bmi.name)!.provision).p50 - summary(hil).p50)} ms (goal ≤ 5)`,
      '',
      'concurrency: clients on different disks and nodes, each a full cycle at a time; CPU: of the process doing ' +
        "the work (the floor's is this one, librbd included; BMI's is BMI's)",
      table(
        [
          'clients',
          'way',
          'cycles',
          'errors',
          'cycles/s',
          'vs floor',
          'call p50',
          'call p95',
          'create p95',
          'delete p95',
          'CPU ms/cycle',
        ],
        load.map((l) => {
          const f = load.find((x) => x.clients === l.clients && x.method === 'floor')!;
          return [
            String(l.clients),
            l.method,
            String(l.cycles),
            String(l.errors),
            fmt(l.cyclesPerSecond),
            ratio(l.cyclesPerSecond, f.cyclesPerSecond),
            fmt(l.p50),
            fmt(l.p95),
            fmt(l.perCall.create_disk.p95),
            fmt(l.perCall.delete_disk.p95),
            fmt(l.cpuMsPerCycle),
          ];
        }),
      ),
      '',
      `scale: ${scaleRows} images and disks in 100 projects, ${scaleTargets} other targets in tgtd`,
      table(
        ['measure', 'value', 'goal'],
        [
          ['list_images p50 (ms)', fmt(summary(listImages).p50), '≤ 10'],
          ['list_disks p50 (ms)', fmt(summary(listDisks).p50), '≤ 10'],
          ['create_disk p50 (ms)', fmt(summary(scaled.create_disk).p50), `≤ 1.1 × ${fmt(emptyCreate)}`],
          ['create_disk p50 / empty system', ratio(summary(scaled.create_disk).p50, emptyCreate), '≤ 1.10x'],
          ['delete_disk p50 (ms)', fmt(summary(scaled.delete_disk).p50), ''],
          ['RSS idle, empty (MB)', fmt(idleRss), '≤ 150'],
          ['RSS idle, scaled (MB)', fmt(scaledIdleRss), '≤ 150'],
          ['RSS under load, max (MB)', fmt(loadRss), ''],
        ],
      ),
    );
    const text = report.join('\n');
    console.log(`\n${text}`);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify(
        {
          when: new Date().toISOString(),
          librbd: rbd.librbdVersion(),
          single: Object.fromEntries(
            methods.map((m) => [m.name, Object.fromEntries(CALLS.map((c) => [c, summary(single.get(m.name)![c])]))]),
          ),
          journal,
          floorParts: Object.fromEntries(floorParts),
          hilLookup: summary(hil),
          load,
          scale: {
            rows: scaleRows,
            targets: scaleTargets,
            listImages: summary(listImages),
            listDisks: summary(listDisks),
            createDisk: summary(scaled.create_disk),
            deleteDisk: summary(scaled.delete_disk),
            idleRssMb: idleRss,
            scaledIdleRssMb: scaledIdleRss,
            loadRssMb: loadRss,
          },
          table: text,
        },
        null,
        2,
      ),
    );
    console.log(`\nwritten to ${out}`);
  } finally {
    await io?.close().catch(() => undefined);
    await conn?.close().catch(() => undefined);
    await rig.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
