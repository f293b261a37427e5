// The handler of job-handles.test.ts's probe job, in a file of its own so that the job loads it
// the way a module's jobs.ts loads its handlers: on the first job of the queue.
import type { Ctx } from '../../src/context/index.ts';
import type { JobInfo } from '../../src/jobs/index.ts';

export interface ProbePayload {
  count: number;
  label: string;
  at: string;
  tags: string[];
}

export const received: Array<{ data: ProbePayload; queue: string }> = [];

export async function recordProbe(_ctx: Ctx, data: ProbePayload, job: JobInfo): Promise<{ seen: number }> {
  received.push({ data, queue: job.name });
  return { seen: received.length };
}
