import { Plugin } from 'prosemirror-state';
import { Decoration, DecorationSet } from 'prosemirror-view';
import { schema } from '../../shared/schema.js';

/** Shows `text` (CSS, from `data-placeholder`) while the document is one empty paragraph. */
export function placeholderPlugin(text: string): Plugin {
  return new Plugin({
    props: {
      decorations(state) {
        const doc = state.doc;
        if (doc.childCount !== 1) return null;
        const first = doc.firstChild!;
        if (first.type !== schema.nodes.paragraph || first.content.size !== 0) return null;
        return DecorationSet.create(doc, [Decoration.node(0, first.nodeSize, { class: 'ce-placeholder', 'data-placeholder': text })]);
      },
    },
  });
}
