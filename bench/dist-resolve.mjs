import { pathToFileURL } from 'node:url';

// The resolve hook of bench/dist-hook.mjs: tapegrad's src/X.js (or .ts) → dist/X.js.
const src = new URL('../src/', import.meta.url).href;
// TAPEGRAD_DIST_DIR (a directory) times another build, e.g. an old commit's, side by side with this one.
const dir = process.env['TAPEGRAD_DIST_DIR'];
const dist = dir ? pathToFileURL(`${dir.replace(/\/$/, '')}/`).href : new URL('../dist/', import.meta.url).href;

export async function resolve(specifier, context, next) {
  const url = specifier.startsWith('/')
    ? pathToFileURL(specifier).href
    : specifier.startsWith('.') && context.parentURL
      ? new URL(specifier, context.parentURL).href
      : specifier;
  if (url.startsWith(src)) return next(dist + url.slice(src.length).replace(/\.ts$/, '.js'), context);
  return next(specifier, context);
}
