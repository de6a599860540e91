// Node peer of the bench: child_process.fork and its IPC channel
// (process.send, JSON messages). Run by the bench only when node is on
// PATH, as: node fork_peer.js MODE COUNT, MODE being oneway, pingpong or
// start. It prints the seconds that COUNT messages, round trips or
// start+exit of a child took, child start-up excluded for messages.
'use strict';
const { fork } = require('child_process');

// The parent runs as "MODE COUNT", its children as "child ROLE COUNT".
const args = process.argv.slice(2);
const role = args[0];
const mode = role === 'child' ? args[1] : role;
const count = parseInt((role === 'child' ? args[2] : args[1]) || '0', 10);
const now = () => process.hrtime.bigint();
const report = (t0) => console.log((Number(now() - t0) / 1e9).toString());

if (role === 'child') {
  if (mode === 'empty') {
    process.exit(0);
  }
  let got = 0;
  process.on('message', (m) => {
    got++;
    if (mode === 'echo') {
      process.send(m);
      if (got === count) process.disconnect();
    } else if (got === count) {
      process.send('d', () => process.disconnect());
    }
  });
  process.send('r');
} else if (role === 'start') {
  let started = 0;
  const t0 = now();
  const next = () => {
    if (started++ === count) {
      report(t0);
      return;
    }
    fork(__filename, ['child', 'empty', '0']).on('exit', (code) => {
      if (code !== 0) {
        console.error('child exited with code ' + code);
        process.exit(1);
      }
      next();
    });
  };
  next();
} else if (role === 'oneway' || role === 'pingpong') {
  const child = fork(__filename, ['child', role === 'pingpong' ? 'echo' : 'sink', String(count)]);
  let t0;
  let back = 0;
  child.on('message', (m) => {
    if (m === 'r') {
      t0 = now();
      if (role === 'oneway') {
        for (let i = 0; i < count; i++) child.send('x');
      } else {
        child.send('x');
      }
    } else if (role === 'pingpong') {
      back++;
      if (back < count) {
        child.send('x');
      } else {
        report(t0);
      }
    } else if (m === 'd') {
      report(t0);
    }
  });
  child.on('exit', (code) => {
    if (code !== 0) {
      console.error('child exited with code ' + code);
      process.exit(1);
    }
  });
} else {
  console.error('usage: node fork_peer.js oneway|pingpong|start COUNT');
  process.exit(2);
}
