/**
 * The registry: every primitive's OpDef in one table typed `{ [P in Primitive]: OpDef<P> }`.
 * The compiler is the checklist: a primitive (a key of backend/backend.ts's KernelSigs) without an
 * OpDef here, without a `backward` (a rule or an explicit `null`), without a kernel in each backend
 * (or an explicit REFERENCE fallback), or without a row in test/ops' tables does not compile.
 * See docs/contributing.md.
 */
import type { Primitive } from '../backend/backend.js';
import type { OpDef } from './define.js';
import { conv2dDef, conv2dWeightDef, convTranspose2dDef, foldDef, unfoldDef } from './conv.js';
import { binaryDefs, castDef, unaryDefs, whereDef } from './elementwise.js';
import { gatherDef, scatterAddDef } from './indexing.js';
import { matmulDef } from './matmul.js';
import { concatDef, expandDef, permuteDef, reshapeDef, sliceDef, sliceScatterDef } from './movement.js';
import { maxPool2dIndicesDef, maxPoolGatherDef, maxPoolScatterDef } from './pool.js';
import { argReduceDefs, reduceDefs } from './reduce.js';
import { cumsumDef } from './scan.js';
import { fusedDefs } from './fused.js';
import { normDefs } from './norm-fused.js';
import { argsortDef } from './sort.js';

export type { Primitive } from '../backend/backend.js';
export type Registry = { readonly [P in Primitive]: OpDef<P> };

export const registry: Registry = {
  ...unaryDefs,
  ...binaryDefs,
  where: whereDef,
  cast: castDef,
  ...reduceDefs,
  ...argReduceDefs,
  matmul: matmulDef,
  reshape: reshapeDef,
  permute: permuteDef,
  expand: expandDef,
  slice: sliceDef,
  sliceScatter: sliceScatterDef,
  concat: concatDef,
  gather: gatherDef,
  scatterAdd: scatterAddDef,
  cumsum: cumsumDef,
  ...fusedDefs,
  ...normDefs,
  argsort: argsortDef,
  conv2d: conv2dDef,
  convTranspose2d: convTranspose2dDef,
  conv2dWeight: conv2dWeightDef,
  unfold: unfoldDef,
  fold: foldDef,
  maxPool2dIndices: maxPool2dIndicesDef,
  maxPoolGather: maxPoolGatherDef,
  maxPoolScatter: maxPoolScatterDef,
};

/** Every primitive, in registry order. */
export const PRIMITIVES = Object.keys(registry) as Primitive[];
