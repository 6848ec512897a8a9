import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { doctorOptions, doctorReport, exitCode, LIMITS } from '../../../src/doctor/report.js'
import { renderReport } from '../../../src/doctor/render.js'
import type { Finding } from '../../../src/doctor/types.js'

const svc = { kind: 'service', id: 'a1', name: 'billing' } as const
const refused: Finding = {
  check: 'tcp',
  severity: 'error',
  subject: svc,
  summary: 'connection refused: nothing listens on 10.0.0.5:8080 (billing.internal)',
  fix: "check the service's host and port",
}
const lb: Finding = {
  check: 'http',
  severity: 'warn',
  subject: svc,
  summary: '10.0.0.5:8080 itself answered 502 to HEAD /',
  fix: 'check the LB',
}
const ok: Finding = { check: 'dns', severity: 'ok', subject: { kind: 'service', id: 'a1', name: 'bad\x1b[31mname' }, summary: 'fine' }

describe('doctor options from a hostile query string', () => {
  test('defaults', () => {
    assert.deepEqual(doctorOptions(new URLSearchParams('')), {
      path: null,
      method: null,
      keepaliveWait: LIMITS.keepaliveWaitDefault,
      route: null,
      checks: 'all',
    })
  })
  test('values kept', () => {
    const o = doctorOptions(new URLSearchParams('path=/x%3Fy=1&method=GET&keepalive_wait=65&route=r1&checks=routes'))
    assert.deepEqual(o, { path: '/x?y=1', method: 'GET', keepaliveWait: 65, route: 'r1', checks: 'routes' })
  })
  test('refused: each with a message naming the option', () => {
    for (const [q, name] of [
      ['path=x', 'path'],
      ['path=/a b', 'path'],
      [`path=/${'a'.repeat(1024)}`, 'path'],
      ['method=PUT', 'method'],
      ['keepalive_wait=-1', 'keepalive_wait'],
      ['keepalive_wait=76', 'keepalive_wait'],
      ['keepalive_wait=1.5', 'keepalive_wait'],
      ['route=', 'route'],
      ['checks=none', 'checks'],
      ['route=a&route=b', 'route'],
    ] as const)
      assert.throws(() => doctorOptions(new URLSearchParams(q)), new RegExp(`^DoctorOptionError: ${name}:`), q)
  })
})

describe('doctor report: status and exit code', () => {
  test('the worst finding decides', () => {
    const r = doctorReport(
      'node',
      Date.now(),
      [{ id: 'a1', name: 'billing', url: 'http://x:1', status: 'error', findings: [ok, refused] }],
      [lb],
      0,
    )
    assert.equal(r.status, 'error')
    assert.equal(exitCode(r.status), 2)
    assert.equal(exitCode('warn'), 1)
    assert.equal(exitCode('ok'), 0)
    assert.equal(doctorReport('n', Date.now(), [], [], 0).status, 'ok')
  })
})

describe('rendering', () => {
  const report = doctorReport(
    'node',
    Date.now(),
    [{ id: 'a1', name: 'billing', url: 'http://x:1', status: 'error', findings: [ok, refused, lb] }],
    [],
    2,
  )
  test('plain: one line per finding with its fix, no escapes, a count at the end', () => {
    const text = renderReport(report, { color: false })
    const lines = text.trimEnd().split('\n')
    assert.equal(lines.length, 4)
    assert.equal(
      lines[1],
      "error  tcp            service billing: connection refused: nothing listens on 10.0.0.5:8080 (billing.internal); fix: check the service's host and port",
    )
    assert.doesNotMatch(text, /\x1b/)
    assert.match(lines[0] ?? '', /service bad\?\[31mname: fine/)
    assert.match(lines[3] ?? '', /^doctor: error: 1 service, 2 not probed \(cap\), 1 error, 1 warning, 1 ok/)
  })
  test('plain: the check column as wide as the longest check id; a node subject without a name', () => {
    const routeFinding: Finding = {
      check: 'plugin-refuses-all',
      severity: 'error',
      subject: { kind: 'node', id: null, name: null },
      summary: 'x',
    }
    const r = doctorReport(
      'n',
      Date.now(),
      [{ id: 'a1', name: 'billing', url: 'http://x:1', status: 'error', findings: [refused] }],
      [routeFinding],
      0,
    )
    const lines = renderReport(r, { color: false }).split('\n')
    assert.equal(lines[0]?.indexOf('service billing'), lines[1]?.indexOf('node: x'))
    assert.match(lines[1] ?? '', /^error  plugin-refuses-all  node: x$/)
  })

  test('ok route findings beyond three per check fold into one line; warnings all shown; counts cover all', () => {
    const strip = (i: number, severity: 'ok' | 'warn'): Finding => ({
      check: 'route-strip-path',
      severity,
      subject: { kind: 'route', id: `r${i}`, name: `r${i}` },
      summary: `GET /r${i}/x → upstream /x`,
    })
    const routes = [...Array.from({ length: 10 }, (_, i) => strip(i, 'ok')), strip(10, 'warn'), strip(11, 'warn')]
    const r = doctorReport('n', Date.now(), [], routes, 0)
    const lines = renderReport(r, { color: false }).trimEnd().split('\n')
    assert.equal(lines.filter((l) => l.startsWith('ok ')).length, 4)
    assert.equal(lines.filter((l) => l.startsWith('warn ')).length, 2)
    assert.match(lines.join('\n'), /ok +route-strip-path +node: … and 7 more ok findings of this check \(--json lists them all\)/)
    assert.match(lines.at(-1) ?? '', /2 warnings, 10 ok/)
  })

  test('colour: a table grouped by service, fixes under their finding', () => {
    const text = renderReport(report, { color: true })
    assert.match(text, /\x1b\[31m\x1b\[1mERROR/)
    assert.match(text, /service billing/)
    assert.match(text, /\n +\x1b\[2mfix: check the service's host and port/)
    assert.doesNotMatch(text.replace(/\x1b\[[0-9;]*m/g, ''), /\x1b/)
  })
})
