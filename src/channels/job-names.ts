// Queue names of the channels module (shared by the verbs that enqueue and jobs.ts that handles).
export const CREATE_JOB = 'channels.create';
export const RENEW_JOB = 'channels.renew';
export const STOP_JOB = 'channels.stop';
export const SWEEP_JOB = 'channels.sweep';
export const ENSURE_OWNER_JOB = 'channels.ensureOwner';
export const DRAIN_JOB = 'channels.drain';
export const SILENT_JOB = 'channels.silentSweep';
export const RECHECK_JOB = 'channels.pushRecheck';
