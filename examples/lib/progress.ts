/** A one-line progress bar on stderr (drawn only on a TTY, at most every 100 ms) and a time formatter. */
export const fmtTime = (ms: number): string =>
  ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${((ms % 60_000) / 1000).toFixed(0)} s`;

export class Progress {
  readonly #tty = process.stderr.isTTY === true;
  #last = 0;
  readonly #start = performance.now();
  readonly #cpu = process.cpuUsage();
  /** CPU time (user + system) of this process since the bar started, in ms: on a busy machine, less than the wall time. */
  cpuMs(): number {
    const d = process.cpuUsage(this.#cpu);
    return (d.user + d.system) / 1000;
  }
  constructor(
    readonly label: string,
    readonly total: number,
  ) {}
  /** Redraws the bar at step `done` of `total` with a free-form status text. */
  update(done: number, status: string): void {
    const now = performance.now();
    if (!this.#tty || (now - this.#last < 100 && done < this.total)) return;
    this.#last = now;
    const frac = Math.min(1, done / this.total),
      width = 20,
      filled = Math.round(frac * width);
    const line =
      `  ${this.label} [${'█'.repeat(filled)}${'·'.repeat(width - filled)}] ${(100 * frac).toFixed(0).padStart(3)}%` +
      `  ${status}  ${fmtTime(now - this.#start)}`;
    process.stderr.write(`\r${line.slice(0, (process.stderr.columns || 120) - 1)}\x1b[K`);
  }
  /** Clears the bar line (on a TTY) and returns the elapsed milliseconds. */
  done(): number {
    if (this.#tty) process.stderr.write('\r\x1b[K');
    return performance.now() - this.#start;
  }
}
