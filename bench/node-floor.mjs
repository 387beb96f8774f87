#!/usr/bin/env node
// The floor of any one-process Node.js LDAP server on this machine: a responder that answers the
// Apache mix correctly (every answer passes ldap-load's checks) from the bench's formulas, with no
// directory, no database, no password check and no logging. Only framing, reading the message
// id, the operation and the one value it needs, and one socket write per answer. What it costs
// per transaction is what Node's event loop and sockets cost; the bridge cannot go below it, and
// the bench compares it with slapd on the same generator (issue #12, item 4).
//
//   node bench/node-floor.mjs [port]   (prints "listening <port>")
import { createServer } from 'node:net';
import { FrameReader, element, tlv, seq, str, int } from './lib/ber.mjs';
import { isMember } from './lib/data.mjs';

const USERS = 1000;

const result = (id, tag, code) => seq([int(id), seq([tlv(0x0a, Buffer.from([code])), str(''), str('')], tag)]);

function answer(frame) {
  const [, s0] = element(frame, 0);
  const [, is, ie] = element(frame, s0);
  let id = 0;
  for (let i = is; i < ie; i++) id = id * 256 + frame[i];
  const [tag, os, oe] = element(frame, ie);
  if (tag === 0x60) return result(id, 0x61, 0); // bind: success
  if (tag === 0x42) return null; // unbind
  if (tag === 0x6e) {
    // compare: entry DN cn=gNNNNN,..., assertion member=uid=uNNNNNNN,...
    const [, ds, de] = element(frame, os);
    const g = Number(frame.toString('latin1', ds + 4, ds + 9));
    const [, as] = element(frame, de);
    const [, , ae] = element(frame, as);
    const [, vs] = element(frame, ae);
    const i = Number(frame.toString('latin1', vs + 5, vs + 12));
    return result(id, 0x6f, isMember(i, g, USERS) ? 6 : 5);
  }
  if (tag === 0x63) {
    // search (&(objectclass=*)(uid=uNNNNNNN)) under ou=users: one entry and done
    const text = frame.toString('latin1', os, oe);
    const m = /u\d{7}/.exec(text.slice(text.indexOf('uid', 30)));
    const uid = m[0];
    const entry = seq([int(id), seq([str(`uid=${uid},ou=users,dc=example,dc=com`), seq([seq([str('uid'), tlv(0x31, str(uid))])])], 0x64)]);
    return Buffer.concat([entry, result(id, 0x65, 0)]);
  }
  return result(id, 0x78, 2);
}

const server = createServer({ noDelay: true }, (socket) => {
  const reader = new FrameReader();
  socket.on('data', (chunk) => {
    for (const frame of reader.push(chunk)) {
      const out = answer(frame);
      if (out) socket.write(out);
      else socket.end();
    }
  });
  socket.on('error', () => socket.destroy());
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log(`listening ${server.address().port}`));
