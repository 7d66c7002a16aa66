/** One progress line: redrawn in place on a terminal, a line per 10% step elsewhere (CI logs). */
export class ProgressLine {
  private lastBucket = -1;
  private drawn = false;
  private readonly tty = Boolean(process.stdout.isTTY);

  update(percent: number, label: string): void {
    const p = Math.max(0, Math.min(100, percent));
    if (this.tty) {
      const width = 30;
      const filled = Math.round((p / 100) * width);
      process.stdout.write(`\r    [${"#".repeat(filled)}${".".repeat(width - filled)}] ${p.toFixed(0).padStart(3)}% ${label}`.padEnd(100).slice(0, 110));
      this.drawn = true;
      return;
    }
    const bucket = Math.floor(p / 10);
    if (bucket !== this.lastBucket) {
      this.lastBucket = bucket;
      console.log(`    ${p.toFixed(0).padStart(3)}% ${label}`);
    }
  }

  done(): void {
    if (this.drawn) process.stdout.write("\n");
    this.drawn = false;
    this.lastBucket = -1;
  }
}
