#!/usr/bin/env node
// TCP forwarding from inside a network namespace to this (the host's) namespace, with no address, veth or
// route added anywhere: a child started with `ip netns exec` binds the listening sockets inside the namespace
// and hands them to this process over Node's IPC channel; this process accepts on them (the sockets stay in
// the namespace) and connects each accepted connection to its target here.
//
//   node scripts/netns-forward.js --netns NS [--pid-file F] LISTEN=TARGET ...
//
// LISTEN and TARGET are IP:PORT, e.g. 127.0.0.1:3300=127.0.0.1:3300 (a Ceph monitor on the host's loopback
// reachable at the same address inside NS) or 10.99.0.1:80=127.0.0.1:18080 (BMI, for the nodes on a bridge).
// Prints "ready" on stdout once every socket listens; stops on SIGTERM or SIGINT.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');

function parseAddr(s) {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(s);
  if (!m) throw new Error(`not IPv4:PORT: ${s}`);
  return { host: m[1], port: Number(m[2]) };
}

if (process.argv[2] === '--bind') {
  // the child, inside the namespace: bind, hand over, exit
  const listens = process.argv.slice(3).map(parseAddr);
  (async () => {
    for (const [i, a] of listens.entries()) {
      const server = net.createServer({ pauseOnConnect: true });
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: a.host, port: a.port, exclusive: true }, resolve);
      });
      await new Promise((resolve, reject) =>
        process.send({ index: i }, server, { keepOpen: false }, (e) => (e ? reject(e) : resolve())),
      );
      server.close();
    }
    process.disconnect();
  })().catch((e) => {
    process.stderr.write(`netns-forward: ${e.message}\n`);
    process.exit(1);
  });
} else {
  const args = process.argv.slice(2);
  let netns = '';
  let pidFile = '';
  const pairs = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--netns') netns = args[++i];
    else if (args[i] === '--pid-file') pidFile = args[++i];
    else {
      const [l, t] = args[i].split('=');
      pairs.push({ listen: parseAddr(l), target: parseAddr(t ?? '') });
    }
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(netns) || pairs.length === 0) {
    process.stderr.write('usage: netns-forward.js --netns NS [--pid-file F] IP:PORT=IP:PORT ...\n');
    process.exit(2);
  }
  const servers = [];
  const sockets = new Set();
  const child = spawn(
    'ip',
    ['netns', 'exec', netns, process.execPath, __filename, '--bind', ...pairs.map((p) => `${p.listen.host}:${p.listen.port}`)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  child.on('message', (msg, handle) => {
    const pair = pairs[msg.index];
    handle.on('connection', (inbound) => {
      const outbound = net.connect(pair.target);
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
        s.setNoDelay(true);
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
      inbound.resume();
    });
    servers.push(handle);
  });
  child.on('exit', (code) => {
    if (code !== 0 || servers.length !== pairs.length) {
      process.stderr.write(`netns-forward: could not listen in ${netns} (exit ${code})\n`);
      process.exit(1);
    }
    if (pidFile) fs.writeFileSync(pidFile, `${process.pid}\n`);
    process.stdout.write('ready\n');
  });
  const stop = () => {
    for (const s of servers) s.close();
    for (const s of sockets) s.destroy();
    if (pidFile) fs.rmSync(pidFile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
