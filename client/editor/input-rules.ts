import { InputRule, inputRules, textblockTypeInputRule, wrappingInputRule } from 'prosemirror-inputrules';
import type { MarkType } from 'prosemirror-model';
import { TextSelection, type Plugin } from 'prosemirror-state';
import { findWrapping } from 'prosemirror-transform';
import { schema } from '../../shared/schema.js';

const { nodes, marks } = schema;

/**
 * Markdown shortcuts: typing Markdown's syntax formats as you type. Each is one ordinary
 * transaction (so y-prosemirror syncs it and undo takes it back for this person only), and
 * Backspace right after one turns it back into the typed text (undoInputRule in commands.ts).
 */

/**
 * `**bold**`-style: when the closing delimiter is typed, the delimited text gets `type` and the
 * delimiters go. The text before the opening delimiter must not be the delimiter character
 * (`***` is not bold-italic here) and the content must not start or end with a space, as in
 * CommonMark.
 */
function markRule(delimiter: string, type: MarkType, before = '^|[^' + delimiter[0] + ']'): InputRule {
  const d = delimiter.replace(/[*^$]/g, '\\$&');
  const c = delimiter[0] === '*' ? '\\*' : delimiter[0];
  const pattern = new RegExp(`(?:${before})(${d}([^${c}\\s](?:[^${c}]*[^${c}\\s])?)${d})$`);
  return new InputRule(pattern, (state, match, start, end) => {
    const whole = match[1]!;
    const inner = match[2]!;
    // `start` is where match[0] begins: skip the character before the delimiter.
    const from = start + match[0].length - whole.length;
    const $from = state.doc.resolve(from);
    if (!$from.parent.type.allowsMarkType(type)) return null;
    const tr = state.tr.replaceWith(from, end, schema.text(inner, type.create().addToSet($from.marks())));
    return tr.removeStoredMark(type);
  });
}

/** `[ ] ` or `[x] ` at the start of a paragraph: a task list (a one-item bullet list becomes one). */
const taskListRule = new InputRule(/^\s*\[([ xX]?)\]\s$/, (state, match, start, end) => {
  const checked = match[1] === 'x' || match[1] === 'X';
  const tr = state.tr.delete(start, end);
  const $start = tr.doc.resolve(start);
  const range = $start.blockRange();
  if (!range) return null;
  // Typed "- " then "[ ] ": the new bullet list of one item turns into a task list.
  const item = $start.depth >= 2 ? $start.node(-1) : null;
  const list = $start.depth >= 3 ? $start.node(-2) : null;
  if (item?.type === nodes.list_item && list?.type === nodes.bullet_list && list.childCount === 1 && $start.index(-1) === 0) {
    const listPos = $start.before(-2);
    tr.replaceWith(listPos, listPos + list.nodeSize, nodes.task_list.create(null, nodes.task_item.create({ checked }, item.content)));
    return tr.setSelection(TextSelection.create(tr.doc, start));
  }
  const wrapping = findWrapping(range, nodes.task_list);
  if (!wrapping) return null;
  const itemWrapper = wrapping.find((wrapper) => wrapper.type === nodes.task_item);
  if (itemWrapper) itemWrapper.attrs = { checked };
  return tr.wrap(range, wrapping);
});

/** "---" in an empty top-level paragraph becomes a horizontal rule. */
const horizontalRuleRule = new InputRule(/^---$/, (state, _match, start, end) => {
  const $start = state.doc.resolve(start);
  if ($start.depth !== 1 || $start.parent.type !== nodes.paragraph || $start.parent.content.size !== end - start) return null;
  const before = $start.before();
  const tr = state.tr.replaceWith(before, $start.after(), [nodes.horizontal_rule.create(), nodes.paragraph.create()]);
  return tr.setSelection(TextSelection.create(tr.doc, before + 2));
});

export function markdownShortcuts(): Plugin {
  return inputRules({
    rules: [
      textblockTypeInputRule(/^(#{1,6})\s$/, nodes.heading, (match) => ({ level: match[1]!.length })),
      wrappingInputRule(/^\s*>\s$/, nodes.blockquote),
      taskListRule,
      wrappingInputRule(/^\s*([-+*])\s$/, nodes.bullet_list),
      wrappingInputRule(
        /^(\d+)\.\s$/,
        nodes.ordered_list,
        (match) => ({ order: Number(match[1]) }),
        (match, node) => node.childCount + Number(node.attrs.order) === Number(match[1]),
      ),
      textblockTypeInputRule(/^```$/, nodes.code_block),
      horizontalRuleRule,
      markRule('**', marks.strong),
      markRule('__', marks.strong),
      markRule('~~', marks.strike),
      markRule('*', marks.em),
      // `_` inside words (snake_case) is not emphasis.
      markRule('_', marks.em, '^|[^\\w_]'),
      markRule('`', marks.code),
    ],
  });
}
