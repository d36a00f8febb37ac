#!/usr/bin/env node
// `ark`: one command for every operator script (the table is in scripts/cli/ark.ts). Plain
// JavaScript so that it starts on every supported Node; tsx loads the TypeScript behind it.
import { register } from 'tsx/esm/api';

register();
await import('../scripts/cli/ark.ts');
