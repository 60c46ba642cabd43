// Launcher for a local atproto network (PLC + PDS + AppView/bsky + Ozone) in ONE Node process,
// using @atproto/dev-env's TestNetwork. Run with the preload:
//   node -r ./force-localhost.js start-network.js
//
// Env:
//   DB_POSTGRES_URL   (required) postgres://user@127.0.0.1:PORT/db  (AppView + Ozone schemas)
//   REDIS_HOST        required by an assert in dev-env only; never connected to (default set below)
//   TMPDIR            the PDS puts its SQLite + blob dirs under os.tmpdir(); point it at the state dir
//   READY_FILE        where to write ready.json (URLs) once everything is up
//   BSKY_PLC_PORT / BSKY_PDS_PORT / BSKY_APPVIEW_PORT / BSKY_OZONE_PORT / BSKY_CTRL_PORT
//                     fixed ports (defaults 2582 / 2583 / 2584 / 2587 / 2589)
//   DB_POSTGRES_SCHEMA schema suffix (default "realstack" -> appview_realstack, ozone_realstack)
//   UNRESERVE_HANDLES comma list of reserved handle labels to allow (e.g. "bot,user" for bot.test)
//
// Control endpoint on 127.0.0.1:BSKY_CTRL_PORT:
//   GET /process-all[?timeout=ms]  -> network.processAll(): drain the PDS queue + Ozone and wait
//                                     until the AppView has indexed everything the PDS sequenced
//   GET /health                    -> {"ok":true, ...urls}
'use strict'
const t0 = Date.now()
const fs = require('fs')
const path = require('path')
const http = require('http')

if (process.env.PID_FILE) fs.writeFileSync(process.env.PID_FILE, String(process.pid))
process.env.REDIS_HOST = process.env.REDIS_HOST || '127.0.0.1:6379'
const { TestNetwork } = require('@atproto/dev-env')

const port = (name, dflt) => {
  const v = process.env[name]
  return v ? parseInt(v, 10) : dflt
}
const PLC_PORT = port('BSKY_PLC_PORT', 2582)
const PDS_PORT = port('BSKY_PDS_PORT', 2583)
const APPVIEW_PORT = port('BSKY_APPVIEW_PORT', 2584)
const OZONE_PORT = port('BSKY_OZONE_PORT', 2587)
const CTRL_PORT = port('BSKY_CTRL_PORT', 2589)

// Optional: allow handles such as bot.test / user.test that the PDS reserves by default.
const unreserve = (process.env.UNRESERVE_HANDLES || '').split(',').map((s) => s.trim()).filter(Boolean)
if (unreserve.length) {
  const reserved = require('@atproto/pds/dist/handle/reserved').reservedSubdomains
  for (const h of unreserve) delete reserved[h]
}

const log = (...a) => console.log(new Date().toISOString(), '[start-network]', ...a)

let network = null
let ctrl = null
let stopping = false

async function stop(code) {
  if (stopping) return
  stopping = true
  log('stopping')
  const hard = setTimeout(() => process.exit(code || 0), 15000)
  hard.unref()
  try { if (ctrl) ctrl.close() } catch (_) {}
  try { if (network) await network.close() } catch (e) { console.error('close failed', e) }
  try { if (process.env.READY_FILE) fs.rmSync(process.env.READY_FILE, { force: true }) } catch (_) {}
  try { if (process.env.PID_FILE) fs.rmSync(process.env.PID_FILE, { force: true }) } catch (_) {}
  log('stopped')
  process.exit(code || 0)
}
process.on('SIGTERM', () => stop(0))
process.on('SIGINT', () => stop(0))
process.on('SIGHUP', () => stop(0))

;(async () => {
  network = await TestNetwork.create({
    dbPostgresSchema: process.env.DB_POSTGRES_SCHEMA || 'realstack',
    plc: { port: PLC_PORT },
    pds: { port: PDS_PORT, hostname: 'localhost' },
    bsky: { port: APPVIEW_PORT },
    ozone: { port: OZONE_PORT },
  })
  const loop = (u) => u.replace('://localhost:', '://127.0.0.1:')
  const info = {
    pds: loop(network.pds.url),
    appview: loop(network.bsky.url),
    plc: loop(network.plc.url),
    ozone: loop(network.ozone.url),
    processAll: `http://127.0.0.1:${CTRL_PORT}/process-all`,
    ctrl: `http://127.0.0.1:${CTRL_PORT}`,
    appviewDid: network.bsky.serverDid || network.bsky.ctx.cfg.serverDid,
    pdsDid: network.pds.ctx.cfg.service.did,
    internalUrls: { pds: network.pds.url, appview: network.bsky.url, plc: network.plc.url },
    startupMs: Date.now() - t0,
    pid: process.pid,
  }

  // Serialise processAll calls: concurrent callers simply queue behind each other.
  let chain = Promise.resolve()
  const processAll = (timeout) => {
    const p = chain.then(() => network.processAll(timeout))
    chain = p.catch(() => {})
    return p
  }

  ctrl = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1')
    try {
      let body = { ok: true, ...info }
      if (url.pathname === '/process-all') {
        const t = parseInt(url.searchParams.get('timeout') || '10000', 10)
        const s = Date.now()
        await processAll(t)
        body.processAllMs = Date.now() - s
      } else if (url.pathname !== '/health' && url.pathname !== '/') {
        res.writeHead(404, { 'content-type': 'application/json' })
        return res.end(JSON.stringify({ ok: false, error: 'not found' }))
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    } catch (e) {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ok: false, error: String((e && e.stack) || e) }))
    }
  })
  await new Promise((resolve, reject) => {
    ctrl.once('error', reject)
    ctrl.listen(CTRL_PORT, '127.0.0.1', resolve)
  })

  info.startupMs = Date.now() - t0
  if (process.env.READY_FILE) {
    const tmp = process.env.READY_FILE + '.tmp'
    fs.mkdirSync(path.dirname(process.env.READY_FILE), { recursive: true })
    fs.writeFileSync(tmp, JSON.stringify(info, null, 2))
    fs.renameSync(tmp, process.env.READY_FILE) // atomic: readers never see a half-written file
  }
  log('ready', JSON.stringify(info))
})().catch((e) => {
  console.error('START FAILED', e)
  stop(1)
})
