/**
 * CPU time and memory of a process tree from /proc (Linux). CPU per request is the growth of
 * utime+stime of every process of the proxy over a run, divided by the requests of that run.
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

export interface ProcStat {
  readonly pid: number
  readonly ppid: number
  /** user + system CPU time, in clock ticks */
  readonly ticks: number
}

/** Parses /proc/<pid>/stat. The command name (field 2) may hold spaces and parentheses: split after the last ')'. */
export function parseStat(text: string): ProcStat {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`)
  const pid = Number(text.slice(0, open).trim())
  // after ')': state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) flags(9) minflt(10) cminflt(11)
  // majflt(12) cmajflt(13) utime(14) stime(15)
  const f = text
    .slice(close + 1)
    .trim()
    .split(/\s+/)
  const ppid = Number(f[1])
  const utime = Number(f[11])
  const stime = Number(f[12])
  if (![pid, ppid, utime, stime].every(Number.isFinite)) throw new Error(`unreadable /proc/<pid>/stat line: ${text.slice(0, 120)}`)
  return { pid, ppid, ticks: utime + stime }
}

/** VmRSS of a /proc/<pid>/status text, in kB (0 when absent: a zombie). */
export function parseRssKb(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  return m === null ? 0 : Number(m[1])
}

function readStat(pid: number): ProcStat | null {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return null
  }
}

/** The root and all its descendants, alive now. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const s = readStat(Number(name))
    if (s === null) continue
    const list = children.get(s.ppid)
    if (list === undefined) children.set(s.ppid, [s.pid])
    else list.push(s.pid)
  }
  const out: number[] = []
  const queue = [root]
  while (queue.length > 0 && out.length < 10_000) {
    const pid = queue.shift() as number
    if (readStat(pid) === null) continue
    out.push(pid)
    for (const c of children.get(pid) ?? []) queue.push(c)
  }
  return out
}

/** Sum of utime+stime over the processes, in clock ticks. */
export function cpuTicks(pids: readonly number[]): number {
  let t = 0
  for (const pid of pids) t += readStat(pid)?.ticks ?? 0
  return t
}

/** Sum of VmRSS over the processes, in kB. */
export function rssKb(pids: readonly number[]): number {
  let kb = 0
  for (const pid of pids) {
    try {
      kb += parseRssKb(readFileSync(`/proc/${pid}/status`, 'utf8'))
    } catch {
      // gone
    }
  }
  return kb
}

let clkTck: number | undefined
/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux nearly everywhere). */
export function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
    } catch {
      clkTck = 100
    }
  }
  return clkTck
}
