// The tRPC API of calwatch: one namespace per module. `AppRouter` is the type typed clients import.
import { router, systemRouter } from './api/index.ts';

export const appRouter = router({
  system: systemRouter,
});

export type AppRouter = typeof appRouter;
