// The oncall types' refs, declared before any is implemented: group, shift and swap refer to each other.
import { builder } from '../../api/index.ts';
import type { OncallGroup, Shift, Swap } from '../read-groups.ts';

export const OncallGroupRef = builder.objectRef<OncallGroup>('OncallGroup');
export const ShiftRef = builder.objectRef<Shift>('Shift');
export const SwapRef = builder.objectRef<Swap>('Swap');
