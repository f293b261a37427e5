// An ID argument that must be a uuid (the ids of subscriptions and deliveries).
import { z } from 'zod';
import { AppError } from '../../errors/index.ts';

export function uuidArg(id: string | number): string {
  const s = String(id);
  if (!z.uuid().safeParse(s).success) throw new AppError('VALIDATION', `not an id: ${s}`);
  return s;
}
