import { lazyModule } from '../lazy-module.js';

/**
 * The content modules a server loads only when it first converts or diffs a document. Imported at
 * startup, they made a fresh server (SQLite, idle, 3 s after start) 104 MB resident rather than
 * 82 MB; the y-websocket reference server measures 58 MB the same way.
 */

/**
 * Markdown, HTML, JSON and text conversions (conversion.ts): linkedom and htmlparser2 (~18 MB),
 * markdown-it and prosemirror-markdown (~2 MB). Wanted by the content API, imports and version content.
 */
export const loadConversion = lazyModule(() => import('./conversion.js'));

/**
 * The minimal edit from a document to another (diff.ts): y-prosemirror's bindings (~0.5 MB; the
 * prosemirror-view they import is loaded anyway, by the schema's prosemirror-tables). Wanted by
 * content writes, imports and restores.
 */
export const loadDiff = lazyModule(() => import('./diff.js'));
