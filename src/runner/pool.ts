// The worker pool (piscina): one thread per task of the largest point, kept across points so a
// point's set-up does not pay for thread start-up. After a point whose tasks did not stop, the
// pool is destroyed (its threads terminated) and the next point gets a fresh one.

import { Piscina } from 'piscina';
import type { TaskMessage, TaskResult } from './control.ts';

export class TaskPool {
  private pool: Piscina | null = null;
  private size = 0;

  /** `worker`: the built worker entry (build.ts). */
  constructor(private readonly worker: string) {}

  /** Make sure `n` tasks can run at once. */
  ensure(n: number): void {
    if (this.pool && this.size >= n) return;
    void this.pool?.destroy();
    this.size = n;
    this.pool = new Piscina({
      filename: this.worker,
      minThreads: n,
      maxThreads: n,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 1,
      // Plain JavaScript: no loader for the workers (and none inherited from tsx or vitest).
      execArgv: [],
    });
  }

  run(msg: TaskMessage): Promise<TaskResult> {
    if (!this.pool) throw new Error('TaskPool.run before ensure');
    return this.pool.run(msg) as Promise<TaskResult>;
  }

  /** Terminate every thread, even one stuck in a loop. */
  async destroy(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    this.size = 0;
    if (p) await p.destroy();
  }
}
