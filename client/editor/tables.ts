import type { Node as PMNode } from 'prosemirror-model';
import { Plugin, TextSelection, type Command, type EditorState, type Transaction } from 'prosemirror-state';
import {
  addColumnAfter,
  addColumnBefore,
  addRowAfter,
  addRowBefore,
  columnResizing,
  deleteColumn,
  deleteRow,
  deleteTable,
  fixTables,
  goToNextCell,
  isInTable,
  mergeCells,
  selectedRect,
  splitCell,
  tableEditing,
} from 'prosemirror-tables';
import { ySyncPluginKey } from 'y-prosemirror';
import { MAX_CELL_SPAN } from '../../shared/rich-schema.js';
import { schema } from '../../shared/schema.js';

const { nodes } = schema;

/**
 * Tables (prosemirror-tables): insertion, the row/column/cell commands of the table bar,
 * keyboard navigation between cells, column resizing, and the repair of tables that concurrent
 * edits left ragged.
 *
 * Why the repair needs a rule here: prosemirror-tables' tableEditing plugin makes every table
 * rectangular after each transaction (fixTables: missing cells added). When Alice adds a column
 * while Bob adds a row, the merged table has a row one cell short; if every editor repaired it,
 * each would add its own cell, the cells would merge too, and the rows would be one cell too long
 * the other way, back and forth. So a change that came from others is repaired by one editor
 * only (the one with the lowest Yjs client id among those present, `isRepairLeader`, if it can
 * edit, REMOTE_REPAIR_DELAY_MS after the change); changes made here are repaired here, as usual. A table left ragged meanwhile still
 * shows (prosemirror-tables reads ragged tables) and is repaired by the next edit made in it.
 */

/** An empty rows × columns table, its first row a header row. */
export function createTable(rows: number, columns: number): PMNode {
  const cell = (type: typeof nodes.table_cell) => type.createAndFill()!;
  const row = (header: boolean) => nodes.table_row.create(null, Array.from({ length: columns }, () => cell(header ? nodes.table_header : nodes.table_cell)));
  return nodes.table.create(null, Array.from({ length: rows }, (_, index) => row(index === 0)));
}

/** Inserts a table (3 × 3 with a header row) after the current block, the caret in its first cell. */
export function insertTable(rows = 3, columns = 3): Command {
  return (state, dispatch) => {
    const { $from } = state.selection;
    if ($from.depth === 0) return false;
    // After the top-level block the caret is in, or replacing it when it is an empty paragraph.
    const depth = 1;
    const block = $from.node(depth);
    const replaceEmpty = block.type === nodes.paragraph && block.content.size === 0;
    const from = replaceEmpty ? $from.before(depth) : $from.after(depth);
    const to = replaceEmpty ? $from.after(depth) : from;
    const parent = $from.node(depth - 1);
    const index = $from.index(depth - 1) + (replaceEmpty ? 0 : 1);
    if (!parent.canReplaceWith(index, replaceEmpty ? index + 1 : index, nodes.table)) return false;
    if (dispatch) {
      const tr = state.tr.replaceWith(from, to, createTable(rows, columns));
      // Into the first cell's paragraph: table, row, cell, paragraph.
      dispatch(tr.setSelection(TextSelection.create(tr.doc, from + 4)).scrollIntoView());
    }
    return true;
  };
}

/** mergeCells, refused when the merged cell would span more than the schema allows. */
export const mergeSelectedCells: Command = (state, dispatch) => {
  if (!isInTable(state)) return false;
  try {
    const rect = selectedRect(state);
    if (rect.right - rect.left > MAX_CELL_SPAN || rect.bottom - rect.top > MAX_CELL_SPAN) return false;
  } catch {
    return false;
  }
  return mergeCells(state, dispatch);
};

/**
 * The table's first row as header cells, or back to ordinary cells, wherever the selection is
 * in the table (prosemirror-tables' toggleHeaderRow acts on the selected row).
 */
export const toggleHeaderRow: Command = (state, dispatch) => {
  if (!isInTable(state)) return false;
  if (dispatch) {
    const { map, table, tableStart } = selectedRect(state);
    const positions = map.cellsInRect({ left: 0, top: 0, right: map.width, bottom: 1 });
    const isHeader = positions.every((pos) => table.nodeAt(pos)!.type === nodes.table_header);
    const type = isHeader ? nodes.table_cell : nodes.table_header;
    const tr = state.tr;
    for (const pos of positions) tr.setNodeMarkup(tableStart + pos, type, table.nodeAt(pos)!.attrs);
    dispatch(tr);
  }
  return true;
};

/** Tab in a table: the next cell, and in the last cell a new row first. */
export const nextCellOrNewRow: Command = (state, dispatch) => {
  if (!isInTable(state)) return false;
  if (goToNextCell(1)(state, dispatch)) return true;
  if (!dispatch) return addRowAfter(state);
  return addRowAfter(state, (tr) => {
    // Into the first cell of the new row (the state after the row is added, only to find it).
    const next = state.apply(tr);
    goToNextCell(1)(next, (move) => {
      if (next.doc.eq(tr.doc)) tr.setSelection(TextSelection.create(tr.doc, move.selection.anchor, move.selection.head));
    });
    dispatch(tr.scrollIntoView());
  });
};

export const previousCell: Command = (state, dispatch) => isInTable(state) && goToNextCell(-1)(state, dispatch);

export interface TableAction {
  action: string;
  /** The rows' or the columns' buttons, shown after a "Row" or "Column" heading. */
  group: 'Row' | 'Column' | null;
  text: string;
  /** The accessible name, when the text alone says too little ("Above"); it contains the text. */
  label?: string;
  command: Command;
}

/** What the table bar offers while the selection is in a table. `action` names are stable (tests select them). */
export const tableActions: TableAction[] = [
  { action: 'row-above', group: 'Row', text: 'Above', label: 'Add a row above', command: addRowBefore },
  { action: 'row-below', group: 'Row', text: 'Below', label: 'Add a row below', command: addRowAfter },
  { action: 'delete-row', group: 'Row', text: 'Delete', label: 'Delete the row', command: deleteRow },
  { action: 'column-left', group: 'Column', text: 'Left', label: 'Add a column to the left', command: addColumnBefore },
  { action: 'column-right', group: 'Column', text: 'Right', label: 'Add a column to the right', command: addColumnAfter },
  { action: 'delete-column', group: 'Column', text: 'Delete', label: 'Delete the column', command: deleteColumn },
  { action: 'header-row', group: null, text: 'Header row', command: toggleHeaderRow },
  { action: 'merge-cells', group: null, text: 'Merge cells', command: mergeSelectedCells },
  { action: 'split-cell', group: null, text: 'Split cell', command: splitCell },
  { action: 'delete-table', group: null, text: 'Delete table', command: deleteTable },
];

export { isInTable };

/** Whether all of `transactions` came from others (y-prosemirror applying the shared document). */
function fromOthers(transactions: readonly Transaction[]): boolean {
  return transactions.every((tr) => (tr.getMeta(ySyncPluginKey) as { isChangeOrigin?: boolean } | undefined)?.isChangeOrigin === true);
}

/**
 * How long after a change from others the leader repairs. Who is present must have settled
 * first: right after a reconnection an editor sees only itself (y-websocket drops the others'
 * presence while offline) and would take itself for the leader; the others' presence arrives
 * with the first messages, well within this.
 */
const REMOTE_REPAIR_DELAY_MS = 750;

/**
 * prosemirror-tables' editing plugin (cell selection, arrow keys across cells, paste into cells,
 * repair) and column resizing. `isRepairLeader` says whether this editor repairs tables that
 * changes from others left ragged (see above).
 *
 * That repair cannot be an appendTransaction: y-prosemirror applies others' changes inside its
 * mutex and writes nothing back from that dispatch, so the repaired cells would show here and
 * never reach the document. It is dispatched on its own right after (a timer, cleared on destroy).
 */
export function tablePlugins(isRepairLeader: () => boolean): Plugin[] {
  const editing = tableEditing();
  const repair = editing.spec.appendTransaction!;
  const localRepairs = new Plugin({
    ...editing.spec,
    appendTransaction(transactions: readonly Transaction[], oldState: EditorState, newState: EditorState) {
      if (fromOthers(transactions)) return null;
      return repair.call(this, transactions, oldState, newState);
    },
  });
  const remoteRepairs = new Plugin({
    view(view) {
      let timer: ReturnType<typeof setTimeout> | null = null;
      return {
        update(_view, previous) {
          const sync = ySyncPluginKey.getState(view.state) as { isChangeOrigin?: boolean } | undefined;
          if (timer !== null || !sync?.isChangeOrigin || previous.doc.eq(view.state.doc)) return;
          timer = setTimeout(() => {
            timer = null;
            if (!view.editable || !isRepairLeader()) return;
            const tr = fixTables(view.state);
            if (tr) view.dispatch(tr);
          }, REMOTE_REPAIR_DELAY_MS);
        },
        destroy() {
          if (timer !== null) clearTimeout(timer);
        },
      };
    },
  });
  return [columnResizing({ cellMinWidth: 60 }), localRepairs, remoteRepairs];
}
