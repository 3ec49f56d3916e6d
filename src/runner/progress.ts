// The progress bar on a terminal (cli-progress): which point is running and how long it has left.
// While a point samples, output lines go through the bar so they do not tear it; between points
// they go straight to the terminal.

import cliProgress from 'cli-progress';
import type { Mode } from './workload.ts';

export class ProgressBar {
  private multi: cliProgress.MultiBar | null = null;
  private bar: cliProgress.SingleBar | null = null;
  private total = 0;

  constructor(private readonly interval_s: number, private readonly stream: NodeJS.WriteStream) {}

  point(index: number, count: number, mode: Mode, nr_tasks: number, samples: number): void {
    this.end_point();
    this.total = samples;
    this.multi = new cliProgress.MultiBar(
      { format: ' {point} |{bar}| {value}/{total} samples, {left} s left', stream: this.stream, hideCursor: true, clearOnComplete: true, autopadding: true },
      cliProgress.Presets.shades_classic,
    );
    this.bar = this.multi.create(samples, 0, { point: `point ${index + 1}/${count} ${mode}×${nr_tasks}`, left: Math.ceil(samples * this.interval_s) });
  }

  progress(taken: number): void {
    this.bar?.update(taken, { left: Math.ceil((this.total - taken) * this.interval_s) });
  }

  /** The point's sampling is over: flush what it logged and take the bar down. */
  end_point(): void {
    if (!this.multi) return;
    this.multi.update();
    this.multi.stop();
    this.multi = null;
    this.bar = null;
  }

  log(line: string): void {
    if (this.multi) this.multi.log(`${line}\n`);
    else this.stream.write(`${line}\n`);
  }
}
