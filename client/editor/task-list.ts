import type { Node as PMNode } from 'prosemirror-model';
import { liftListItem, sinkListItem, splitListItem, wrapInList } from 'prosemirror-schema-list';
import { Plugin, type Command, type EditorState } from 'prosemirror-state';
import type { EditorView, NodeView, ViewMutationRecord } from 'prosemirror-view';
import { schema } from '../../shared/schema.js';

const { nodes } = schema;

/**
 * Task lists: items with a checkbox, nested like any list. Checking one is an ordinary
 * attribute change of its task_item (setNodeMarkup), so it syncs through y-prosemirror and the
 * undo of the person who checked it takes it back.
 */

/** The position and node of the task item around the selection, if any. */
function taskItemAt(state: EditorState): { pos: number; node: PMNode } | null {
  const { $from } = state.selection;
  for (let depth = $from.depth; depth > 0; depth--) {
    const node = $from.node(depth);
    if (node.type === nodes.task_item) return { pos: $from.before(depth), node };
  }
  return null;
}

function setChecked(pos: number, node: PMNode, checked: boolean): Command {
  return (state, dispatch) => {
    if (dispatch) dispatch(state.tr.setNodeMarkup(pos, undefined, { ...node.attrs, checked }));
    return true;
  };
}

/** Checks or unchecks the task the caret is in (Mod-Enter). */
export const toggleTaskChecked: Command = (state, dispatch) => {
  const item = taskItemAt(state);
  if (!item) return false;
  return setChecked(item.pos, item.node, !item.node.attrs.checked)(state, dispatch);
};

/** Wraps the selection in a task list, or lifts it out of one. */
export const toggleTaskList: Command = (state, dispatch) => {
  if (taskItemAt(state)) return liftListItem(nodes.task_item)(state, dispatch);
  return wrapInList(nodes.task_list)(state, dispatch);
};

/** Enter makes a new unchecked task; Tab and Shift-Tab nest and unnest. */
export const splitTask: Command = splitListItem(nodes.task_item, { checked: false });
export const sinkTask: Command = sinkListItem(nodes.task_item);
export const liftTask: Command = liftListItem(nodes.task_item);

let nextId = 0;

/**
 * A task item drawn with a real checkbox beside its content. The checkbox is labelled by the
 * item's text, is out of the Tab order (Tab nests items in the editor; Mod-Enter checks from
 * the keyboard) and does nothing while the editor is read-only.
 */
class TaskItemView implements NodeView {
  dom: HTMLLIElement;
  contentDOM: HTMLDivElement;
  private checkbox: HTMLInputElement;

  constructor(
    private node: PMNode,
    private view: EditorView,
    private getPos: () => number | undefined,
  ) {
    this.dom = document.createElement('li');
    this.dom.dataset.type = 'taskItem';
    const box = document.createElement('span');
    box.className = 'ce-task-box';
    box.contentEditable = 'false';
    this.checkbox = document.createElement('input');
    this.checkbox.type = 'checkbox';
    this.checkbox.tabIndex = -1;
    this.contentDOM = document.createElement('div');
    this.contentDOM.className = 'ce-task-content';
    this.contentDOM.id = `ce-task-${++nextId}`;
    this.checkbox.setAttribute('aria-labelledby', this.contentDOM.id);
    box.appendChild(this.checkbox);
    this.dom.append(box, this.contentDOM);
    this.checkbox.addEventListener('mousedown', (event) => event.preventDefault()); // keep the editor's focus and selection
    this.checkbox.addEventListener('click', (event) => {
      event.preventDefault(); // the document decides; update() shows it
      const pos = this.getPos();
      if (pos === undefined || !this.view.editable) return;
      setChecked(pos, this.node, !this.node.attrs.checked)(this.view.state, this.view.dispatch);
    });
    this.render();
  }

  private render(): void {
    const checked = this.node.attrs.checked === true;
    this.dom.dataset.checked = String(checked);
    this.checkbox.checked = checked;
  }

  update(node: PMNode): boolean {
    if (node.type !== this.node.type) return false;
    this.node = node;
    this.render();
    return true;
  }

  stopEvent(event: Event): boolean {
    return event.target === this.checkbox;
  }

  ignoreMutation(mutation: ViewMutationRecord): boolean {
    if (mutation.type === 'selection') return false;
    // The checkbox and the item's own data attributes are ours, not content.
    return mutation.type === 'attributes' ? mutation.target === this.dom || mutation.target === this.checkbox : !this.contentDOM.contains(mutation.target);
  }
}

/** Draws task items with their checkbox. */
export function taskListPlugin(): Plugin {
  return new Plugin({
    props: { nodeViews: { task_item: (node, view, getPos) => new TaskItemView(node, view, getPos) } },
  });
}
