// The shared helper lives in lib/testing.ts.
export { mountTmpfs } from '../../testing.ts';
