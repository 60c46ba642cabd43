// Preload (`node -r ./force-localhost.js ...`): make every TCP listen() in this process bind
// 127.0.0.1 instead of all interfaces, and prefer IPv4 when resolving "localhost".
// @atproto/dev-env calls server.listen(port), which would otherwise bind 0.0.0.0 / [::].
'use strict'
const net = require('net')
const dns = require('dns')

dns.setDefaultResultOrder('ipv4first')

const LOOP = new Set(['127.0.0.1', 'localhost'])
const origListen = net.Server.prototype.listen

net.Server.prototype.listen = function (...args) {
  const a0 = args[0]
  if (
    a0 &&
    typeof a0 === 'object' &&
    !(a0 instanceof net.Server) &&
    a0.path == null &&
    a0.fd == null &&
    a0._handle == null
  ) {
    // listen({ port, host, ... })
    if (!LOOP.has(a0.host)) args[0] = { ...a0, host: '127.0.0.1' }
  } else if (
    a0 == null ||
    typeof a0 === 'number' ||
    (typeof a0 === 'string' && /^\d+$/.test(a0))
  ) {
    // listen(), listen(port), listen(port, host), listen(port, cb), listen(port, backlog, cb)
    if (args.length === 0) args.push(0)
    if (typeof args[1] === 'string') {
      if (!LOOP.has(args[1])) args[1] = '127.0.0.1'
    } else {
      args.splice(1, 0, '127.0.0.1')
    }
  }
  // unix sockets / handles / fds are left alone
  return origListen.apply(this, args)
}
