// Periodic work on node-cron schedules (UTC): each job is logged, measured
// (authwatch_job_runs_total{job,result}, authwatch_job_duration_seconds{job}) and never
// overlaps itself: a run that comes due while the previous one still works is skipped and
// counted as result="skipped". Jobs can be run directly (runJob) for tests and operators.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

export interface JobDefinition {
  name: string;
  /** five-field cron expression (minute hour day month weekday), evaluated in UTC */
  cron: string;
  /** returns a small summary for the log line (counts, never data) */
  run: () => Promise<Record<string, unknown> | void> | Record<string, unknown> | void;
}

export type JobResult = 'ok' | 'error' | 'skipped';

export interface JobRun {
  job: string;
  result: JobResult;
  summary?: Record<string, unknown>;
  error?: string;
}

export class UnknownJobError extends Error {
  readonly code = 'UNKNOWN_JOB';
}

export class InvalidCronError extends Error {
  readonly code = 'INVALID_CRON';
}

export class JobScheduler {
  private readonly jobs = new Map<string, JobDefinition>();
  private readonly running = new Map<string, Promise<JobRun>>();
  private readonly tasks: ScheduledTask[] = [];

  constructor(
    jobs: readonly JobDefinition[],
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {
    for (const j of jobs) {
      if (!cron.validate(j.cron)) throw new InvalidCronError(`job ${j.name}: "${j.cron}" is not a valid cron expression`);
      if (this.jobs.has(j.name)) throw new Error(`job ${j.name} is defined twice`);
      this.jobs.set(j.name, j);
    }
  }

  names(): string[] {
    return [...this.jobs.keys()];
  }

  start(): void {
    if (this.tasks.length) return;
    for (const j of this.jobs.values()) {
      // our own running flag (not node-cron's noOverlap) so skipped runs are counted and logged
      const task = cron.schedule(j.cron, () => this.runJob(j.name).then(() => undefined), { name: `authwatch-${j.name}`, timezone: 'UTC', unref: true });
      this.tasks.push(task);
    }
    this.logger.info({ jobs: [...this.jobs.values()].map((j) => `${j.name}@${j.cron}`) }, 'scheduled jobs started');
  }

  /** Stops the schedules and waits for runs in progress. */
  async stop(): Promise<void> {
    for (const t of this.tasks.splice(0)) await t.destroy();
    await Promise.allSettled([...this.running.values()]);
  }

  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  /** Runs a job now, unless it is already running (then the call is a counted skip). */
  runJob(name: string): Promise<JobRun> {
    const job = this.jobs.get(name);
    if (!job) return Promise.reject(new UnknownJobError(`no job named ${name}`));
    if (this.running.has(name)) {
      this.metrics?.jobRuns.inc({ job: name, result: 'skipped' });
      this.logger.warn({ job: name }, 'job still running; this run is skipped');
      return Promise.resolve({ job: name, result: 'skipped' });
    }
    const p = this.execute(job).finally(() => this.running.delete(name));
    this.running.set(name, p);
    return p;
  }

  private async execute(job: JobDefinition): Promise<JobRun> {
    const end = this.metrics?.jobSeconds.startTimer({ job: job.name });
    const started = performance.now();
    try {
      const summary = (await job.run()) ?? undefined;
      this.metrics?.jobRuns.inc({ job: job.name, result: 'ok' });
      this.logger.info({ job: job.name, ms: Math.round(performance.now() - started), ...(summary ? { summary } : {}) }, 'job finished');
      return { job: job.name, result: 'ok', summary };
    } catch (err) {
      const message = (err as Error).message;
      this.metrics?.jobRuns.inc({ job: job.name, result: 'error' });
      this.logger.error({ job: job.name, ms: Math.round(performance.now() - started), err: { message, code: (err as { code?: string }).code } }, 'job failed');
      return { job: job.name, result: 'error', error: message };
    } finally {
      end?.();
    }
  }
}
