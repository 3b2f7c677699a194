import { pathToFileURL } from 'node:url';

// The resolve hook of bench/dist-hook.mjs: tapegrad's src/X.js (or .ts) → dist/X.js.
const src = new URL('../src/', import.meta.url).href;
const dist = new URL('../dist/', import.meta.url).href;

export async function resolve(specifier, context, next) {
  const url = specifier.startsWith('/')
    ? pathToFileURL(specifier).href
    : specifier.startsWith('.') && context.parentURL
      ? new URL(specifier, context.parentURL).href
      : specifier;
  if (url.startsWith(src)) return next(dist + url.slice(src.length).replace(/\.ts$/, '.js'), context);
  return next(specifier, context);
}
